#!/usr/bin/env python3
"""A tiny chat-completions server for the TTFT accuracy scenario of scripts/bench.sh.

Every POST gets its status line and headers at once, a role-only chunk, then exactly DELAY_MS
of silence (sleep, then a spin for the last millisecond), then the first content chunk, the
finish chunk and [DONE]. HTTP/1.1 with chunked encoding, so connections are kept alive.

usage: ttft_server.py PORT DELAY_MS   (listens on 127.0.0.1; stops after 10 minutes)
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, DELAY = int(sys.argv[1]), int(sys.argv[2]) / 1000.0


def chunk(delta, finish=None):
    return {
        "id": "chatcmpl-ttft",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "ttft",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def frame(obj):
    data = obj if isinstance(obj, str) else json.dumps(obj)
    payload = f"data: {data}\n\n".encode()
    return b"%x\r\n%s\r\n" % (len(payload), payload)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without TCP_NODELAY the content chunk waits for the client's delayed ACK of the role
    # chunk (up to 40 ms): the server, not the harness, would be late.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        self.wfile.write(frame(chunk({"role": "assistant", "content": ""})))
        self.wfile.flush()
        until = time.perf_counter() + DELAY
        if DELAY > 0.002:
            time.sleep(DELAY - 0.001)
        while time.perf_counter() < until:
            pass
        self.wfile.write(frame(chunk({"content": "Hello"})))
        self.wfile.flush()
        self.wfile.write(frame(chunk({}, "stop")) + frame("[DONE]") + b"0\r\n\r\n")
        self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", PORT), Handler)
threading.Timer(600, srv.shutdown).start()
srv.serve_forever()
