#!/usr/bin/env python3
"""The side-by-side baseline: N sequential chat requests over one keep-alive connection with
the standard library, each response parsed as JSON and its `object` checked. Prints requests/s.

usage: py_client.py PORT N BODY
"""
import http.client
import json
import sys
import time

port, n, body = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].encode()
conn = http.client.HTTPConnection("127.0.0.1", port)
t0 = time.perf_counter()
for _ in range(n):
    conn.request("POST", "/v1/chat/completions", body, {"content-type": "application/json"})
    r = json.loads(conn.getresponse().read())
    assert r["object"] == "chat.completion"
print(n / (time.perf_counter() - t0))
