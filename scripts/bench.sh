#!/usr/bin/env bash
# End-to-end benchmark: builds the release binary, starts local servers on 127.0.0.1 (the
# built-in endpoint via `llm-parity serve --delay-ms`, and a tiny TTFT server), runs the
# scenarios of docs/performance.md and prints one table: scenario, measured, target, ratio.
# Not part of scripts/test.sh (no timed tests). `--quick` runs smaller scenarios.
#
#   scripts/bench.sh [--quick]         # results.md, memory.md, streams.md, side.md, scale.md
#                                      # in $CARGO_TARGET_DIR/bench (default target/bench)
#   scripts/bench.sh --memory          # only peak memory against hostile and large bodies
#   scripts/bench.sh --streams         # only the cost of a stream per byte (plain, many small
#                                      # events, tool call; four sizes; with and without --record)
#   scripts/bench.sh --side [RUNS [ABCD]]
#                                      # only the side by side with Hurl, oha and wrk (5 runs;
#                                      # workloads A–D of docs/performance.md, all by default)
#   scripts/bench.sh --scale [--large] [NxT,…]
#                                      # only the growth: 1k and 10k cases × 1, 2, 4 targets
#                                      # (--large adds the 100k rows, several minutes)
#   scripts/bench.sh --instructions [N [RUNS]]
#                                      # only workload B (N = 2,000 distinct cases) under
#                                      # callgrind: instructions per request, repeatable to
#                                      # ~0.2 % on a busy machine (needs valgrind; installed)
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
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
missing=()
tools="time:/usr/bin/time wrk:wrk hyperfine:hyperfine curl:curl"
case " $* " in *" --instructions "*) tools="$tools valgrind:valgrind" ;; esac
for tool in $tools; do
    command -v "${tool#*:}" >/dev/null 2>&1 || missing+=("${tool%%:*}")
done
if [ ${#missing[@]} -gt 0 ]; then
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
mkdir -p "$out"
out=$(cd "$out" && pwd)

# The peers of the side by side, built once from crates.io into the project's cache (as the
# test servers are: $LLM_PARITY_CACHE or ~/.cache/llm-parity) and kept there, so removing a
# target directory does not rebuild them (the build directory is removed after each install).
# Hurl links libcurl and libxml2 (its libxml bindings are generated with libclang).
export BENCH_TOOLS="${LLM_PARITY_CACHE:-${HOME:-/root}/.cache/llm-parity}/bench-tools"
install_peer() { # crate@version, binary
    [ -x "$BENCH_TOOLS/bin/$2" ] && return 0
    echo "bench: cargo install $1 (once; kept in $BENCH_TOOLS)" >&2
    mkdir -p "$BENCH_TOOLS"
    if CARGO_TARGET_DIR="$BENCH_TOOLS/build" cargo install --locked --quiet --root "$BENCH_TOOLS" "$1" \
        >"$out/install-$2.log" 2>&1; then
        rm -rf "$BENCH_TOOLS/build"
    else
        echo "bench: could not install $1 ($out/install-$2.log); its rows are skipped" >&2
    fi
}
peers() {
    if [ ! -x "$BENCH_TOOLS/bin/hurl" ]; then
        $SUDO apt-get install -y -qq --no-install-recommends libcurl4-openssl-dev libxml2-dev libclang-dev \
            pkg-config >/dev/null 2>&1 || true
    fi
    # Pinned: the side by side compares the same tools run after run (Hurl 8.1 needs a newer
    # rustc than the project's toolchain).
    install_peer oha@1.16.0 oha
    install_peer hurl@8.0.1 hurl
}

case " $* " in
*" --memory "*) exec python3 scripts/bench/memory.py "$bin" "$out" ;;
*" --streams "*) exec python3 scripts/bench/streams.py "$bin" "$out" ;;
*" --side "*) peers; shift; exec python3 scripts/bench/side.py "$bin" "$out" "$@" ;;
*" --scale "*) shift; exec python3 scripts/bench/scale.py "$bin" "$out" "$@" ;;
*" --instructions "*) shift; exec python3 scripts/bench/instructions.py "$bin" "$out" "$@" ;;
esac
python3 scripts/bench/run.py "$bin" "$out" "$@"
python3 scripts/bench/memory.py "$bin" "$out"
python3 scripts/bench/streams.py "$bin" "$out"
peers
python3 scripts/bench/side.py "$bin" "$out"
exec python3 scripts/bench/scale.py "$bin" "$out"
