#!/usr/bin/env python3
"""Forks a child that sleeps forever (holding the inherited pipes), then the parent exits 0 after the
handshake. The child's pid goes to stderr and, with `pid_file` in the config, to that file: no such
process may survive the host. With `stay: true` in the config the parent stays and serves health and
shutdown instead of exiting (a plugin with a child in its process group)."""

import os
import time

import _raw

init = _raw.handshake("fork-child")
pid = os.fork()
if pid == 0:
    while True:
        time.sleep(3600)
pid_file = (init.get("config") or {}).get("pid_file")
if pid_file:
    with open(pid_file, "w") as out:
        out.write(f"{pid}\n")
if (init.get("config") or {}).get("stay"):
    os.write(2, f"fork_child: child {pid} sleeps forever; parent stays\n".encode())
    _raw.serve()
os.write(2, f"fork_child: child {pid} sleeps forever; parent exits\n".encode())
os._exit(0)
