#!/usr/bin/env python3
"""Side by side (called by scripts/bench.sh; `--side` runs only this): llm-parity, Hurl and oha
on the same workloads against one local OpenAI-compatible server (`llm-parity serve`), and wrk
as the raw ceiling, measured in the same run. Tools run alternately, run by run, so a busy
moment of the machine is shared rather than charged to one tool; each row is the median of
RUNS runs with the min–max, the median peak RSS and own CPU (user + system) per request.

Workloads (distinct cases ask something different each; repeated ones send one request):
  A   1,000 distinct cases, server 50 ms, concurrency 32: wall ÷ ideal (n × 50 ms ÷ 32), and
      for llm-parity the time outside the requests (wall − the run's own duration_ms), split
      into before them (start, load, compile, plan: from the process's start to the run's
      started_at) and after them (the reports and the exit)
  B   2,000 distinct (and repeated) cases, server 0 ms, concurrency 32: requests per second,
      and the ratio to the raw ceilings measured against the same server in the same run:
      oha's on the same workload, and wrk -c32 over 3 s; every row also gives the CPU the
      server and the tool took during it, in cores: when together they take every core of
      the machine, the rate is bound by the CPU they share, not by the server (a ceiling is
      server-bound only when the load generator leaves the server cores it cannot use)
  C   10,000 distinct cases, 0 ms, concurrency 32: requests per second and peak RSS
  D   100,000 distinct cases, 0 ms, concurrency 32: the same, one run per tool (minutes)

llm-parity runs every check of chat/basic (schema, JSONPath, semantic) and writes all four
reports; Hurl asserts the status, the content type and the same JSONPath values (it has no
JSON Schema); oha and wrk check nothing. A tool that is not installed is left out (bench.sh
installs what it can). Each run records the CPU other work took while it ran (common.py): a
row with a run during which that was above a fifth of a core is marked, its times not to be
trusted.

usage: side.py BINARY OUT_DIR [RUNS [WORKLOADS]]   (default 5 runs of ABCD; writes OUT_DIR/side.md)
       e.g. `side.py BIN OUT 3 AB` runs only workloads A and B, three runs each
"""
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import common

BIN, OUT, WORK = common.script_paths("side")
HERE = common.HERE
RUNS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
WHICH = sys.argv[4].upper() if len(sys.argv) > 4 else "ABCD"
TOOLS_BIN = Path(os.environ.get("BENCH_TOOLS", "")) / "bin"
CONC = 32
BODY = {"model": "ref-chat", "max_tokens": 32,
        "messages": [{"role": "user", "content": "Say hello in one short sentence."}]}
procs = []


def which(name):
    p = TOOLS_BIN / name
    return str(p) if p.exists() else shutil.which(name)


def serve(delay_ms):
    p, port = common.serve(BIN, delay_ms)
    procs.append(p)
    return port


def timed(cmd):
    """(wall s, CPU s, peak RSS bytes, other work's CPU in cores, stdout, (the servers' CPU, the
    command's CPU) in cores)."""
    wall, cpu, peak, load, r, served = common.timed(cmd, WORK, stdout=subprocess.PIPE)
    if r.returncode not in (0, 1):
        raise SystemExit(f"failed ({r.returncode}): {' '.join(cmd[:6])} …\n{r.stderr[-1500:]}")
    return wall, cpu, peak, load, r.stdout, (served, cpu / max(wall, 1e-3))


def suites(n, kind):
    d = WORK / f"suites-{kind}-{n}"
    if not d.exists():
        subprocess.run([sys.executable, str(HERE / "gen_suite.py"), str(d), str(n)]
                       + (["same"] if kind == "same" else []), check=True)
    return d


