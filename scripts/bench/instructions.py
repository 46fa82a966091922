#!/usr/bin/env python3
"""CPU counted, not timed (called by scripts/bench.sh; `--instructions` runs only this). Runs
workload B — N distinct chat cases (scripts/bench/gen_suite.py: schema, JSONPath and semantic
checks, every report written) at 0 ms and --concurrency 32 against the built-in endpoint —
under valgrind's callgrind, which counts the instructions the process executed. The count
repeats to within ~0.2 % run after run whatever else the machine does (the time does not:
a shared virtual machine's speed can move by a third within an hour), so it is the number to
compare two builds by when a change is a few per cent. Instructions are not time: a `memchr`
is a few wide instructions, a byte loop one per byte, a lock wait none. Prints the total and
per request for each run, writes OUT_DIR/instructions.md, and keeps each run's profile as
OUT_DIR/callgrind-RUN.out (`callgrind_annotate` reads it; the release binary is stripped, so
build `--profile profiling` for function names).

usage: instructions.py BINARY OUT_DIR [N] [RUNS]     (defaults: 2000 cases, 2 runs)
"""
import re
import shutil
import subprocess
import sys

if shutil.which("valgrind") is None:
    raise SystemExit("instructions: needs valgrind (apt-get install valgrind)")

from common import HERE, script_paths, serve, targets_file  # noqa: E402

N = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
RUNS = int(sys.argv[4]) if len(sys.argv) > 4 else 2
BIN, OUT, WORK = script_paths("instructions")


def run_once(i, suites, tf):
    """One run under callgrind: its instruction count."""
    rdir = WORK / "reports"
    shutil.rmtree(rdir, ignore_errors=True)
    log = WORK / f"callgrind-{i}.log"
    profile = OUT / f"callgrind-{i + 1}.out"
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={profile}", f"--log-file={log}",
           BIN, "run", "--suite", str(suites), "--targets", str(tf), "--target", "t0",
           "--concurrency", "32", "--no-progress", "--report-dir", str(rdir)]
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    counted = re.search(r"Collected : (\d+)", log.read_text()) if log.exists() else None
    if r.returncode != 0 or counted is None:
        raise SystemExit(f"instructions: run {i + 1} failed (exit {r.returncode}):\n"
                         + r.stderr[-2000:]
                         + (log.read_text()[-2000:] if log.exists() else ""))
    return int(counted.group(1))


def count():
    """The instruction count of each run."""
    server = None
    try:
        suites = WORK / f"suites-{N}"
        subprocess.run([sys.executable, str(HERE / "gen_suite.py"), str(suites), str(N)],
                       check=True)
        server, port = serve(BIN)
        tf = targets_file(WORK, [port])
        counts = []
        for i in range(RUNS):
            counts.append(run_once(i, suites, tf))
            print(f"  run {i + 1}: {counts[-1]:,} instructions, {counts[-1] / N:,.0f} per request",
                  file=sys.stderr)
        return counts
    finally:
        if server is not None:
            server.terminate()
            server.wait()
        shutil.rmtree(WORK, ignore_errors=True)


counts = count()
lo, hi = min(counts), max(counts)
table = [
    f"workload B under callgrind: {N:,} distinct chat cases, 0 ms, --concurrency 32, "
    f"{RUNS} run(s)",
    "",
    "| instructions (min–max) | per request | spread |",
    "|---|---|---|",
    f"| {lo:,}–{hi:,} | {lo / N:,.0f}–{hi / N:,.0f} | {100 * (hi - lo) / lo:.2f} % |",
]
print("\n".join(table))
(OUT / "instructions.md").write_text("\n".join(table) + "\n")
