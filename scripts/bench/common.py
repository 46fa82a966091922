"""What the bench scripts share: a free local port, waiting for a server to listen, the built-in
endpoint (`llm-parity serve`), a targets file for local ports and a command timed by
/usr/bin/time, and whether the machine was too busy during it to trust a time.

Busy is measured, not guessed from the load average (which lags a minute behind and counts the
benchmark's own previous run): the CPU time every process of the machine used during the run
(/proc/stat), minus the timed command's own and the benchmark's servers' (/proc/PID/stat), is
what *other* work took from the two tools being measured. Above a fifth of a core, the run's
wall time and requests per second are not the tools' alone."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MIB = 1024 * 1024
# The directory of the bench scripts (and of the servers they start).
HERE = Path(__file__).resolve().parent


def script_paths(name):
    """What every bench script starts from: the binary of its first argument (absolute), the
    output directory of its second (created) and a fresh work directory named after `name`."""
    out = Path(sys.argv[2]).resolve()
    out.mkdir(parents=True, exist_ok=True)
    return (os.path.abspath(sys.argv[1]), out,
            Path(tempfile.mkdtemp(prefix=f"llm-parity-{name}-")))


# The servers the scripts started (`serve`): their CPU during a run is the benchmark's, not
# other work's.
SERVERS = []
TICK = os.sysconf("SC_CLK_TCK")


def machine_cpu():
    """CPU seconds every core of the machine has spent busy since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / TICK


def process_cpu(pid):
    """User + system CPU seconds of a running process (0 once it has gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


def servers_cpu():
    return sum(process_cpu(p.pid) for p in SERVERS)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start")


def serve(binary, delay_ms=0):
    """The built-in endpoint on a free port, answering after `delay_ms`: (its process, port)."""
    port = free_port()
    p = subprocess.Popen([binary, "serve", "--port", str(port), "--delay-ms", str(delay_ms)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    SERVERS.append(p)
    return p, port


def targets_file(work, ports, model="ref-chat"):
    """A targets file in `work` with one target per port (`t0`, `t1`, …), each serving `model`
    as its chat model."""
    p = work / f"targets-{'-'.join(map(str, ports))}.yaml"
    lines = ["targets:"]
    for i, port in enumerate(ports):
        lines += [f"  t{i}:", f"    base_url: http://127.0.0.1:{port}/v1",
                  "    models:", f"      chat: {model}"]
    p.write_text("\n".join(lines) + "\n")
    return p


def timed(cmd, work, stdout=subprocess.DEVNULL):
    """Run `cmd` under /usr/bin/time (its report written in the directory `work`): (wall s, own
    CPU s (user + system), peak RSS bytes, other work's CPU during the run in cores, the
    completed process, stderr captured, the benchmark's servers' CPU during the run in
    cores)."""
    timef = work / "time.txt"
    machine0, servers0 = machine_cpu(), servers_cpu()
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", str(timef), *cmd],
                       stdout=stdout, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    machine, servers = machine_cpu() - machine0, servers_cpu() - servers0
    u, s, m = timef.read_text().split()[-3:]
    cpu = float(u) + float(s)
    others = max(0.0, machine - cpu - servers) / max(wall, 1e-3)
    return wall, cpu, int(m) * 1024, others, r, servers / max(wall, 1e-3)


CORES = os.cpu_count() or 1
# Above this much CPU taken by other work (in cores, averaged over the run), the run shared its
# cores: its wall time and requests per second are not the tool's alone (CPU time and peak RSS
# still are). The machine's own housekeeping reads about 0.02–0.05.
BUSY_CORES = 0.2


def busy(others):
    """Whether a run during which other work took `others` cores cannot be trusted for time."""
    return others > BUSY_CORES


def load_mark(others):
    """Other work's CPU during a run as a table shows it, marked when the machine was busy."""
    return f"{others:.2f} **busy: times not trusted**" if busy(others) else f"{others:.2f}"


# The checks of a streamed case in the memory and stream benchmarks: every streaming check.
CHECKS = ("streaming.error_event, streaming.content_type, streaming.done, streaming.framing, "
          "streaming.chunks, streaming.identity, streaming.role, streaming.finish, "
          "streaming.usage, streaming.n, streaming.reassembled")
TOOL = ("{type: function, function: {name: get_weather, parameters: "
        "{type: object, properties: {city: {type: string}}}}}")


def stream_suite(work, name, n, kind):
    """A suite file in `work` of `n` cases (distinct messages): every streaming check on a
    stream (`stream`), and `tools.stream_deltas` too on a tool-call stream (`tools`); the schema
    and chat checks on a JSON body (`json`)."""
    lines = [f"suite: {name}", "description: memory benchmark", "cases:"]
    for i in range(n):
        lines += [f"  - id: c{i}", "    feature: " + ("chat.basic" if kind == "json" else "streaming.basic"),
                  "    request:", "      path: /chat/completions", "      body:",
                  '        model: "{{model.chat}}"',
                  f'        messages: [{{ role: user, content: "hi {i}" }}]']
        if kind != "json":
            lines += ["        stream: true"]
        if kind == "tools":
            lines += [f"        tools: [{TOOL}]", "        tool_choice: required"]
        lines += ["    expect:", "      status: 200"]
        if kind == "stream":
            lines += [f"      checks: [{CHECKS}]"]
        elif kind == "tools":
            lines += [f"      checks: [{CHECKS}, tools.stream_deltas]"]
        else:
            lines += ["      schema: chat.completion", "      checks: [chat.response, chat.usage]"]
    d = work / f"{name}-{n}"
    d.mkdir(parents=True, exist_ok=True)
    (d / "suite.yaml").write_text("\n".join(lines) + "\n")
    return d / "suite.yaml"


def flood_case(binary, work, port, shape, kind="stream", n=1, extra=()):
    """Run `n` cases of `stream_suite` at --concurrency n against the `shape` of
    scripts/bench/flood_server.py on `port`: (own CPU s, peak RSS bytes, the first case's
    outcome and reason)."""
    rdir = work / "reports"
    shutil.rmtree(rdir, ignore_errors=True)
    cmd = [binary, "run", "--suite", str(stream_suite(work, f"flood-{kind}", n, kind)),
           "--base-url", f"http://127.0.0.1:{port}/{shape}/v1", "--model", "chat=m",
           "--concurrency", str(n), "--no-progress", "--report-dir", str(rdir),
           "--snapshots-dir", str(work / "snapshots"), *extra]
    _, cpu, peak, _, r, _ = timed(cmd, work)
    try:
        res = json.loads((rdir / "report.json").read_text())["results"][0]
        outcome = res["outcome"] + (f": {res['reason'][:70]}" if res.get("reason") else "")
    except (OSError, ValueError, IndexError, KeyError):
        outcome = f"no report (exit {r.returncode})"
    return cpu, peak, outcome
