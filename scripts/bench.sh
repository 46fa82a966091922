#!/usr/bin/env bash
# End-to-end benchmark: builds the release binary, starts local servers on 127.0.0.1 (the
# built-in endpoint via `llm-parity serve --delay-ms`, and a tiny TTFT server), runs the
# scenarios of docs/performance.md and prints one table: scenario, measured, target, ratio.
# Not part of scripts/test.sh (no timed tests). `--quick` runs smaller scenarios.
#
#   scripts/bench.sh [--quick]         # results.md, memory.md in target/bench ($CARGO_TARGET_DIR)
#   scripts/bench.sh --memory          # only peak memory against hostile and large bodies
#   cargo bench --bench hot            # the hot pure parts (divan)
#
# The release binary is stripped (Cargo.toml, [profile.release]); to profile a run, build the
# same code with line tables, `cargo build --profile profiling`, and point perf or valgrind at
# target/profiling/llm-parity (docs/performance.md, "What profiling found").
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 >/dev/null || { echo "bench: needs python3" >&2; exit 2; }

# The measuring tools, installed from Debian when missing: /usr/bin/time (peak RSS, CPU) is
# required; wrk, hyperfine and curl give the server-latency ideal and the side-by-side rows.
missing=()
for tool in time:/usr/bin/time wrk:wrk hyperfine:hyperfine curl:curl; do
    command -v "${tool#*:}" >/dev/null 2>&1 || missing+=("${tool%%:*}")
done
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    echo "bench: apt-get install ${missing[*]}" >&2
    if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
        $SUDO apt-get update -qq >/dev/null 2>&1 || true
        $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
            echo "bench: could not install ${missing[*]}; rows that need them are skipped" >&2
    fi
fi
command -v /usr/bin/time >/dev/null || { echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-target}/release/llm-parity"
out="${CARGO_TARGET_DIR:-target}/bench"
# `--memory`: only the peak-memory scenarios (hostile and large bodies, scripts/bench/memory.py).
if [[ " $* " == *" --memory "* ]]; then
    exec python3 scripts/bench/memory.py "$bin" "$out"
fi
python3 scripts/bench/run.py "$bin" "$out" "$@"
exec python3 scripts/bench/memory.py "$bin" "$out"
