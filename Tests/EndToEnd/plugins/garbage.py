#!/usr/bin/env python3
"""Writes garbage, then proves the host resynchronised.

Before `ready` it sends a publish (not allowed before ready). After the handshake: invalid JSON,
invalid UTF-8, a line longer than max_line_bytes, a JSON array, objects without a string `type`,
unknown types with and without an id, publishes with invalid topics (wildcards, empty, `$SYS`,
NUL, not a string), both payloads, bad base64, QoS 3, QoS 1 without an id; then a good QoS 1
publish on `plugins/{name}/alive` (id "alive"). It collects the answers to every line that had an
id (for up to `wait_s`, default 10 s) and publishes them as JSON `{id: "ack" | nack reason}` on
`plugins/{name}/answers` at QoS 0, retained (a subscriber that comes later still gets it), then
serves health and shutdown.
"""

import json
import time

import _raw

_raw.send({"type": "publish", "topic": "plugins/garbage/too-early", "payload": "x"})
init = _raw.handshake("garbage")
name = init.get("name", "garbage")
max_line = int(init.get("max_line_bytes", 1048576))
wait_s = float((init.get("config") or {}).get("wait_s", 10))

for raw in [
    b"this is not json",
    b'\xff\xfe\xfd{"type":"log"}',
    b'{"type":"publish"',
    b"[1,2,3]",
    b"42",
    b'{"topic":"no/type"}',
    b'{"type":7}',
    b'{"type":"publish","topic":"' + b"a" * (max_line + 1000) + b'"}',
]:
    _raw.write(raw + b"\n")
with_id = {
    "unknown-type": {"type": "teleport"},
    "plus": {"type": "publish", "topic": "plugins/+/x", "payload": "x", "qos": 1},
    "hash": {"type": "publish", "topic": "plugins/#", "payload": "x", "qos": 1},
    "empty-topic": {"type": "publish", "topic": "", "payload": "x", "qos": 1},
    "sys": {"type": "publish", "topic": "$SYS/broker/fake", "payload": "x", "qos": 1},
    "nul": {"type": "publish", "topic": "plugins/a\u0000b", "payload": "x", "qos": 1},
    "topic-not-string": {"type": "publish", "topic": 5, "payload": "x", "qos": 1},
    "both-payloads": {
        "type": "publish",
        "topic": f"plugins/{name}/x",
        "payload": "x",
        "payload_base64": "eA==",
        "qos": 1,
    },
    "bad-base64": {"type": "publish", "topic": f"plugins/{name}/x", "payload_base64": "!!!", "qos": 1},
    "qos3": {"type": "publish", "topic": f"plugins/{name}/x", "payload": "x", "qos": 3},
}
for ident, obj in with_id.items():
    _raw.send({**obj, "id": ident})
_raw.send({"type": "teleport"})  # unknown, no id: nothing to answer
_raw.send({"type": "publish", "topic": f"plugins/{name}/no-id", "payload": "x", "qos": 1})
_raw.send({"type": "publish", "id": "alive", "topic": f"plugins/{name}/alive", "payload": "still here", "qos": 1})

wanted = set(with_id) | {"alive"}
answers: dict[str, str] = {}
deadline = time.monotonic() + wait_s
while wanted - set(answers) and (obj := _raw.read(max(0.0, deadline - time.monotonic()))) is not None:
    if obj.get("type") == "health":
        _raw.send({"type": "health", "status": "healthy", "message": ""})
    elif obj.get("type") in ("ack", "nack") and obj.get("id") in wanted:
        answers[obj["id"]] = "ack" if obj["type"] == "ack" else str(obj.get("reason"))
    elif obj.get("type") == "shutdown":
        raise SystemExit(0)
_raw.send(
    {
        "type": "publish",
        "topic": f"plugins/{name}/answers",
        "payload": json.dumps(answers, sort_keys=True),
        "retain": True,
    }
)
_raw.serve()
