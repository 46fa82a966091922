#!/usr/bin/env python3
"""Growth with the number of distinct cases and targets (called by scripts/bench.sh; `--scale`
runs only this). Runs N distinct chat cases (scripts/bench/gen_suite.py: schema, JSONPath and
semantic checks, every report written) on T targets (each the built-in endpoint, `llm-parity
serve`, 0 ms; one server per target) at --concurrency 32, for each NxT, and prints one table:
cases, targets, wall time, requests per second, own CPU per request, peak RSS, the CPU other
work took during the run and whether every report was written with every result. Also writes
it to OUT_DIR/scale.md. A run during which other work took more than a fifth of a core
(common.py) has its time columns marked: they are not the tool's alone; CPU time and peak RSS
are.

usage: scale.py BINARY OUT_DIR [--large] [NxT,NxT,…]
       default: 1k and 10k cases × 1, 2 and 4 targets; --large adds 100k × 1, 2 and 4 (minutes)
"""
import json
import shutil
import subprocess
import sys

from common import HERE, MIB, busy, load_mark, script_paths, serve, targets_file, timed

BIN, OUT, WORK = script_paths("scale")
ARGS = sys.argv[3:]
LARGE = "--large" in ARGS
ARGS = [a for a in ARGS if a != "--large"]
SIZES = [1000, 10000] + ([100000] if LARGE else [])
RUNS = ([tuple(int(x) for x in r.split("x")) for r in ARGS[0].split(",")] if ARGS else
        [(n, t) for n in SIZES for t in (1, 2, 4)])
REPORTS = ["junit.xml", "report.html", "report.json", "report.md"]


def run(n, ports):
    suites = WORK / f"suites-{n}"
    if not suites.exists():
        subprocess.run([sys.executable, str(HERE / "gen_suite.py"), str(suites), str(n)], check=True)
    tf = targets_file(WORK, ports)
    rdir = WORK / "reports"
    shutil.rmtree(rdir, ignore_errors=True)
    cmd = [BIN, "run", "--suite", str(suites), "--targets", str(tf), "--concurrency", "32",
           "--no-progress", "--report-dir", str(rdir)]
    for i in range(len(ports)):
        cmd += ["--target", f"t{i}"]
    wall, cpu, peak, load, r, _ = timed(cmd, WORK)
    written = sorted(p.name for p in rdir.iterdir()) if rdir.exists() else []
    got = 0
    if "report.json" in written:
        with open(rdir / "report.json") as f:
            got = len(json.load(f).get("results", []))
    want = n * len(ports)
    missing = [x for x in REPORTS if x not in written]
    if got == want and not missing:
        status = "all 4"
    else:
        status = f"{got:,}/{want:,} results, missing {', '.join(missing) or 'none'} (exit {r.returncode})"
    return wall, cpu, peak, load, status


def growth(rows):
    """Per number of targets, how time and memory grow with the cases: CPU per request (flat
    when time is linear in the cases) and peak RSS (flat when memory is) from the smallest to
    the largest run, as lines under the table."""
    out = []
    for t in sorted({t for _, t, *_ in rows}):
        rs = sorted((r for r in rows if r[1] == t), key=lambda r: r[0])
        if len(rs) < 2:
            continue
        sizes = " → ".join(f"{r[0]:,}" for r in rs)
        cpu = " → ".join(f"{r[4]:.3f}" for r in rs)
        peak = " → ".join(f"{r[5] / MIB:.0f}" for r in rs)
        out.append(f"- {t} target(s), {sizes} cases: CPU per request {cpu} ms "
                   f"(×{rs[-1][4] / rs[0][4]:.2f}); peak RSS {peak} MiB (×{rs[-1][5] / rs[0][5]:.2f} "
                   f"for ×{rs[-1][0] // rs[0][0]} cases)")
    return ("\n\nGrowth:\n" + "\n".join(out)) if out else ""


def main():
    servers = [serve(BIN) for _ in range(max(t for _, t in RUNS))]
    rows = []
    try:
        for n, targets in RUNS:
            wall, cpu, peak, load, status = run(n, [port for _, port in servers[:targets]])
            reqs = n * targets
            rows.append((n, targets, wall, reqs / wall, cpu / reqs * 1000, peak, load, status))
            print(f"  {n:,} cases x {targets} target(s): {wall:.2f} s, {reqs / wall:,.0f} req/s, "
                  f"{cpu / reqs * 1000:.3f} ms CPU/request, peak {peak / MIB:.0f} MiB, "
                  f"others {load:.2f} cores; reports: {status}", flush=True)
    finally:
        for p, _ in servers:
            p.terminate()
            p.wait()
        shutil.rmtree(WORK, ignore_errors=True)
    lines = ["| cases | targets | wall | req/s | own CPU per request | peak RSS | other work (cores) "
             "| reports written |", "|---|---|---|---|---|---|---|---|"]
    for n, t, wall, rps, cpu, peak, load, status in rows:
        # On a busy machine the time columns are printed for comparison only.
        mark = " (busy)" if busy(load) else ""
        lines.append(f"| {n:,} | {t} | {wall:.2f} s{mark} | {rps:,.0f}{mark} | {cpu:.3f} ms | "
                     f"{peak / MIB:.0f} MiB | {load_mark(load)} | {status} |")
    machine = subprocess.run(["sh", "-c", "uname -srm; nproc; grep -m1 'model name' /proc/cpuinfo"],
                             capture_output=True, text=True).stdout.strip().replace("\n", "; ")
    table = f"machine: {machine}\n\n" + "\n".join(lines) + growth(rows)
    (OUT / "scale.md").write_text(table + "\n")
    print()
    print(table)


main()
