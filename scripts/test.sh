#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this script; CONTRIBUTING.md,
# "Running the tests").
#   scripts/test.sh            formatting, lints, unit + integration tests (ignored ones too)
#
# Two integration tests need more than cargo and are marked #[ignore = "needs …"], so a plain
# `cargo test` lists them as ignored: the HTML report in a real browser (tests/it/html.rs) and
# the real third-party servers (tests/it/servers.rs; README.md, "Real third-party servers").
# This script installs what they need first (scripts/browser, scripts/servers) and runs them
# with --include-ignored; when they run, a missing dependency is a failure.
#
# Then scripts/install-test.sh installs the binary as a user would (`cargo install --path .`
# into a temporary root) and uses it from an empty directory (README "Install"); it counts as
# one test in the closing line. The GitHub Action's shell steps are run by tests/it/action.rs.
#
# It always ends with one line, `tests: N passed, M failed`, also when something failed.
set -uo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# Counts of the cargo test output so far (and the install test); printed on every way out.
extra_passed=0
extra_failed=0
summary() {
  local passed failed
  passed=$(grep -Eo '[0-9]+ passed' "$log" | awk -v x="$extra_passed" '{s+=$1} END {print s+x}')
  failed=$(grep -Eo '[0-9]+ failed' "$log" | awk -v x="$extra_failed" '{s+=$1} END {print s+x}')
  echo
  echo "tests: ${passed} passed, ${failed} failed"
}

# A step that fails ends the script (after the closing line) with its status.
must() {
  "$@"
  local status=$?
  if [[ $status -ne 0 ]]; then
    echo "test.sh: \`$*\` failed (exit $status)" >&2
    summary
    exit "$status"
  fi
}

step "cargo fmt --check"
must cargo fmt --all -- --check

step "cargo clippy (warnings are errors)"
must cargo clippy --workspace --all-targets -- -D warnings

# Headless chromium for the HTML report test (tests/it/html.rs).
step "browser (scripts/browser/install.sh)"
must bash scripts/browser/install.sh

# llama-cpp-python and the LiteLLM proxy for tests/it/servers.rs (cached in ~/.cache/llm-parity;
# the first install compiles llama.cpp, 10-25 min on 2 cores). Locally, LLM_PARITY_SKIP_SERVERS=1
# leaves that test out (it is then listed as filtered out, not passed); CI always runs it.
skip=()
if [[ -n "${CI:-}" || -z "${LLM_PARITY_SKIP_SERVERS:-}" ]]; then
  step "third-party servers (scripts/servers/install.sh)"
  must bash scripts/servers/install.sh
else
  echo "LLM_PARITY_SKIP_SERVERS is set: tests/it/servers.rs is left out of this run"
  skip=(--skip servers::)
fi

# The pinned client libraries for the client catalogue (tests/it/clients.rs; cached in
# ~/.cache/llm-parity/clients, a few minutes the first time). Always installed: the catalogue
# test fails in CI without them and says so locally.
step "client libraries (scripts/clients/install.sh)"
must bash scripts/clients/install.sh

step "cargo test (unit + integration, including the ignored ones)"
cargo test --workspace -- --include-ignored "${skip[@]}" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

step "install test (scripts/install-test.sh: cargo install into a temporary root, used elsewhere)"
if bash scripts/install-test.sh; then
  extra_passed=1
else
  extra_failed=1
  [[ $status -ne 0 ]] || status=1
fi

# Which tests failed, again at the end where a CI log is read first.
if [[ $status -ne 0 ]]; then
  echo
  echo "failed tests:"
  grep -E '^test .* \.\.\. FAILED$' "$log" | sed -E 's/^test (.*) \.\.\. FAILED$/  \1/' || true
  [[ $extra_failed -eq 0 ]] || echo "  scripts/install-test.sh"
fi

# One closing line for the whole run (cargo prints one per test binary, the last often a doc-test
# run with nothing in it).
summary
exit "$status"