def hurl_files(n, port, kind):
    """n entries in 64 files (Hurl runs files in parallel, the entries of one in sequence)."""
    d = WORK / f"hurl-{kind}-{n}-{port}"
    if not d.exists():
        d.mkdir()
        files = [[] for _ in range(64)]
        for i in range(n):
            body = dict(BODY, messages=[{"role": "user", "content":
                        "Say hello in one short sentence" + ("." if kind == "same" else f" ({i}).")}])
            files[i % 64].append(
                f"POST http://127.0.0.1:{port}/v1/chat/completions\n"
                f"{json.dumps(body)}\n"
                "HTTP 200\n[Asserts]\n"
                'header "Content-Type" contains "application/json"\n'
                'jsonpath "$.object" == "chat.completion"\n'
                'jsonpath "$.choices[0].message.role" == "assistant"\n'
                'jsonpath "$.choices[0].message.content" isString\n')
        for k, entries in enumerate(files):
            if entries:
                (d / f"f{k:02d}.hurl").write_text("\n".join(entries))
    return sorted(str(p) for p in d.iterdir())


def targets(port):
    p = WORK / f"targets-{port}.yaml"
    p.write_text(f"targets:\n  t:\n    base_url: http://127.0.0.1:{port}/v1\n"
                 "    models:\n      chat: ref-chat\n")
    return p


def run_times():
    """The last llm-parity run's own start (report.json `started_at`, seconds since the epoch)
    and duration (`duration_ms`, in seconds)."""
    with open(WORK / "reports" / "report.json") as f:
        report = json.load(f)
    # RFC 3339 in UTC with up to nanoseconds, which datetime does not read.
    whole, _, frac = report["started_at"].rstrip("Z").partition(".")
    start = datetime.datetime.fromisoformat(whole).replace(tzinfo=datetime.timezone.utc)
    return start.timestamp() + float("0." + (frac or "0")), report["duration_ms"] / 1000


def llm_parity(n, port, kind):
    rdir = WORK / "reports"
    shutil.rmtree(rdir, ignore_errors=True)
    return [BIN, "run", "--suite", str(suites(n, kind)), "--targets", str(targets(port)),
            "--target", "t", "--concurrency", str(CONC), "--no-progress", "--report-dir",
            str(rdir)]


def hurl(n, port, kind):
    return [which("hurl"), "--test", "--parallel", "--jobs", str(CONC), "--no-color",
            *hurl_files(n, port, kind)]


def oha(n, port, _kind):
    return [which("oha"), "-n", str(n), "-c", str(CONC), "--no-tui", "-m", "POST", "-H",
            "content-type: application/json", "-d", json.dumps(BODY),
            f"http://127.0.0.1:{port}/v1/chat/completions"]


