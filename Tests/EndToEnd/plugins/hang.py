#!/usr/bin/env python3
"""Hangs: answers the handshake, then never reads or writes again. With `ignore_sigterm: true` in
its config it also ignores SIGTERM, so that only SIGKILL ends it."""

import signal
import time

import _raw

init = _raw.handshake("hang")
if (init.get("config") or {}).get("ignore_sigterm"):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
while True:
    time.sleep(3600)
