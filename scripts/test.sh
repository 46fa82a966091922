#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script).
#   scripts/test.sh            formatting, lints, unit + integration tests
# Integration tests that need third-party servers or a browser install and start them through
# the project's own scripts (scripts/servers, scripts/browser); see README "Tests".
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

log=$(mktemp)
trap 'rm -f "$log"' EXIT

bash scripts/browser/install.sh  # headless chromium for the HTML report test (tests/it/html.rs)

# llama-cpp-python and the LiteLLM proxy for tests/it/servers.rs (cached in ~/.cache/llm-parity;
# the first install compiles llama.cpp, 10-25 min on 2 cores). Locally, LLM_PARITY_SKIP_SERVERS=1
# skips them (the test then says so); CI always installs and runs them.
if [[ -n "${CI:-}" || -z "${LLM_PARITY_SKIP_SERVERS:-}" ]]; then
  step "third-party servers (scripts/servers/install.sh)"
  bash scripts/servers/install.sh
fi

# The pinned client libraries for the client catalogue (tests/it/clients.rs; cached in
# ~/.cache/llm-parity/clients, a few minutes the first time). Always installed: the catalogue
# test fails in CI without them and says so locally.
step "client libraries (scripts/clients/install.sh)"
bash scripts/clients/install.sh

step "cargo test (unit + integration against wiremock and the built-in reference endpoint)"
cargo test --workspace 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# One closing line for the whole run (cargo prints one per test binary, the last often a doc-test
# run with nothing in it).
passed=$(grep -Eo '[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
failed=$(grep -Eo '[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
echo
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
