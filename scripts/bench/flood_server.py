#!/usr/bin/env python3
"""Hostile and large bodies for the memory scenarios of scripts/bench.sh.

Every POST to /<shape>/v1/chat/completions gets the body named by <shape>, built once and sent
in one write (HTTP/1.1, Content-Length, so the client reads it as fast as it can). The stream
shapes are SIZE bytes (default 7.5 MiB, under the default --max-body of 8 MiB); `bigline` is a
20 MiB single `data:` line (run it with a larger --max-body).

  plain     a chat stream of ordinary content chunks (40 characters each)
  tools     a streamed tool call: one opening delta, then argument fragments of 16 characters
  chunks    the smallest valid chunks, one character of content each
  comments  a valid stream with SIZE bytes of `:` comment lines in the middle
  unknown   a valid stream with SIZE bytes of unknown-field lines (`x: y`) in the middle
  events    a valid stream with SIZE bytes of tiny non-JSON data events (`data:x`)
  bigline   one chunk whose content is a 20 MiB string, on one `data:` line
  tiny      an ordinary short stream (the process's own memory, for comparison)
  choices   a JSON chat.completion (not a stream) with 10,000 choices
  bigstring a JSON chat.completion whose content is one 7.5 MB string
  objects   SIZE bytes of JSON `[{},{},…]` (as a serde_json Value: ~600 bytes per object)

A shape may name its own size: `/<shape>@<SIZE_BYTES>/v1/chat/completions` (the stream
benchmark sends several sizes of one shape to one server).

usage: flood_server.py PORT [SIZE_BYTES]   (listens on 127.0.0.1; stops after 30 minutes)
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
SIZE = int(sys.argv[2]) if len(sys.argv) > 2 else int(7.5 * 2**20)


def chunk(delta, finish=None):
    return json.dumps({
        "id": "chatcmpl-flood",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "flood",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }, separators=(",", ":"))


def frame(data):
    return f"data: {data}\n\n"


def fill(unit, size):
    return unit * max(1, size // len(unit))




def stream(middle):
    head = frame(chunk({"role": "assistant", "content": ""}))
    tail = frame(chunk({"content": "done"})) + frame(chunk({}, "stop")) + frame("[DONE]")
    return (head + middle + tail).encode()


def completion(choices):
    return json.dumps({
        "id": "chatcmpl-flood", "object": "chat.completion", "created": 1700000000,
        "model": "flood", "choices": choices,
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }, separators=(",", ":")).encode()


def build(name):
    """The body of `name` (`shape` or `shape@SIZE_BYTES`); None for an unknown shape."""
    shape, _, size = name.partition("@")
    return build_shape(shape, int(size) if size.isdigit() else SIZE)


def build_shape(shape, size):
    if shape == "plain":
        return stream(fill(frame(chunk({"content": "x" * 40})), size))
    if shape == "tools":
        call = {"index": 0, "id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": ""}}
        head = frame(chunk({"role": "assistant", "content": None, "tool_calls": [call]}))
        piece = frame(chunk({"tool_calls": [{"index": 0, "function": {"arguments": " " * 16}}]}))
        args = frame(chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":"Paris"}'}}]}))
        tail = frame(chunk({}, "tool_calls")) + frame("[DONE]")
        return (head + fill(piece, size) + args + tail).encode()
    if shape == "chunks":
        return stream(fill(frame(chunk({"content": "a"})), size))
    if shape == "comments":
        return stream(fill(":\n", size))
    if shape == "unknown":
        return stream(fill("x: y\n", size))
    if shape == "events":
        return stream(fill("data:x\n\n", size))
    if shape == "bigline":
        return stream(frame(chunk({"content": "x" * (20 * 2**20)})))
    if shape == "tiny":
        return stream(frame(chunk({"content": "Hello."})))
    if shape == "objects":
        return ("[" + "{}," * (size // 3) + "{}]").encode()
    if shape == "choices":
        text = "x" * 700
        return completion([{"index": i, "message": {"role": "assistant", "content": text},
                            "logprobs": None, "finish_reason": "stop"} for i in range(10000)])
    if shape == "bigstring":
        return completion([{"index": 0, "message": {"role": "assistant", "content": "x" * 7_500_000},
                            "logprobs": None, "finish_reason": "stop"}])
    return None


JSON_SHAPES = ("choices", "bigstring", "objects")
BODIES = {}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        shape = self.path.strip("/").split("/")[0]
        with LOCK:
            if shape not in BODIES:
                BODIES[shape] = build(shape)
        body = BODIES[shape]
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        ct = "application/json" if shape.split("@")[0] in JSON_SHAPES else "text/event-stream"
        self.send_header("content-type", ct)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


srv = Server(("127.0.0.1", PORT), Handler)
threading.Timer(1800, srv.shutdown).start()
srv.serve_forever()
