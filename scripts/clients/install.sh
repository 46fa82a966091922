#!/usr/bin/env bash
# The client libraries of the client catalogue (clients/catalogue.yaml), at their pinned
# versions, for the probes in clients/ (docs/clients.md):
#
#   scripts/clients/install.sh          install or refresh (idempotent; cached)
#   scripts/clients/install.sh --print  print the environment the probes run with
#
# Python: a venv at $CACHE/clients/venv from clients/python/requirements.txt (every dependency
# pinned). Node: $CACHE/clients/node/node_modules from clients/node/package-lock.json (npm ci).
# Each is rebuilt only when its pin file or the interpreter changes (a stamp beside it).
# $CACHE is $LLM_PARITY_CACHE or ~/.cache/llm-parity, as for scripts/servers.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
CACHE_DIR="${LLM_PARITY_CACHE:-${HOME:-/root}/.cache/llm-parity}"
DIR="$CACHE_DIR/clients"
VENV="$DIR/venv"
NODE_DIR="$DIR/node"
PYTHON_BIN="${LLM_PARITY_PYTHON:-python3}"
STAMP=".llm-parity-stamp"

log() { printf '[clients] %s\n' "$*"; }
die() { printf '[clients] ERROR: %s\n' "$*" >&2; exit 1; }

if [[ "${1:-}" == "--print" ]]; then
  printf 'LLM_PARITY_CLIENTS_PYTHON=%s\n' "$VENV/bin/python"
  printf 'LLM_PARITY_CLIENTS_NODE_PATH=%s\n' "$NODE_DIR/node_modules"
  exit 0
fi

python_stamp() {
  "$PYTHON_BIN" -c 'import sys; print("python=%d.%d.%d" % sys.version_info[:3])'
  sha256sum "$ROOT/clients/python/requirements.txt" | cut -d' ' -f1
}

node_stamp() {
  printf 'node=%s\n' "$(node --version)"
  sha256sum "$ROOT/clients/node/package-lock.json" | cut -d' ' -f1
}

install_python() {
  if [[ -x "$VENV/bin/python" && -f "$VENV/$STAMP" ]] && diff -q <(python_stamp) "$VENV/$STAMP" >/dev/null 2>&1; then
    log "python clients: up to date ($VENV)"
    return 0
  fi
  log "python clients: installing into $VENV"
  rm -rf -- "$VENV"
  "$PYTHON_BIN" -m venv "$VENV"
  PIP_NO_INPUT=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    "$VENV/bin/python" -m pip install --quiet --progress-bar off --no-deps -r "$ROOT/clients/python/requirements.txt"
  "$VENV/bin/python" -c 'import openai, langchain_openai, pydantic' || die "the python clients do not import"
  python_stamp >"$VENV/$STAMP"
  log "python clients: installed"
}

install_node() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || die "node and npm are needed for the Node probes"
  if [[ -d "$NODE_DIR/node_modules" && -f "$NODE_DIR/$STAMP" ]] && diff -q <(node_stamp) "$NODE_DIR/$STAMP" >/dev/null 2>&1; then
    log "node clients: up to date ($NODE_DIR)"
    return 0
  fi
  log "node clients: installing into $NODE_DIR"
  rm -rf -- "$NODE_DIR"
  mkdir -p "$NODE_DIR"
  cp "$ROOT/clients/node/package.json" "$ROOT/clients/node/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && npm ci --no-audit --no-fund --loglevel=error)
  node_stamp >"$NODE_DIR/$STAMP"
  log "node clients: installed"
}

mkdir -p "$DIR"
# Serialise concurrent installs into the same cache.
exec 9>"$DIR/install.lock"
flock 9
install_python
install_node
