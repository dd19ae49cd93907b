#!/usr/bin/env python3
"""Crashes mid-stream: publishes `count` QoS 1 messages (config, default 10) on `plugins/{name}/seq`
with payloads 1..count, waits for the answers to the first `acked_before_crash` (default half),
then writes half a publish line and dies with status 1 (os._exit: no flush, no goodbye)."""

import os

import _raw

init = _raw.handshake("crash-midstream")
config, name = init.get("config") or {}, init.get("name", "crash-midstream")
count = int(config.get("count", 10))
wait_for = int(config.get("acked_before_crash", count // 2))
for seq in range(1, count + 1):
    _raw.send({"type": "publish", "id": seq, "topic": f"plugins/{name}/seq", "payload": str(seq), "qos": 1})
answers = 0
while answers < wait_for and (obj := _raw.read()) is not None:
    answers += obj.get("type") in ("ack", "nack")
_raw.write(b'{"type":"publish","id":9999,"topic":"plugins/')
os._exit(1)
