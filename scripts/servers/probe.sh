#!/usr/bin/env bash
# Send a fixed set of requests to the servers started by `servers.sh start`
# and dump what came back (status, content-type, time, body) for each target.
#
#   probe.sh [--dir RUNDIR] [--out OUTDIR] [--only CASE,CASE...] [--target NAME,...]
#
# Targets: llama-direct (llama-cpp-python), litellm-llama (LiteLLM -> llama),
# litellm-mock (LiteLLM mock_response models). Only 127.0.0.1 is contacted.
# Writes OUTDIR/<target>/<case>.{req,hdr,body} and OUTDIR/summary.md; prints
# the summary. Bodies of streams are kept whole in the .body files.
set -euo pipefail

RUNDIR="${TMPDIR:-/tmp}/llm-parity-servers"
OUT=""
ONLY=""
TARGETS="llama-direct,litellm-llama,litellm-mock"
while (($#)); do
  case "$1" in
    --dir) RUNDIR="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --target) TARGETS="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "probe.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
ENVFILE="$RUNDIR/servers.env"
[[ -f "$ENVFILE" ]] || { echo "probe.sh: $ENVFILE not found: run servers.sh start first" >&2; exit 1; }
set -a
# shellcheck disable=SC1090
source "$ENVFILE"
set +a
OUT="${OUT:-$RUNDIR/probe}"
mkdir -p "$OUT"
SUMMARY="$OUT/summary.md"
: >"$SUMMARY"

TOOLS='[{"type":"function","function":{"name":"get_weather","description":"Get the weather","parameters":{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}}}]'
MSG='[{"role":"user","content":"Say hello."}]'

want_case() { [[ -z "$ONLY" || ",$ONLY," == *",$1,"* ]]; }

# req TARGET CASE METHOD PATH KEYMODE BODY
#   KEYMODE: key | nokey | badkey ; BODY: JSON text, or "" for none
req() {
  local target="$1" case="$2" method="$3" path="$4" keymode="$5" body="$6"
  want_case "$case" || return 0
  local dir="$OUT/$target"; mkdir -p "$dir"
  local url="$BASE$path"
  local args=(-sS -X "$method" --max-time 120 -D "$dir/$case.hdr" -o "$dir/$case.body"
              -w '%{http_code} %{time_total}')
  case "$keymode" in
    key) args+=(-H "Authorization: Bearer $KEY") ;;
    badkey) args+=(-H "Authorization: Bearer wrong-key-123") ;;
    nokey) ;;
  esac
  if [[ -n "$body" ]]; then
    args+=(-H 'Content-Type: application/json' --data-binary "$body")
  fi
  printf '%s %s\nkey: %s\n%s\n' "$method" "$url" "$keymode" "$body" >"$dir/$case.req"
  local res status secs
  res="$(curl "${args[@]}" "$url" 2>"$dir/$case.err" || true)"
  status="${res%% *}"; secs="${res##* }"
  local ctype
  ctype="$(grep -i '^content-type:' "$dir/$case.hdr" 2>/dev/null | tail -n1 | cut -d' ' -f2- | tr -d '\r' || true)"
  local excerpt
  if grep -q '^data: ' "$dir/$case.body" 2>/dev/null; then
    local n; n="$(grep -c '^data: ' "$dir/$case.body")"
    excerpt="SSE $n data lines; first: $(grep '^data: ' "$dir/$case.body" | head -n1 | cut -c1-300) ... second-last: $(grep '^data: ' "$dir/$case.body" | tail -n2 | head -n1 | cut -c1-400) ... last: $(grep '^data: ' "$dir/$case.body" | tail -n1 | cut -c1-120)"
  else
    excerpt="$(tr '\n' ' ' <"$dir/$case.body" 2>/dev/null | cut -c1-500)"
  fi
  [[ -s "$dir/$case.err" ]] && excerpt="$excerpt [curl: $(tr '\n' ' ' <"$dir/$case.err")]"
  # double-backtick code span: single backticks in bodies stay verbatim
  # shellcheck disable=SC2016
  printf '| %s | %s | %s | %s | %ss | `` %s `` |\n' "$target" "$case" "$status" "${ctype:--}" "$secs" \
    "$(printf '%s' "$excerpt" | sed 's/|/\\|/g')" | tee -a "$SUMMARY"
}

