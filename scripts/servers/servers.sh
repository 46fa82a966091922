#!/usr/bin/env bash
# Real third-party OpenAI-compatible servers for llm-parity integration tests.
#
#   servers.sh install                 create/refresh the venvs (idempotent)
#   servers.sh start [--dir RUNDIR]    start llama-cpp-python + LiteLLM on 127.0.0.1
#   servers.sh stop  [--dir RUNDIR]    stop the PIDs recorded in RUNDIR (nothing else)
#   servers.sh status                  exit 0 if both venvs are installed, 1 otherwise
#
# See scripts/servers/README.md for what gets installed and what the servers
# answer on the wire.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
CACHE_DIR="${LLM_PARITY_CACHE:-${HOME:-/root}/.cache/llm-parity}"
VENVS_DIR="$CACHE_DIR/venvs"
MODELS_DIR="$CACHE_DIR/models"
DEFAULT_RUNDIR="${TMPDIR:-/tmp}/llm-parity-servers"
PYTHON_BIN="${LLM_PARITY_PYTHON:-python3}"

# ---- pinned versions (a change here makes `install` rebuild that venv) ------
LLAMA_CPP_PYTHON_VERSION="0.3.36"
GGUF_VERSION="0.19.0"
NUMPY_SPEC="numpy==2.4.6"      # the other resolved versions are recorded in the stamp
LITELLM_VERSION="1.106.2"
PRISMA_VERSION="0.15.0"

LLAMA_PKGS=("llama-cpp-python[server]==${LLAMA_CPP_PYTHON_VERSION}" "gguf==${GGUF_VERSION}" "${NUMPY_SPEC}")
LITELLM_PKGS=("litellm[proxy]==${LITELLM_VERSION}" "prisma==${PRISMA_VERSION}")

# ---- fixed test credentials (deliberately NOT shaped like real keys) ----------
LLAMA_API_KEY="llama-test-key"
LITELLM_MASTER_KEY="sk-litellm-master"   # sk- prefix as LiteLLM keys use; too short to look real

LLAMA_READY_TIMEOUT="${LLM_PARITY_LLAMA_READY_TIMEOUT:-60}"
LITELLM_READY_TIMEOUT="${LLM_PARITY_LITELLM_READY_TIMEOUT:-120}"

STAMP_NAME=".llm-parity-stamp"

