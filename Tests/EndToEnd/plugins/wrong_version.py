#!/usr/bin/env python3
"""Answers `init` with a protocol version outside the offered range (config `protocol`, default 2),
then serves health and shutdown like a well-behaved plugin."""

import _raw

init = _raw.read() or {}
protocol = int((init.get("config") or {}).get("protocol", 2))
_raw.send(
    {
        "type": "ready",
        "protocol": protocol,
        "name": "wrong-version",
        "version": "1.0.0",
        "capabilities": ["credit", "commands", "health", "log"],
        "subscriptions": [],
    }
)
_raw.serve()
