#!/usr/bin/env python3
"""Publishes QoS 0 and QoS 1 messages on request (SDK).

A command on `plugins/{name}/publish` (JSON: `topic`, `count`, `qos` 0|1, `prefix`, `retain`, and
`properties`: the protocol's `properties` object, given to every message as it is) publishes
`count` messages with payloads `{prefix}1`..`{prefix}{count}`, one after the other at QoS 1 (each
waits for its ack), then reports `{"sent": n, "acked": n, "nacked": {reason: n}}` on
`plugins/{name}/result` (and to the command's response topic). Config: `ack_log` (a file: one line
`topic payload` is appended, and flushed, per acknowledged message, so a test can check that
everything acknowledged arrived even after a `kill -9`); `autostart` (a request run at start).
"""

import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "plugins" / "sdk" / "python"))
from wharf_plugin import Message, Nack, Plugin

plugin = Plugin(name="publisher", version="1.0.0")


@plugin.on_init
def configure(p: Plugin) -> None:
    """Subscribe to this instance's request topic."""
    p.subscriptions = [(f"plugins/{p.instance}/publish", 1)]


def run_request(request: dict[str, Any]) -> dict[str, Any]:
    """Publish what `request` asks for; the counts of what happened."""
    topic, qos = str(request.get("topic", f"plugins/{plugin.instance}/out")), int(request.get("qos", 1))
    count, prefix, retain = int(request.get("count", 1)), str(request.get("prefix", "")), bool(request.get("retain"))
    properties = request.get("properties") if isinstance(request.get("properties"), dict) else {}
    log_path = plugin.config.get("ack_log")
    acked, nacked = 0, Counter[str]()
    with open(log_path, "a") if log_path else open(os.devnull, "w") as log:
        for seq in range(1, count + 1):
            payload = f"{prefix}{seq}"
            try:
                plugin.publish(topic, payload, qos=qos, retain=retain, **properties)
            except Nack as refused:
                nacked[refused.reason] += 1
                continue
            acked += 1
            log.write(f"{topic} {payload}\n")
            log.flush()
    return {"sent": count, "acked": acked, "nacked": dict(nacked)}


@plugin.on_command
def command(msg: Message) -> None:
    """Run a request and report it."""
    result = run_request(msg.json())
    plugin.publish(f"plugins/{plugin.instance}/result", result, qos=1)
    plugin.reply(msg, result)


def main(p: Plugin) -> None:
    """Run the configured `autostart` request, if any."""
    if isinstance(p.config.get("autostart"), dict):
        p.publish(f"plugins/{p.instance}/result", run_request(p.config["autostart"]), qos=1)


plugin.run(main)