def wrk_rps(port, secs=3):
    lua = WORK / "post.lua"
    lua.write_text('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                   f"wrk.body = {json.dumps(json.dumps(BODY))}\n")
    cmd = [which("wrk"), "-t2", f"-c{CONC}", f"-d{secs}s", "-s", str(lua),
           f"http://127.0.0.1:{port}/v1/chat/completions"]
    wall, cpu, peak, load, out, split = timed(cmd)
    rps = float(next(l for l in out.splitlines() if l.startswith("Requests/sec")).split()[1])
    n = int(rps * secs)
    return rps, cpu / max(n, 1), peak, load, split


def span(xs, fmt):
    return f"{fmt(statistics.median(xs))} ({fmt(min(xs))}–{fmt(max(xs))})"


def cores(pairs):
    """The CPU the server and the tool took during the runs, in cores (medians): when together
    they are every core of the machine, a rate is bound by the CPU they share, not by the
    server alone."""
    server = statistics.median(p[0] for p in pairs)
    tool = statistics.median(p[1] for p in pairs)
    return f"{server:.2f} + {tool:.2f} of {common.CORES}"


def main():
    tools = [("llm-parity", llm_parity)]
    tools += [(name, f) for name, f in (("hurl", hurl), ("oha", oha)) if which(name)]
    have_wrk = bool(which("wrk"))
    print("tools: " + ", ".join([t for t, _ in tools] + (["wrk (ceiling)"] if have_wrk else [])),
          flush=True)
    fast, slow = serve(0), serve(50)
    rows = []
    try:
        # (workload, port, n, kinds, measure: "ideal" or "rps", runs)
        workloads = [
            ("A: 1,000 distinct cases, 50 ms, c=32 — wall ÷ ideal", slow, 1000, ["distinct"],
             "ideal", RUNS),
            ("B: 2,000 cases, 0 ms, c=32 — req/s", fast, 2000, ["distinct", "same"], "rps", RUNS),
            ("C: 10,000 distinct cases, 0 ms, c=32 — req/s", fast, 10000, ["distinct"], "rps",
             RUNS),
            ("D: 100,000 distinct cases, 0 ms, c=32 — req/s", fast, 100000, ["distinct"], "rps",
             1),
        ]
        for title, port, n, kinds, measure, runs_of in workloads:
            if title[0] not in WHICH:
                continue
            print(title, flush=True)
            runs = {}
            ceiling = []
            for r in range(runs_of):
                order = tools if r % 2 == 0 else tools[::-1]
                for name, cmd in order:
                    for kind in kinds:
                        if name == "oha" and kind != kinds[0]:
                            continue
                        label = name if name == "oha" else f"{name} ({kind})"
                        # Made first: the suite generated (the first time), the reports of
                        # the last run removed; then the clock starts.
                        command = cmd(n, port, kind)
                        began = time.time()
                        wall, cpu, peak, others, _, split = timed(command)
                        outside = None
                        if name == "llm-parity":
                            started, duration = run_times()
                            # (outside, before the first request)
                            outside = (wall - duration, started - began)
                        runs.setdefault(label, []).append(
                            (wall, cpu, peak, others, split, outside))
                if have_wrk and measure == "rps":
                    ceiling.append(wrk_rps(port))
            wrk_ceil = statistics.median(c[0] for c in ceiling) if ceiling else None
            oha_ceil = (statistics.median(n / w for w, *_ in runs["oha"])
                        if measure == "rps" and "oha" in runs else None)
            if ceiling:
                rows.append((title, "wrk -c32 (ceiling, no checks)",
                             span([c[0] for c in ceiling], lambda x: f"{x:,.0f}"),
                             f"{statistics.median(c[2] for c in ceiling) / 2**20:.0f} MiB",
                             f"{statistics.median(c[1] for c in ceiling) * 1000:.3f} ms", "–",
                             cores([c[4] for c in ceiling]), "–", max(c[3] for c in ceiling)))
            for label, rs in runs.items():
                walls = [w for w, *_ in rs]
                outside = [o for *_, o in rs if o is not None]
                if measure == "ideal":
                    ideal = n * 0.050 / CONC
                    value = span([w / ideal for w in walls], lambda x: f"{x:.3f}×")
                    ratio = "–"
                else:
                    value = span([n / w for w in walls], lambda x: f"{x:,.0f}")
                    rps = statistics.median(n / w for w in walls)
                    ratio = " / ".join(f"{rps / c:.2f}" if c else "–" for c in (oha_ceil, wrk_ceil))
                where = "–"
                if outside:
                    before = statistics.median(b for _, b in outside)
                    after = statistics.median(o - b for o, b in outside)
                    where = (span([o for o, _ in outside], lambda x: f"{x * 1000:.0f} ms")
                             + f": {before * 1000:.0f} before, {after * 1000:.0f} after")
                rows.append((title, label, value,
                             f"{statistics.median(r[2] for r in rs) / 2**20:.0f} MiB",
                             f"{statistics.median(r[1] for r in rs) / n * 1000:.3f} ms", ratio,
                             cores([r[4] for r in rs]), where, max(r[3] for r in rs)))
                print(f"  {label}: {value}" + (f"; outside the requests {where}"
                      if outside else ""), flush=True)
    finally:
        for p in procs:
            p.terminate()
            p.wait()
        shutil.rmtree(WORK, ignore_errors=True)
    lines = ["| workload | tool | median (min–max) | peak RSS | own CPU per request | "
             "÷ oha / ÷ wrk | cores: server + tool | outside the requests | "
             "other work (cores, max) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for title, label, value, peak, cpu, ratio, split, outside, load in rows:
        lines.append(f"| {title} | {label} | {value} | {peak} | {cpu} | {ratio} | {split} | "
                     f"{outside} | {common.load_mark(load)} |")
    machine = subprocess.run(["sh", "-c", "uname -srm; nproc; grep -m1 'model name' /proc/cpuinfo"],
                             capture_output=True, text=True).stdout.strip().replace("\n", "; ")
    text = f"machine: {machine}; {RUNS} runs per row, tools alternating\n\n" + "\n".join(lines)
    (OUT / "side.md").write_text(text + "\n")
    print()
    print(text)


main()
