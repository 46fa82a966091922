#!/usr/bin/env python3
"""CPU counted, not timed (called by scripts/bench.sh; `--instructions` runs only this). Runs
workload B — N distinct chat cases (scripts/bench/gen_suite.py: schema, JSONPath and semantic
checks, every report written) at 0 ms and --concurrency 32 against the built-in endpoint —
under valgrind's callgrind, which counts the instructions the process executed. The count
repeats to within ~0.2 % run after run whatever else the machine does (the time does not:
a shared virtual machine's speed can move by a third within an hour), so it is the number to
compare two builds by when a change is a few per cent. Instructions are not time: a `memchr`
is a few wide instructions, a byte loop one per byte, a lock wait none. Prints the total and
per request, for each run, and writes OUT_DIR/instructions.md.

usage: instructions.py BINARY OUT_DIR [N] [RUNS]     (defaults: 2000 cases, 2 runs)
"""
import re
import shutil
import subprocess
import sys

from common import HERE, script_paths, serve, targets_file

BIN, OUT, WORK = script_paths("instructions")
N = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
RUNS = int(sys.argv[4]) if len(sys.argv) > 4 else 2

if shutil.which("valgrind") is None:
    raise SystemExit("instructions: needs valgrind (apt-get install valgrind)")

def count():
    """The instruction count of each run."""
    suites = WORK / f"suites-{N}"
    subprocess.run([sys.executable, str(HERE / "gen_suite.py"), str(suites), str(N)], check=True)
    server, port = serve(BIN)
    try:
        tf = targets_file(WORK, [port])
        counts = []
        for i in range(RUNS):
            rdir = WORK / "reports"
            shutil.rmtree(rdir, ignore_errors=True)
            log = WORK / f"callgrind-{i}.log"
            cmd = ["valgrind", "--tool=callgrind",
                   f"--callgrind-out-file={WORK}/callgrind-{i}.out", f"--log-file={log}",
                   BIN, "run", "--suite", str(suites), "--targets", str(tf), "--target", "t0",
                   "--concurrency", "32", "--no-progress", "--report-dir", str(rdir)]
            r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            m = re.search(r"Collected : (\d+)", log.read_text())
            if r.returncode != 0 or m is None:
                raise SystemExit(f"instructions: the run failed (exit {r.returncode}):\n"
                                 + log.read_text()[-2000:])
            counts.append(int(m.group(1)))
            print(f"  run {i + 1}: {counts[-1]:,} instructions, {counts[-1] / N:,.0f} per request",
                  file=sys.stderr)
        return counts
    finally:
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
