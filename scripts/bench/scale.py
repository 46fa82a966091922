#!/usr/bin/env python3
"""Growth with the number of distinct cases and targets (called by scripts/bench.sh; `--scale`
runs only this). Runs N distinct chat cases (scripts/bench/gen_suite.py: schema, JSONPath and
semantic checks, every report written) on T targets (all the built-in endpoint, `llm-parity
serve`, 0 ms) at --concurrency 32, for each NxT given, and prints one table: cases, targets,
wall time, requests per second, own CPU per request, peak RSS. Also writes it to
OUT_DIR/scale.md. Marks a run that started on a busy machine (load average above its cores):
its times are not to be trusted; its memory figures are.

usage: scale.py BINARY OUT_DIR [NxT,NxT,…]
       (default 1000x1,10000x1,100000x1,10000x2,10000x4)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import serve, targets_file, timed

BIN = os.path.abspath(sys.argv[1])
OUT = Path(sys.argv[2]).resolve()
RUNS = [tuple(int(x) for x in r.split("x")) for r in
        (sys.argv[3] if len(sys.argv) > 3 else "1000x1,10000x1,100000x1,10000x2,10000x4").split(",")]
HERE = Path(__file__).resolve().parent
OUT.mkdir(parents=True, exist_ok=True)
WORK = Path(tempfile.mkdtemp(prefix="llm-parity-scale-"))
MIB = 1024 * 1024


def run(n, targets, port):
    suites = WORK / f"suites-{n}"
    if not suites.exists():
        subprocess.run([sys.executable, str(HERE / "gen_suite.py"), str(suites), str(n)], check=True)
    tf = targets_file(WORK, [port] * targets)
    rdir = WORK / "reports"
    shutil.rmtree(rdir, ignore_errors=True)
    cmd = [BIN, "run", "--suites-dir", str(suites), "--targets", str(tf), "--concurrency", "32",
           "--no-progress", "--report-dir", str(rdir)]
    for i in range(targets):
        cmd += ["--target", f"t{i}"]
    wall, cpu, peak, load, r = timed(cmd, WORK)
    written = sorted(p.name for p in rdir.iterdir()) if rdir.exists() else []
    report = json.loads((rdir / "report.json").read_text()) if "report.json" in written else {}
    got = len(report.get("results", []))
    status = "ok" if got == n * targets else f"{got}/{n * targets} results (exit {r.returncode})"
    return wall, cpu, peak, load, status, written


def main():
    server, port = serve(BIN)
    rows = []
    try:
        for n, targets in RUNS:
            wall, cpu, peak, load, status, written = run(n, targets, port)
            reqs = n * targets
            rows.append((n, targets, wall, reqs / wall, cpu / reqs * 1000, peak, load, status))
            print(f"  {n} cases x {targets} target(s): {wall:.2f} s, {reqs / wall:,.0f} req/s, "
                  f"{cpu / reqs * 1000:.3f} ms CPU/request, peak {peak / MIB:.0f} MiB, "
                  f"load {load:.1f}; {status}; {', '.join(written)}", flush=True)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(WORK, ignore_errors=True)
    cores = os.cpu_count() or 1
    lines = ["| cases | targets | wall | req/s | own CPU per request | peak RSS | load average | reports |",
             "|---|---|---|---|---|---|---|---|"]
    for n, t, wall, rps, cpu, peak, load, status in rows:
        busy = " (busy: times not trusted)" if load > cores else ""
        lines.append(f"| {n:,} | {t} | {wall:.2f} s | {rps:,.0f} | {cpu:.3f} ms | "
                     f"{peak / MIB:.0f} MiB | {load:.1f}{busy} | {status} |")
    table = "\n".join(lines)
    (OUT / "scale.md").write_text(table + "\n")
    print()
    print(table)


main()
