#!/usr/bin/env python3
"""Peak memory against hostile and large bodies (called by scripts/bench.sh; `--memory` runs only
this). Starts scripts/bench/flood_server.py on 127.0.0.1, runs one streamed (or JSON) case
against each shape with the release binary under /usr/bin/time, and prints one table: the
input, its size, peak RSS, the peak over the process's own footprint per byte of input, the
budget of docs/reliability.md (6 x --max-body per exchange, 64 MiB more with --record), and
the outcome. Also writes it to OUT_DIR/memory.md. Not a timed test: memory only.

usage: memory.py BINARY OUT_DIR
"""
import shutil
import subprocess
import sys

from common import HERE, MIB, flood_case, free_port, script_paths, wait_port

BIN, OUT, WORK = script_paths("memory")
DEFAULT_MAX_BODY = 8 * MIB

def measure(port, shape, size, kind="stream", n=1, extra=()):
    """Peak RSS (bytes) and the first case's outcome and reason; `n` cases at --concurrency n."""
    _, peak, outcome = flood_case(BIN, WORK, port, shape, kind, n, extra)
    return peak, outcome


def main():
    port = free_port()
    server = subprocess.Popen([sys.executable, str(HERE / "flood_server.py"), str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port)
        size = int(7.5 * MIB)
        base, _ = measure(port, "tiny", 0)
        print(f"process footprint (an ordinary short stream): {base / MIB:.1f} MiB", flush=True)
        scenarios = [
            ("plain stream (40-character chunks)", "plain", size, "stream", 1, ()),
            ("tool-call stream (16-character argument fragments)", "tools", size, "tools", 1, ()),
            ("many small valid chunks (1 character each)", "chunks", size, "stream", 1, ()),
            ("flood of comment lines (`:`)", "comments", size, "stream", 1, ()),
            ("flood of unknown fields (`x: y`)", "unknown", size, "stream", 1, ()),
            ("flood of tiny data events (`data:x`)", "events", size, "stream", 1, ()),
            ("one 20 MiB `data:` line (--max-body 24 MiB)", "bigline", 20 * MIB, "stream", 1,
             ("--max-body", str(24 * MIB))),
            ("JSON: 10,000 choices", "choices", size, "json", 1, ()),
            ("JSON: one 7.5 MB string", "bigstring", 7_500_000, "json", 1, ()),
            ("JSON: `[{},{},…]`", "objects", size, "json", 1, ()),
            ("8 concurrent comment floods (--concurrency 8)", "comments", 8 * size, "stream", 8, ()),
            ("8 concurrent floods of tiny data events (--concurrency 8)", "events", 8 * size,
             "stream", 8, ()),
            ("8 concurrent plain streams (--concurrency 8)", "plain", 8 * size, "stream", 8, ()),
        ]
        rows = []
        for name, shape, nbytes, kind, n, extra in scenarios:
            peak, outcome = measure(port, shape, nbytes, kind, n, extra)
            max_body = int(extra[1]) if extra else DEFAULT_MAX_BODY
            budget = base + n * 6 * max_body
            per_byte = (peak - base) / nbytes
            rows.append((name, nbytes, peak, per_byte, budget, outcome))
            print(f"  {name}: peak {peak / MIB:.0f} MiB ({per_byte:.2f} B/B, budget "
                  f"{budget / MIB:.0f} MiB) — {outcome}", flush=True)
        # --record: the file against the stream it holds.
        rec = WORK / "rec"
        shutil.rmtree(rec, ignore_errors=True)
        peak, outcome = measure(port, "events", size, "stream", 1, ("--record", str(rec)))
        written = sum(f.stat().st_size for f in rec.rglob("*.json"))
        # The recording queue may hold 64 MiB more (docs/reliability.md).
        rows.append(("flood of tiny data events, --record", size, peak, (peak - base) / size,
                     base + 6 * DEFAULT_MAX_BODY + 64 * MIB,
                     f"recording {written / MIB:.1f} MiB ({written / size:.2f}x the stream)"))
        print(f"  --record: peak {peak / MIB:.0f} MiB, recording {written / MIB:.1f} MiB", flush=True)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(WORK, ignore_errors=True)

    lines = ["| input | size | peak RSS | peak over the footprint, per input byte | budget | within | outcome |",
             "|---|---|---|---|---|---|---|"]
    for name, nbytes, peak, per_byte, budget, outcome in rows:
        lines.append(f"| {name} | {nbytes / MIB:.1f} MiB | {peak / MIB:.0f} MiB | {per_byte:.2f} | "
                     f"{budget / MIB:.0f} MiB | {'yes' if peak <= budget else 'NO'} | {outcome} |")
    table = "\n".join(lines)
    note = f"process footprint (an ordinary short stream): {base / MIB:.1f} MiB"
    (OUT / "memory.md").write_text(f"{note}\n\n{table}\n")
    print()
    print(note)
    print(table)


main()
