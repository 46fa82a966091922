#!/usr/bin/env python3
"""What a stream costs, per byte of stream (called by scripts/bench.sh; `--streams` runs only
this). One streamed case at a time, every streaming check (and `tools.stream_deltas` on the
tool-call stream), against scripts/bench/flood_server.py on 127.0.0.1, for three shapes of
stream at four sizes each, with and without `--record`:

  plain   ordinary content chunks of 40 characters (~180 bytes per event)
  small   the smallest valid chunks, one character of content each (~150 bytes per event,
          the most events per byte a real stream has)
  tools   one tool call whose arguments arrive in 16-character fragments

For each run: peak RSS over the process's own footprint (an ordinary short stream, measured
first), per byte of stream; own CPU (user + system) over the footprint's, per MiB of stream.
Then, per shape, the slope of a least-squares line through the four sizes: the marginal bytes
of peak memory and milliseconds of CPU per byte / MiB of stream. Proportional cost shows as a
slope close to each size's own ratio and an intercept close to zero. Also writes the table to
OUT_DIR/streams.md. Not a timed test.

usage: streams.py BINARY OUT_DIR
"""
import shutil
import statistics
import subprocess
import sys

from common import HERE, MIB, flood_case, free_port, script_paths, wait_port

BIN, OUT, WORK = script_paths("streams")
SIZES = [1 * MIB, 2 * MIB, 4 * MIB, 7 * MIB]  # under the default --max-body of 8 MiB
SHAPES = [("plain", "plain", "stream"), ("many small events", "chunks", "stream"),
          ("tool call", "tools", "tools")]
REPEAT = 3  # runs per point; the median is kept (peak RSS and CPU both vary a little)


def once(port, shape, size, kind, record):
    rec = WORK / "rec"
    shutil.rmtree(rec, ignore_errors=True)
    extra = ("--record", str(rec)) if record else ()
    cpu, peak, outcome = flood_case(BIN, WORK, port, f"{shape}@{size}", kind, 1, extra)
    return peak, cpu, outcome


def point(port, shape, size, kind, record=False):
    runs = [once(port, shape, size, kind, record) for _ in range(REPEAT)]
    return (statistics.median(p for p, _, _ in runs), statistics.median(c for _, c, _ in runs),
            runs[0][2])


def slope(xs, ys):
    """Least-squares line through (xs, ys): (slope, intercept)."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    k = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return k, my - k * mx


def main():
    port = free_port()
    server = subprocess.Popen([sys.executable, str(HERE / "flood_server.py"), str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows, fits = [], []
    try:
        wait_port(port)
        base_peak, base_cpu, _ = point(port, "tiny", 0, "stream")
        print(f"footprint (an ordinary short stream): {base_peak / MIB:.1f} MiB, "
              f"{base_cpu * 1000:.0f} ms CPU", flush=True)
        for label, shape, kind in SHAPES:
            for record in (False, True):
                mem, cpu = [], []
                for size in SIZES:
                    peak, c, outcome = point(port, shape, size, kind, record)
                    over, extra = max(0, peak - base_peak), max(0.0, c - base_cpu)
                    mem.append(over)
                    cpu.append(extra * 1000)
                    name = label + (", --record" if record else "")
                    rows.append((name, size, peak, over / size, extra * 1000 / (size / MIB),
                                 outcome))
                    print(f"  {name}, {size / MIB:.0f} MiB: peak {peak / MIB:.1f} MiB "
                          f"({over / size:.2f} B per byte), {extra * 1000 / (size / MIB):.1f} ms "
                          f"CPU per MiB — {outcome}", flush=True)
                k_mem, c_mem = slope(SIZES, mem)
                k_cpu, c_cpu = slope([s / MIB for s in SIZES], cpu)
                fits.append((label + (", --record" if record else ""), k_mem, c_mem, k_cpu, c_cpu))
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(WORK, ignore_errors=True)

    lines = ["| stream | size | peak RSS | peak over the footprint, per byte | own CPU per MiB "
             "| outcome |", "|---|---|---|---|---|---|"]
    for name, size, peak, per_byte, ms_mib, outcome in rows:
        lines.append(f"| {name} | {size / MIB:.0f} MiB | {peak / MIB:.1f} MiB | {per_byte:.2f} "
                     f"| {ms_mib:.1f} ms | {outcome} |")
    lines += ["", "| stream | marginal peak memory per byte | intercept | marginal CPU per MiB "
              "| intercept |", "|---|---|---|---|---|"]
    for name, k_mem, c_mem, k_cpu, c_cpu in fits:
        lines.append(f"| {name} | {k_mem:.2f} B | {c_mem / MIB:+.1f} MiB | {k_cpu:.1f} ms "
                     f"| {c_cpu:+.1f} ms |")
    machine = subprocess.run(["sh", "-c", "uname -srm; nproc; grep -m1 'model name' /proc/cpuinfo"],
                             capture_output=True, text=True).stdout.strip().replace("\n", "; ")
    text = (f"machine: {machine}; footprint {base_peak / MIB:.1f} MiB, "
            f"{base_cpu * 1000:.0f} ms CPU; median of {REPEAT} runs per point\n\n" + "\n".join(lines))
    (OUT / "streams.md").write_text(text + "\n")
    print()
    print(text)


main()
