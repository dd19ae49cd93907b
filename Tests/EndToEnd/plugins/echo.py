#!/usr/bin/env python3
"""Echoes commands back as publishes (SDK), for command round trips.

Subscribes to the filters in config `filters` (default `plugins/{name}/echo/#`, QoS 1). Each
command is published back with the same payload bytes, content type and user properties: to its
response topic with its correlation data when it has one, else to `{topic}/echo`; at config `qos`
(default 1).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "plugins" / "sdk" / "python"))
from wharf_plugin import Message, Plugin

plugin = Plugin(name="echo", version="1.0.0")


@plugin.on_init
def configure(p: Plugin) -> None:
    """Subscribe to the configured filters."""
    filters = p.config.get("filters") or [f"plugins/{p.instance}/echo/#"]
    p.subscriptions = [(str(f), 1) for f in filters]


@plugin.on_command
def echo(msg: Message) -> None:
    """Publish the command back."""
    keep = {k: msg.properties[k] for k in ("content_type", "user_properties") if k in msg.properties}
    qos = int(plugin.config.get("qos", 1))
    if not plugin.reply(msg, msg.payload, qos=qos, **keep):
        plugin.publish(msg.topic + "/echo", msg.payload, qos=qos, **keep)


plugin.run()
