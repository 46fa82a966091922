#!/usr/bin/env python3
"""End-to-end benchmark of llm-parity (called by scripts/bench.sh after the release build).

Runs the scenarios of issue 9 against local servers on 127.0.0.1 only (the built-in endpoint as
`llm-parity serve`, and ttft_server.py), then prints one table: scenario, measured, target,
ratio (measured / target; <= 1 meets the target). Also writes it to OUT_DIR/results.md.

usage: run.py BINARY OUT_DIR [--quick]
"""
import json
import shutil
import statistics
import subprocess
import sys
import time

from common import HERE, free_port, script_paths, targets_file, timed, wait_port

BIN, OUT, WORK = script_paths("bench")
QUICK = "--quick" in sys.argv
REPO = HERE.parent.parent
procs = []
rows = []  # (scenario, measured, target, ratio)
notes = []


def start(cmd, port):
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)
    wait_port(port)
    return p


def serve(delay_ms=0):
    port = free_port()
    start([BIN, "serve", "--port", str(port), "--delay-ms", str(delay_ms)], port)
    return port


def suite(n, kind="chat"):
    d = WORK / f"suites-{kind}-{n}"
    if not d.exists():
        args = [sys.executable, str(HERE / "gen_suite.py"), str(d), str(n)]
        subprocess.run(args + (["stream"] if kind == "stream" else []), check=True)
    return d


def run(suites_dir, targets, concurrency, extra=()):
    """One `llm-parity run`; returns (wall s, cpu s, peak RSS KiB, report dict)."""
    rdir = WORK / "reports"
    shutil.rmtree(rdir, ignore_errors=True)
    tf = targets_file(WORK, targets) if isinstance(targets, list) else targets
    names = [f"t{i}" for i in range(len(targets))] if isinstance(targets, list) else []
    cmd = [BIN, "run", "--suite", str(suites_dir), "--targets", str(tf),
           "--concurrency", str(concurrency), "--no-progress", "--report-dir", str(rdir), *extra]
    for n in names:
        cmd += ["--target", n]
    wall, cpu, peak, _, r, _ = timed(cmd, WORK)
    if r.returncode != 0:
        raise SystemExit(f"run failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-2000:]}")
    report = json.loads((rdir / "report.json").read_text()) if (rdir / "report.json").exists() else {}
    return wall, cpu, peak // 1024, report


def row(name, measured, unit, target, lower_is_better=True):
    ratio = measured / target if lower_is_better else target / measured
    rows.append((name, f"{measured:.3f} {unit}" if measured < 10 else f"{measured:.1f} {unit}",
                 f"{'≤' if lower_is_better else '≥'} {target:g} {unit}", ratio))
    print(f"  {name}: {measured:.3f} {unit} (target {target:g}, ratio {ratio:.2f})", flush=True)


CHAT_BODY = json.dumps({"model": "ref-chat", "max_tokens": 32,
                        "messages": [{"role": "user", "content": "Say hello in one short sentence."}]})


def wrk_script():
    lua = WORK / "post.lua"
    lua.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                   f"wrk.body = {json.dumps(CHAT_BODY)}\n")
    return lua


def wrk(port, conc, secs=3):
    return subprocess.run(["wrk", "-t1", f"-c{conc}", f"-d{secs}s", "-s", str(wrk_script()),
                           f"http://127.0.0.1:{port}/v1/chat/completions"],
                          capture_output=True, text=True, check=True).stdout


def wrk_latency_ms(port, conc):
    """Mean latency wrk measured (its `Latency` row, converted to ms)."""
    line = next(l for l in wrk(port, conc).splitlines() if l.strip().startswith("Latency"))
    v = line.split()[1]
    for unit, scale in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if v.endswith(unit):
            return float(v[: -len(unit)]) * scale
    raise SystemExit(f"cannot read wrk latency: {line}")


def median_time(cmd, runs=30):
    """Median wall time of a command (hyperfine when installed, else a plain loop)."""
    if shutil.which("hyperfine"):
        j = WORK / "hf.json"
        subprocess.run(["hyperfine", "-N", "--warmup", "5", "--runs", str(runs), "--export-json",
                        str(j), "--", " ".join(cmd)], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, cwd=REPO)
        return json.loads(j.read_text())["results"][0]["median"]
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


