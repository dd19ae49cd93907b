#!/usr/bin/env python3
"""Ignores its credit: after the handshake it writes `count` QoS 1 publishes (config, default 10)
at once without waiting for a single answer, then answers health pings and exits 0 on shutdown.
Everything else it does is correct, so the conformance kit must fail it on the credit alone."""

import json
import sys


def send(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


init = json.loads(sys.stdin.readline())
send({"type": "ready", "protocol": 1, "name": "ignore-credit", "version": "1.0.0", "subscriptions": []})
count = int((init.get("config") or {}).get("count", 10))
for n in range(1, count + 1):
    send({"type": "publish", "id": n, "topic": f"plugins/{init['name']}/flood", "payload": str(n), "qos": 1})
for line in sys.stdin:
    message = json.loads(line)
    if message.get("type") == "health":
        send({"type": "health", "status": "healthy"})
    elif message.get("type") == "shutdown":
        sys.exit(0)
