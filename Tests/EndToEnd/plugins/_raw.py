"""Raw protocol helpers for the misbehaving test plugins: they must not lean on the SDK's good manners."""

from __future__ import annotations

import json
import os
import select
import sys
import time
from typing import Any

OUT = sys.stdout.buffer
_buffer = b""  # what was read from stdin and not handled yet
_eof = False  # stdin reached its end


def send(obj: dict[str, Any]) -> None:
    """Write one object as a line and flush it."""
    write(json.dumps(obj, separators=(",", ":")).encode("utf-8") + b"\n")


def write(data: bytes) -> None:
    """Write raw bytes and flush them."""
    OUT.write(data)
    OUT.flush()


def read(timeout: float | None = None) -> dict[str, Any] | None:
    """The next object from the host (lines that are not objects are skipped); None at EOF or after `timeout` s."""
    global _buffer, _eof
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        while b"\n" in _buffer:
            line, _buffer = _buffer.split(b"\n", 1)
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                return obj
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not select.select([0], [], [], remaining)[0]:
            return None
        chunk = os.read(0, 65536)
        if not chunk:
            _eof = True
            return None
        _buffer += chunk


def at_eof() -> bool:
    """True once stdin reached its end (`read` returns None at EOF and after a timeout alike)."""
    return _eof


def handshake(name: str, protocol: int = 1, subscriptions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Read `init`, answer `ready`; returns init (exits 0 at EOF)."""
    init = read()
    if init is None or init.get("type") != "init":
        sys.stderr.write(f"{name}: expected init, got {init!r}\n")
        os._exit(2)
    send(
        {
            "type": "ready",
            "protocol": protocol,
            "name": name,
            "version": "1.0.0",
            "capabilities": ["credit", "commands", "health", "log"],
            "subscriptions": subscriptions or [],
        }
    )
    return init


def serve() -> None:
    """Answer health pings until shutdown or EOF, then exit 0."""
    while (obj := read()) is not None:
        if obj.get("type") == "health":
            send({"type": "health", "status": "healthy", "message": ""})
        elif obj.get("type") == "shutdown":
            break
    sys.exit(0)