try:
    instant = serve(0)

    # 1. Overhead per chat case: marginal cost between a small and a large run, sequential
    #    (--concurrency 1), so start-up, loading and the fixed part of reporting cancel out.
    print("overhead per chat case (instant server, --concurrency 1)", flush=True)
    n1, n2 = (100, 600) if QUICK else (200, 2000)
    small, large = suite(n1), suite(n2)
    walls, cpus = [], []
    for _ in range(3 if QUICK else 5):
        w1, c1, _, _ = run(small, [instant], 1)
        w2, c2, _, _ = run(large, [instant], 1)
        walls.append((w2 - w1) / (n2 - n1) * 1000)
        cpus.append((c2 - c1) / (n2 - n1) * 1000)
    row("overhead: harness CPU per chat case", statistics.median(cpus), "ms", 1.0)
    row("overhead: wall per chat case (incl. server + loopback)", statistics.median(walls), "ms", 1.0)

    # 2. Concurrency: 1,000 cases x 2 targets, 50 ms per request, --concurrency 32.
    print("concurrency (1,000 cases x 2 targets, 50 ms server, --concurrency 32)", flush=True)
    slow = serve(50)
    n = 200 if QUICK else 1000
    cases = suite(n)
    wall, _, _, rep = run(cases, [slow, slow], 32)
    ideal = 2 * n * 0.050 / 32
    assert len(rep.get("results", [])) == 2 * n, "every case reported"
    rows.append((f"concurrency: wall / ideal ({2 * n} cases, ideal {ideal:.3f} s)",
                 f"{wall:.3f} s ({wall / ideal:.3f}x)", "≤ 1.15x", (wall / ideal) / 1.15))
    print(f"  wall {wall:.3f}s ideal {ideal:.3f}s -> {wall / ideal:.3f}x", flush=True)
    # The server's real latency is more than its 50 ms sleep (timer granularity, its own work
    # on the same 2 cores): the ideal from the latencies the run measured, and the run's own
    # duration (without start-up and report writing).
    real = sum(r["timings"]["total_ms"] for r in rep["results"]) / 1000 / 32
    run_s = rep["duration_ms"] / 1000
    # The server's own latency under the same load, measured by a neutral client (wrk, 32
    # connections): the "total server latency / concurrency", without our overhead.
    if shutil.which("wrk"):
        lat = wrk_latency_ms(slow, 32)
        server_ideal = 2 * n * lat / 1000 / 32
        rows.append((f"concurrency: wall / ideal from the server's latency under wrk -c32 "
                     f"({lat:.2f} ms → {server_ideal:.3f} s)",
                     f"{wall:.3f} s ({wall / server_ideal:.3f}x)", "≤ 1.15x",
                     (wall / server_ideal) / 1.15))
        print(f"  server latency {lat:.2f} ms (wrk) -> ideal {server_ideal:.3f}s -> "
              f"{wall / server_ideal:.3f}x", flush=True)
    rows.append((f"concurrency: run duration / ideal from the latencies the run measured ({real:.3f} s)",
                 f"{run_s:.3f} s ({run_s / real:.3f}x)", "≤ 1.15x", (run_s / real) / 1.15))
    print(f"  run {run_s:.3f}s, measured-latency ideal {real:.3f}s -> {run_s / real:.3f}x", flush=True)

    # 3. Memory: peak RSS for 10,000 chat cases (every report format written).
    print("memory (10,000 chat cases)", flush=True)
    n = 2000 if QUICK else 10000
    _, _, rss, rep = run(suite(n), [instant], 8)
    row(f"memory: peak RSS, {n} chat cases", rss / 1024, "MB", 100.0)

    # 4. Start-up.
    print("start-up", flush=True)
    row("start-up: validate (every shipped suite)", median_time([BIN, "validate"]) * 1000, "ms", 50.0)
    row("start-up: --version", median_time([BIN, "--version"]) * 1000, "ms", 10.0)

    # 5. TTFT accuracy: the server waits exactly D ms before the first content event.
    print("TTFT accuracy", flush=True)
    for d in (20, 100):
        port = free_port()
        start([sys.executable, str(HERE / "ttft_server.py"), str(port), str(d)], port)
        m = 20 if QUICK else 50
        _, _, _, rep = run(suite(m, "stream"), [port], 1)
        ttfts = [r["timings"]["ttft_ms"] for r in rep["results"] if r.get("timings", {}).get("ttft_ms")]
        assert len(ttfts) == m, f"ttft reported for {len(ttfts)}/{m} cases"
        err = statistics.median(ttfts) - d
        rows.append((f"TTFT: median reported - D (D = {d} ms, {m} streams)",
                     f"{err:+.2f} ms", "within ±2 ms", abs(err) / 2.0))
        print(f"  D={d}: median ttft {statistics.median(ttfts):.2f} ms -> error {err:+.2f} ms", flush=True)

    # 6. Side by side: equivalent chat requests against the same instant server.
    print("side by side (instant server)", flush=True)
    n = 500 if QUICK else 2000
    side = []
    for conc in (1, 32):
        wall, _, _, _ = run(suite(n), [instant], conc)
        side.append((f"llm-parity run --concurrency {conc} (whole run, {n} cases)", n / wall))
    body = CHAT_BODY
    py = subprocess.run([sys.executable, str(HERE / "py_client.py"), str(instant), str(n), body],
                        capture_output=True, text=True, check=True)
    side.append((f"python http.client loop, keep-alive, json.loads ({n} requests)",
                 float(py.stdout.strip())))
    if shutil.which("wrk"):
        for conc in (1, 32):
            out = wrk(instant, conc)
            rps = float(next(l for l in out.splitlines() if l.startswith("Requests/sec")).split()[1])
            side.append((f"wrk -c{conc} (load generator: no parsing, no checks)", rps))
    if shutil.which("curl") and shutil.which("hyperfine"):
        bf = WORK / "body.json"
        bf.write_text(body)
        t = median_time(["curl", "-s", "-o", "/dev/null", "-H", "content-type:application/json",
                         "--data-binary", f"@{bf}", f"http://127.0.0.1:{instant}/v1/chat/completions"])
        side.append(("curl, one process per request (hyperfine median)", 1 / t))
finally:
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()
    shutil.rmtree(WORK, ignore_errors=True)

lines = ["| scenario | measured | target | ratio |", "|---|---|---|---|"]
for name, measured, target, ratio in rows:
    lines.append(f"| {name} | {measured} | {target} | {ratio:.2f} |")
lines += ["", "| side by side (same instant server) | cases or requests / s |", "|---|---|"]
for name, rate in side:
    lines.append(f"| {name} | {rate:,.0f} |")
table = "\n".join(lines)
machine = subprocess.run(["sh", "-c", "uname -srm; nproc; grep -m1 'model name' /proc/cpuinfo; "
                          "free -g | awk '/Mem/{print $2\" GiB\"}'"],
                         capture_output=True, text=True).stdout.strip().replace("\n", "; ")
(OUT / "results.md").write_text(f"machine: {machine}\n\n{table}\n")
print()
print(f"machine: {machine}")
print(table)