log()  { printf '[servers] %s\n' "$*"; }
warn() { printf '[servers] WARNING: %s\n' "$*" >&2; }
die()  { printf '[servers] ERROR: %s\n' "$*" >&2; exit 1; }
now()  { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

usage() {
  sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

# Stamp contents: the pinned package specs plus the interpreter version. Any
# change means the venv is rebuilt from scratch.
stamp_for() {
  local name="$1"; shift
  local pyver
  pyver="$("$PYTHON_BIN" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
  printf 'venv=%s\npython=%s\n' "$name" "$pyver"
  printf 'pkg=%s\n' "$@"
}

venv_ok() {  # venv_ok NAME PKGS... -> 0 if the venv exists with a matching stamp
  local name="$1"; shift
  local dir="$VENVS_DIR/$name"
  [[ -x "$dir/bin/python" && -f "$dir/$STAMP_NAME" ]] || return 1
  # the stamp file has the expected lines first, then "resolved=" lines
  diff -q <(stamp_for "$name" "$@") <(grep -v '^resolved=' "$dir/$STAMP_NAME") >/dev/null 2>&1 || return 1
  "$dir/bin/python" -c 'import sys' >/dev/null 2>&1
}

# ------------------------------------------------------------------ install ---
ensure_apt_prereqs() {
  local missing=()
  command -v cmake >/dev/null 2>&1 || missing+=(cmake)
  { command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1; } || missing+=(build-essential)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  "$PYTHON_BIN" -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
  if ((${#missing[@]} == 0)); then
    log "apt prerequisites present (cmake, build-essential, curl, venv)"
    return 0
  fi
  local t0; t0="$(now)"
  log "apt prerequisites missing: ${missing[*]}"
  local SUDO=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install ${missing[*]}"
    SUDO=(sudo -n)
  fi
  export DEBIAN_FRONTEND=noninteractive
  # `apt-get update` only when the package lists are absent or the install fails.
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    log "apt package lists are empty: running apt-get update"
    "${SUDO[@]}" apt-get update -q
  fi
  if ! "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
    log "apt-get install failed: running apt-get update and retrying"
    "${SUDO[@]}" apt-get update -q
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  log "apt-get install ${missing[*]}: done in $(elapsed "$t0") s"
}

install_venv() {  # install_venv NAME PKGS...
  local name="$1"; shift
  local dir="$VENVS_DIR/$name"
  if venv_ok "$name" "$@"; then
    log "$name: up to date ($dir)"
    return 0
  fi
  local t0; t0="$(now)"
  if [[ -e "$dir" ]]; then
    log "$name: stamp missing or pinned versions changed: rebuilding"
    rm -rf -- "$dir"
  fi
  log "$name: creating venv at $dir"
  mkdir -p "$VENVS_DIR"
  # Build at the final path (venvs are not relocatable); mark it incomplete
  # until pip succeeded by writing the stamp last.
  "$PYTHON_BIN" -m venv "$dir"
  log "$name: pip install $*"
  CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
  PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$dir/bin/python" -m pip install --progress-bar off "$@"
  log "$name: import check"
  case "$name" in
    venv-llama) "$dir/bin/python" -c 'import llama_cpp, llama_cpp.server.app, gguf, numpy; print("  llama_cpp", llama_cpp.__version__)' ;;
    venv-litellm) LITELLM_LOCAL_MODEL_COST_MAP=True "$dir/bin/python" -c 'import litellm, prisma, litellm.proxy.proxy_server; print("  litellm proxy importable")' ;;
  esac
  {
    stamp_for "$name" "$@"
    "$dir/bin/python" -m pip freeze --all 2>/dev/null | sed 's/^/resolved=/'
  } >"$dir/$STAMP_NAME.tmp"
  mv -f "$dir/$STAMP_NAME.tmp" "$dir/$STAMP_NAME"
  log "$name: installed in $(elapsed "$t0") s"
}

cmd_install() {
  local t0; t0="$(now)"
  mkdir -p "$CACHE_DIR"
  # Serialise concurrent installs into the same cache.
  exec 9>"$CACHE_DIR/install.lock"
  if ! flock -n 9; then
    log "another install holds $CACHE_DIR/install.lock: waiting"
    flock 9
  fi
  log "cache: $CACHE_DIR"
  ensure_apt_prereqs
  install_venv venv-llama "${LLAMA_PKGS[@]}"
  install_venv venv-litellm "${LITELLM_PKGS[@]}"
  local t1; t1="$(now)"
  ensure_models
  log "models ready in $(elapsed "$t1") s"
  log "install finished in $(elapsed "$t0") s"
  "$VENVS_DIR/venv-llama/bin/python" -m pip show llama-cpp-python gguf numpy 2>/dev/null | grep -E '^(Name|Version):' | paste - - | sed 's/^/[servers]   /'
  "$VENVS_DIR/venv-litellm/bin/python" -m pip show litellm prisma 2>/dev/null | grep -E '^(Name|Version):' | paste - - | sed 's/^/[servers]   /'
}

# ------------------------------------------------------------------- models ---
ensure_models() {
  local py="$VENVS_DIR/venv-llama/bin/python"
  [[ -x "$py" ]] || die "venv-llama is not installed: run '$SCRIPT_DIR/servers.sh install'"
  local gen="$SCRIPT_DIR/make_tiny_gguf.py"
  # regenerate when the generator or the venv (gguf/numpy versions) changes
  local want; want="$(cat "$gen" "$VENVS_DIR/venv-llama/$STAMP_NAME" 2>/dev/null | sha256sum | cut -d' ' -f1)"
  local stamp="$MODELS_DIR/.inputs-sha256"
  if [[ -f "$MODELS_DIR/tiny-llama.gguf" && -f "$MODELS_DIR/tiny-llama-embed.gguf" && -f "$stamp" \
        && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  log "generating tiny GGUF models in $MODELS_DIR"
  mkdir -p "$MODELS_DIR"
  "$py" "$gen" --out-dir "$MODELS_DIR"
  printf '%s\n' "$want" >"$stamp"
}

# -------------------------------------------------------------- start/stop ---
parse_dir_arg() {  # sets RUNDIR
  RUNDIR="$DEFAULT_RUNDIR"
  while (($#)); do
    case "$1" in
      --dir) [[ $# -ge 2 ]] || die "--dir needs a value"; RUNDIR="$2"; shift 2 ;;
      --dir=*) RUNDIR="${1#--dir=}"; shift ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown argument: $1" ;;
    esac
  done
  mkdir -p "$RUNDIR"
  RUNDIR="$(cd "$RUNDIR" && pwd)"
}

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# A recorded PID is only acted on if its command line still mentions RUNDIR
# (guards against PID reuse after a reboot or a crash).
pid_is_ours() {
  local pid="$1"
  pid_alive "$pid" || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$RUNDIR/"
}

free_ports() {  # prints N free 127.0.0.1 ports chosen by the OS
  "$PYTHON_BIN" - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
PY
}

# Start "$@" detached in its own session; its log goes to $2; the real PID
# (after exec) is written to $1.
spawn() {
  local pidfile="$1" logfile="$2"; shift 2
  rm -f -- "$pidfile"
  # shellcheck disable=SC2016  # $$ and $@ expand in the child shell
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >"$logfile" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 100; i++)); do
    [[ -s "$pidfile" ]] && break
    sleep 0.05
  done
  [[ -s "$pidfile" ]] || die "could not start: $*"
  cat "$pidfile"
}

show_log_tail() {
  local name="$1" logfile="$2"
  printf '[servers] ---- last 40 lines of %s (%s) ----\n' "$name" "$logfile" >&2
  tail -n 40 "$logfile" >&2 || true
  printf '[servers] ---- end of %s log ----\n' "$name" >&2
}

wait_ready() {  # wait_ready NAME PID LOG TIMEOUT URL [curl args...]
  local name="$1" pid="$2" logfile="$3" timeout="$4" url="$5"; shift 5
  local t0; t0="$(now)"
  local deadline=$(( $(date +%s) + timeout ))
  while :; do
    if ! pid_alive "$pid"; then
      warn "$name (pid $pid) exited during startup"
      show_log_tail "$name" "$logfile"
      return 1
    fi
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" 2>/dev/null || true)"
    if [[ "$code" == 200 ]]; then
      log "$name ready after $(elapsed "$t0") s (pid $pid)"
      return 0
    fi
    if (( $(date +%s) >= deadline )); then
      warn "$name not ready after ${timeout} s (last HTTP status: ${code:-none}) at $url"
      show_log_tail "$name" "$logfile"
      return 1
    fi
    sleep 0.25
  done
}

terminate_pid() {  # terminate_pid NAME PID
  local name="$1" pid="$2"
  if ! pid_alive "$pid"; then
    log "$name (pid $pid): not running"
    return 0
  fi
  if ! pid_is_ours "$pid"; then
    warn "$name: pid $pid is alive but its command line does not mention $RUNDIR: not touching it"
    return 0
  fi
  local t0; t0="$(now)"
  kill -TERM "$pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    pid_alive "$pid" || break
    sleep 0.1
  done
  if pid_alive "$pid"; then
    warn "$name (pid $pid) still alive after 10 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do pid_alive "$pid" || break; sleep 0.1; done
  fi
  if pid_alive "$pid"; then
    warn "$name (pid $pid) could not be stopped"
    return 1
  fi
  log "$name (pid $pid) stopped in $(elapsed "$t0") s"
}

write_llama_config() {  # write_llama_config FILE PORT
  "$PYTHON_BIN" - "$1" "$2" "$MODELS_DIR" "$LLAMA_API_KEY" <<'PY'
import json, sys
path, port, models, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
common = {"n_ctx": 2048, "n_threads": 2, "n_threads_batch": 2, "verbose": False}
cfg = {
    "host": "127.0.0.1",
    "port": port,
    "api_key": key,
    # By default llama-cpp-python aborts an in-flight stream whenever another request arrives
    # ("interrupt_requests"); a conformance run sends requests concurrently, so queue them.
    "interrupt_requests": False,
    "models": [
        dict(model=f"{models}/tiny-llama.gguf", model_alias="tiny-llama",
             chat_format="chatml-function-calling", seed=1, **common),
        dict(model=f"{models}/tiny-llama-embed.gguf", model_alias="tiny-llama-embed",
             embedding=True, **{**common, "n_ctx": 512}),
    ],
}
with open(path, "w") as f:
    json.dump(cfg, f, indent=2)
    f.write("\n")
PY
}

write_litellm_config() {  # write_litellm_config FILE LLAMA_PORT
  local file="$1" lport="$2"
  cat >"$file" <<YAML
# Generated by scripts/servers/servers.sh start -- do not edit.
model_list:
  - model_name: llama-chat
    litellm_params:
      model: openai/tiny-llama
      api_base: http://127.0.0.1:${lport}/v1
      api_key: ${LLAMA_API_KEY}
  # The Responses API through LiteLLM's bridge onto chat completions. An openai/ model gets
  # /responses forwarded to its backend as-is (llama-cpp-python has none: a relayed 404, then
  # the deployment in cooldown); a custom_openai/ model has no native Responses config, so
  # LiteLLM translates. The litellm-router target maps its 'responses' role to this model.
  - model_name: llama-responses
    litellm_params:
      model: custom_openai/tiny-llama
      api_base: http://127.0.0.1:${lport}/v1
      api_key: ${LLAMA_API_KEY}
  - model_name: llama-embed
    litellm_params:
      model: openai/tiny-llama-embed
      api_base: http://127.0.0.1:${lport}/v1
      api_key: ${LLAMA_API_KEY}
    model_info:
      mode: embedding
  - model_name: mock-chat
    litellm_params:
      model: openai/mock-chat
      mock_response: "Hello from the LiteLLM mock."
  - model_name: mock-embed
    litellm_params:
      model: openai/mock-embed
      mock_response: [0.1, 0.2, 0.3]
    model_info:
      mode: embedding

litellm_settings:
  telemetry: false

general_settings:
  master_key: ${LITELLM_MASTER_KEY}
YAML
}

STARTED_PIDS=()
STARTED_NAMES=()
cleanup_started() {
  local i
  for ((i = ${#STARTED_PIDS[@]} - 1; i >= 0; i--)); do
    terminate_pid "${STARTED_NAMES[$i]}" "${STARTED_PIDS[$i]}" || true
  done
  rm -f -- "$RUNDIR/llama.pid" "$RUNDIR/litellm.pid"
}

cmd_start() {
  parse_dir_arg "$@"
  local t0; t0="$(now)"
  venv_ok venv-llama "${LLAMA_PKGS[@]}" || die "venv-llama is not installed (or outdated): run '$SCRIPT_DIR/servers.sh install'"
  venv_ok venv-litellm "${LITELLM_PKGS[@]}" || die "venv-litellm is not installed (or outdated): run '$SCRIPT_DIR/servers.sh install'"
  command -v curl >/dev/null 2>&1 || die "curl is required (run install)"

  local envfile="$RUNDIR/servers.env"
  if [[ -f "$envfile" ]]; then
    local old_llama old_litellm
    old_llama="$(sed -n 's/^LLAMA_PID=//p' "$envfile")"
    old_litellm="$(sed -n 's/^LITELLM_PID=//p' "$envfile")"
    if pid_is_ours "$old_llama" || pid_is_ours "$old_litellm"; then
      die "servers from $envfile are still running (pids ${old_llama:-?} ${old_litellm:-?}): run '$SCRIPT_DIR/servers.sh stop --dir $RUNDIR' first"
    fi
    rm -f -- "$envfile"
  fi

  ensure_models
  mkdir -p "$RUNDIR/logs"
  local ports llama_port litellm_port
  ports="$(free_ports 2)"
  read -r llama_port litellm_port <<<"$ports"
  log "rundir: $RUNDIR  ports: llama-cpp-python=$llama_port litellm=$litellm_port"

  write_llama_config "$RUNDIR/llama-config.json" "$llama_port"
  write_litellm_config "$RUNDIR/litellm-config.yaml" "$llama_port"

  trap 'cleanup_started' EXIT
  local llama_log="$RUNDIR/logs/llama-cpp-python.log" litellm_log="$RUNDIR/logs/litellm.log"

  # --- llama-cpp-python ---
  local t1; t1="$(now)"
  local llama_pid
  llama_pid="$(spawn "$RUNDIR/llama.pid" "$llama_log" \
      "$VENVS_DIR/venv-llama/bin/python" -m llama_cpp.server --config_file "$RUNDIR/llama-config.json")"
  STARTED_PIDS+=("$llama_pid"); STARTED_NAMES+=("llama-cpp-python")
  wait_ready llama-cpp-python "$llama_pid" "$llama_log" "$LLAMA_READY_TIMEOUT" \
      "http://127.0.0.1:$llama_port/v1/models" -H "Authorization: Bearer $LLAMA_API_KEY" \
    || die "llama-cpp-python failed to start"
  local llama_ready; llama_ready="$(elapsed "$t1")"

  # --- LiteLLM proxy ---
  local t2; t2="$(now)"
  local litellm_pid
  # The LITELLM_LOCAL_* flags make LiteLLM use its bundled copies instead of
  # fetching the cost map / beta headers / presets from GitHub at startup.
  litellm_pid="$(env LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOCAL_ANTHROPIC_BETA_HEADERS=True \
      LITELLM_LOCAL_BLOG_POSTS=True LITELLM_LOCAL_POLICY_TEMPLATES=True \
      LITELLM_LOCAL_AUTOROUTER_PRESETS=True LITELLM_TELEMETRY=False \
      NO_DOCS=True DISABLE_ADMIN_UI=True \
      "$SCRIPT_DIR/servers.sh" __spawn "$RUNDIR/litellm.pid" "$litellm_log" \
      "$VENVS_DIR/venv-litellm/bin/litellm" --config "$RUNDIR/litellm-config.yaml" \
      --host 127.0.0.1 --port "$litellm_port")"
  STARTED_PIDS+=("$litellm_pid"); STARTED_NAMES+=("litellm")
  wait_ready litellm "$litellm_pid" "$litellm_log" "$LITELLM_READY_TIMEOUT" \
      "http://127.0.0.1:$litellm_port/health/liveliness" \
    || die "LiteLLM proxy failed to start"
  local litellm_ready; litellm_ready="$(elapsed "$t2")"

  cat >"$envfile.tmp" <<ENV
# Written by scripts/servers/servers.sh start on $(date -u +%Y-%m-%dT%H:%M:%SZ)
LLAMA_BASE_URL=http://127.0.0.1:${llama_port}/v1
LLAMA_API_KEY=${LLAMA_API_KEY}
LITELLM_BASE_URL=http://127.0.0.1:${litellm_port}/v1
LITELLM_API_KEY=${LITELLM_MASTER_KEY}
LLAMA_PID=${llama_pid}
LITELLM_PID=${litellm_pid}
LLM_PARITY_SERVERS_DIR=${RUNDIR}
ENV
  mv -f "$envfile.tmp" "$envfile"
  trap - EXIT
  log "llama-cpp-python: http://127.0.0.1:${llama_port}/v1  pid ${llama_pid}  ready in ${llama_ready} s  log ${llama_log}"
  log "litellm proxy:    http://127.0.0.1:${litellm_port}/v1  pid ${litellm_pid}  ready in ${litellm_ready} s  log ${litellm_log}"
  log "env file: $envfile  (total start $(elapsed "$t0") s)"
}

cmd_stop() {
  parse_dir_arg "$@"
  local envfile="$RUNDIR/servers.env"
  local llama_pid="" litellm_pid=""
  if [[ -f "$envfile" ]]; then
    llama_pid="$(sed -n 's/^LLAMA_PID=//p' "$envfile")"
    litellm_pid="$(sed -n 's/^LITELLM_PID=//p' "$envfile")"
  else
    # start may have died before writing servers.env: fall back to pid files
    [[ -f "$RUNDIR/llama.pid" ]] && llama_pid="$(cat "$RUNDIR/llama.pid")"
    [[ -f "$RUNDIR/litellm.pid" ]] && litellm_pid="$(cat "$RUNDIR/litellm.pid")"
  fi
  if [[ -z "$llama_pid$litellm_pid" ]]; then
    log "nothing recorded in $RUNDIR: nothing to stop"
    return 0
  fi
  local rc=0
  [[ -n "$litellm_pid" ]] && { terminate_pid litellm "$litellm_pid" || rc=1; }
  [[ -n "$llama_pid" ]] && { terminate_pid llama-cpp-python "$llama_pid" || rc=1; }
  if ((rc == 0)); then
    rm -f -- "$envfile" "$RUNDIR/llama.pid" "$RUNDIR/litellm.pid"
  fi
  return "$rc"
}

cmd_status() {
  local rc=0
  if venv_ok venv-llama "${LLAMA_PKGS[@]}"; then
    log "venv-llama:   installed ($VENVS_DIR/venv-llama)"
  else
    log "venv-llama:   NOT installed or outdated (run scripts/servers/servers.sh install)"; rc=1
  fi
  if venv_ok venv-litellm "${LITELLM_PKGS[@]}"; then
    log "venv-litellm: installed ($VENVS_DIR/venv-litellm)"
  else
    log "venv-litellm: NOT installed or outdated (run scripts/servers/servers.sh install)"; rc=1
  fi
  local envfile="$DEFAULT_RUNDIR/servers.env"
  if [[ -f "$envfile" ]]; then
    log "servers.env present in $DEFAULT_RUNDIR (servers may be running)"
  fi
  return "$rc"
}

main() {
  local cmd="${1:-}"
  (($#)) && shift
  case "$cmd" in
    install) (($# == 0)) || die "install takes no arguments"; cmd_install ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status ;;
    __spawn) spawn "$@" ;;
    -h|--help|help) usage ;;
    "") usage; exit 2 ;;
    *) usage >&2; die "unknown command: $cmd" ;;
  esac
}

main "$@"
