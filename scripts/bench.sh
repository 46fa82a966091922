#!/usr/bin/env bash
# End-to-end benchmark: builds the release binary, starts local servers on 127.0.0.1 (the
# built-in endpoint via `llm-parity serve --delay-ms`, and a tiny TTFT server), runs the
# scenarios of docs/performance.md and prints one table: scenario, measured, target, ratio.
# Not part of scripts/test.sh (no timed tests). `--quick` runs smaller scenarios.
#
#   scripts/bench.sh [--quick]         # results also in target/bench/results.md
#   cargo bench --bench hot            # the hot pure parts (divan)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || { echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "bench: needs python3" >&2; exit 2; }
cargo build --release --quiet
exec python3 scripts/bench/run.py target/release/llm-parity target/bench "$@"
