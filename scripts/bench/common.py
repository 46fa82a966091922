"""What the bench scripts share: a free local port, waiting for a server to listen, the built-in
endpoint (`llm-parity serve`), a targets file for local ports and a command timed by
/usr/bin/time, and whether the machine is too busy to trust a time."""
import os
import socket
import subprocess
import time


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
    CPU s (user + system), peak RSS bytes, the load average when it started, the completed
    process, stderr captured)."""
    timef = work / "time.txt"
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%U %S %M", "-o", str(timef), *cmd],
                       stdout=stdout, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    u, s, m = timef.read_text().split()[-3:]
    return wall, float(u) + float(s), int(m) * 1024, load, r


CORES = os.cpu_count() or 1
# Above this load average per core, other work shares the cores with the run: its wall time
# and requests per second are not the tool's alone (CPU time and peak RSS still are).
BUSY_PER_CORE = 0.5


def busy(load):
    """Whether a run that started at this load average (1 min) cannot be trusted for time."""
    return load > BUSY_PER_CORE * CORES


def load_mark(load):
    """The load average as a table shows it, marked when the machine was busy."""
    return f"{load:.1f} **busy: times not trusted**" if busy(load) else f"{load:.1f}"
