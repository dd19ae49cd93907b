#!/usr/bin/env python3
"""Fails while a file exists: reads `init`; if the file named by config `fail_file` exists it writes
`flaky: failing at start` to stderr and exits 3 before `ready`. Otherwise it answers `ready` and
serves health and shutdown, checking the file every 0.1 s: once it appears the plugin writes
`flaky: failing now` to stderr and exits 3. A test makes it crash, and lets it recover, by creating
and removing the file."""

import os
import sys
from pathlib import Path

import _raw

init = _raw.read() or {}
fail_file = Path(str((init.get("config") or {}).get("fail_file", "/nonexistent/flaky")))
if fail_file.exists():
    sys.stderr.write("flaky: failing at start\n")
    sys.stderr.flush()
    os._exit(3)
_raw.send(
    {
        "type": "ready",
        "protocol": 1,
        "name": "flaky",
        "version": "1.0.0",
        "capabilities": ["credit", "commands", "health", "log"],
        "subscriptions": [],
    }
)
while True:
    if fail_file.exists():
        sys.stderr.write("flaky: failing now\n")
        sys.stderr.flush()
        os._exit(3)
    obj = _raw.read(0.1)
    if obj is None:
        if _raw.at_eof():
            sys.exit(0)
        continue
    if obj.get("type") == "health":
        _raw.send({"type": "health", "status": "healthy", "message": ""})
    elif obj.get("type") == "shutdown":
        sys.exit(0)
