#!/usr/bin/env python3
"""Reports what the host gave it: its descriptors, limits, process group, environment and working
directory, as a retained JSON document on `plugins/{name}/report` (QoS 1); writes two lines to
stderr (a short one and one of 10000 characters); then serves health and shutdown.

The descriptors are listed first thing, before anything else is opened. The report's members:
`fds` ({fd: link target}), `pid`, `pgid`, `sid`, `ppid`, `parent_argv0`, `nofile` ([soft, hard]),
`limits_open_files` (the "Max open files" line of /proc/self/limits), `cwd`, `env`, `argv`.
"""

import os

fds: dict[str, str] = {}
for entry in os.listdir("/proc/self/fd"):
    try:
        fds[entry] = os.readlink(f"/proc/self/fd/{entry}")
    except OSError:
        pass  # the descriptor of the listing itself, closed by now

import json  # noqa: E402 - after the listing on purpose
import resource  # noqa: E402
import sys  # noqa: E402

import _raw  # noqa: E402

init = _raw.handshake("introspect")
name = init.get("name", "introspect")
with open("/proc/self/limits") as limits:
    open_files = next((line.strip() for line in limits if line.startswith("Max open files")), "")
try:
    with open(f"/proc/{os.getppid()}/cmdline", "rb") as cmdline:
        parent_argv0 = cmdline.read().split(b"\0")[0].decode(errors="replace")
except OSError:
    parent_argv0 = ""
report = {
    "fds": fds,
    "pid": os.getpid(),
    "pgid": os.getpgrp(),
    "sid": os.getsid(0),
    "ppid": os.getppid(),
    "parent_argv0": parent_argv0,
    "nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
    "limits_open_files": open_files,
    "cwd": os.getcwd(),
    "env": dict(os.environ),
    "argv": sys.argv,
}
sys.stderr.write(f"introspect: stderr line from {name}\n")
sys.stderr.write("introspect-long: " + "z" * 10000 + "\n")
sys.stderr.flush()
_raw.send(
    {
        "type": "publish",
        "id": "report",
        "topic": f"plugins/{name}/report",
        "payload": json.dumps(report),
        "qos": 1,
        "retain": True,
        "properties": {"content_type": "application/json"},
    }
)
_raw.serve()
