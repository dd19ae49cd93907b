#!/usr/bin/env python3
"""Floods: after the handshake writes publishes on `plugins/{name}/flood` as fast as the pipe takes
them, never reading an answer. Config: `qos` 1 (default: ids 1, 2, 3..., ignoring the credit) or 0;
`count` how many (default 0: forever); `payload_bytes` (default 64)."""

import json

import _raw

init = _raw.handshake("flood")
config, name = init.get("config") or {}, init.get("name", "flood")
qos, count = int(config.get("qos", 1)), int(config.get("count", 0))
payload = "x" * int(config.get("payload_bytes", 64))
topic = json.dumps(f"plugins/{name}/flood")
seq = 0
while count == 0 or seq < count:
    seq += 1
    ident = f'"id":{seq},' if qos else ""
    _raw.OUT.write(f'{{"type":"publish",{ident}"topic":{topic},"payload":"{payload}","qos":{qos}}}\n'.encode())
    if seq % 256 == 0:
        _raw.OUT.flush()
_raw.OUT.flush()
_raw.serve()