probe_target() {
  local target="$1" CHAT EMB RESP
  case "$target" in
    llama-direct)  BASE="$LLAMA_BASE_URL";   KEY="$LLAMA_API_KEY";   CHAT=tiny-llama; EMB=tiny-llama-embed; RESP=tiny-llama ;;
    litellm-llama) BASE="$LITELLM_BASE_URL"; KEY="$LITELLM_API_KEY"; CHAT=llama-chat; EMB=llama-embed; RESP=llama-responses ;;
    litellm-mock)  BASE="$LITELLM_BASE_URL"; KEY="$LITELLM_API_KEY"; CHAT=mock-chat;  EMB=mock-embed; RESP=mock-chat ;;
    *) echo "unknown target $target" >&2; return 1 ;;
  esac
  req "$target" models GET /models key ""
  req "$target" models-nokey GET /models nokey ""
  req "$target" models-badkey GET /models badkey ""
  req "$target" model-get GET "/models/$CHAT" key ""
  req "$target" model-get-unknown GET /models/no-such-model key ""
  req "$target" chat POST /chat/completions key "{\"model\":\"$CHAT\",\"messages\":$MSG,\"max_tokens\":8}"
  req "$target" stream POST /chat/completions key "{\"model\":\"$CHAT\",\"messages\":$MSG,\"max_tokens\":8,\"stream\":true}"
  req "$target" stream-usage POST /chat/completions key "{\"model\":\"$CHAT\",\"messages\":$MSG,\"max_tokens\":8,\"stream\":true,\"stream_options\":{\"include_usage\":true}}"
  req "$target" bad-model POST /chat/completions key "{\"model\":\"no-such-model\",\"messages\":$MSG,\"max_tokens\":8}"
  req "$target" bad-key POST /chat/completions badkey "{\"model\":\"$CHAT\",\"messages\":$MSG,\"max_tokens\":8}"
  req "$target" no-key POST /chat/completions nokey "{\"model\":\"$CHAT\",\"messages\":$MSG,\"max_tokens\":8}"
  req "$target" no-messages POST /chat/completions key "{\"model\":\"$CHAT\",\"max_tokens\":8}"
  req "$target" malformed-json POST /chat/completions key "{\"model\":\"$CHAT\",\"messages\":["
  req "$target" n2 POST /chat/completions key "{\"model\":\"$CHAT\",\"messages\":$MSG,\"max_tokens\":8,\"n\":2}"
  req "$target" tool-named POST /chat/completions key "{\"model\":\"$CHAT\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}],\"max_tokens\":48,\"tools\":$TOOLS,\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}}"
  req "$target" tool-named-stream POST /chat/completions key "{\"model\":\"$CHAT\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}],\"max_tokens\":16,\"stream\":true,\"tools\":$TOOLS,\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}}}"
  req "$target" tool-required POST /chat/completions key "{\"model\":\"$CHAT\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}],\"max_tokens\":48,\"tools\":$TOOLS,\"tool_choice\":\"required\"}"
  req "$target" tool-auto POST /chat/completions key "{\"model\":\"$CHAT\",\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}],\"max_tokens\":16,\"tools\":$TOOLS,\"tool_choice\":\"auto\"}"
  req "$target" json-schema POST /chat/completions key "{\"model\":\"$CHAT\",\"messages\":[{\"role\":\"user\",\"content\":\"Reply in JSON.\"}],\"max_tokens\":32,\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"r\",\"strict\":true,\"schema\":{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"}},\"required\":[\"ok\"],\"additionalProperties\":false}}}}"
  req "$target" json-object POST /chat/completions key "{\"model\":\"$CHAT\",\"messages\":[{\"role\":\"user\",\"content\":\"Reply in JSON.\"}],\"max_tokens\":32,\"response_format\":{\"type\":\"json_object\"}}"
  req "$target" embeddings POST /embeddings key "{\"model\":\"$EMB\",\"input\":[\"hello world\",\"second input\"]}"
  req "$target" embeddings-base64 POST /embeddings key "{\"model\":\"$EMB\",\"input\":\"hello world\",\"encoding_format\":\"base64\"}"
  req "$target" embeddings-bad-model POST /embeddings key "{\"model\":\"no-such-model\",\"input\":\"hello world\"}"
  req "$target" responses POST /responses key "{\"model\":\"$RESP\",\"input\":\"Say hello.\",\"max_output_tokens\":16}"
  req "$target" responses-stream POST /responses key "{\"model\":\"$RESP\",\"input\":\"Say hello.\",\"max_output_tokens\":16,\"stream\":true}"
  req "$target" responses-openai-model POST /responses key "{\"model\":\"$CHAT\",\"input\":\"Say hello.\",\"max_output_tokens\":16}"
}

printf '| target | case | status | content-type | time | body excerpt |\n|---|---|---|---|---|---|\n' | tee -a "$SUMMARY"
IFS=',' read -r -a tlist <<<"$TARGETS"
for t in "${tlist[@]}"; do probe_target "$t"; done
echo "raw dumps: $OUT" >&2
