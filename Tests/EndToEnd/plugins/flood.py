#!/usr/bin/env python3
"""Floods: after the handshake writes publishes on `plugins/{name}/flood` as fast as the pipe takes
them, never reading an answer. Config: `qos` 1 (default: ids 1, 2, 3..., ignoring the credit) or 0;
`count` how many (default 0: forever); `payload_bytes` (default 64); `progress_file`: a file that
holds the number of lines written so far, rewritten after every flush (every 256 lines), so that a
test can tell how much went through the pipe without reading any metric."""

import json
import os

import _raw

init = _raw.handshake("flood")
config, name = init.get("config") or {}, init.get("name", "flood")
qos, count = int(config.get("qos", 1)), int(config.get("count", 0))
payload = "x" * int(config.get("payload_bytes", 64))
topic = json.dumps(f"plugins/{name}/flood")
progress = config.get("progress_file")
progress_fd = os.open(progress, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644) if progress else None


def report(seq: int) -> None:
    """Rewrite the progress file with the number of lines written."""
    if progress_fd is not None:
        os.pwrite(progress_fd, f"{seq:020d}\n".encode(), 0)


seq = 0
while count == 0 or seq < count:
    seq += 1
    ident = f'"id":{seq},' if qos else ""
    _raw.OUT.write(f'{{"type":"publish",{ident}"topic":{topic},"payload":"{payload}","qos":{qos}}}\n'.encode())
    if seq % 256 == 0:
        _raw.OUT.flush()
        report(seq)
_raw.OUT.flush()
report(seq)
_raw.serve()
