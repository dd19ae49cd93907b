#!/usr/bin/env python3
"""Subscribes, then never reads stdin again: commands pile up in the host. Answers the handshake with
the subscriptions of config `filters` (default `["plugins/{name}/cmd/#"]`, QoS 1), then sleeps until
killed. Give it a long `health_interval`: unanswered pings would have it restarted as hanging."""

import time

import _raw

init = _raw.read() or {}
name = init.get("name", "deaf")
filters = (init.get("config") or {}).get("filters") or [f"plugins/{name}/cmd/#"]
_raw.send(
    {
        "type": "ready",
        "protocol": 1,
        "name": "deaf",
        "version": "1.0.0",
        "capabilities": ["credit", "commands", "health", "log"],
        "subscriptions": [{"filter": f, "qos": 1} for f in filters],
    }
)
while True:
    time.sleep(3600)
