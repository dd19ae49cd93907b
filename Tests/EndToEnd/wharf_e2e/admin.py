"""Helpers for the admin API, wharfctl and sd_notify suites (test_40..43)."""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

from wharf_e2e.broker import Broker, wharfd_path

T = TypeVar("T")


def wharfctl_path() -> Path:
    """$WHARFCTL, else the wharfd under test ($WHARFD) started under the name `wharfctl`, as the
    package installs it: /usr/bin/wharfctl is a symbolic link to wharfd, which runs wharfctl when
    started under that name. The link is dangling (is_file() is false) while wharfd is not built."""
    if "WHARFCTL" in os.environ:
        return Path(os.environ["WHARFCTL"])
    return _link_named("wharfctl", wharfd_path().absolute())


@functools.cache
def _link_named(name: str, target: Path) -> Path:
    """A symbolic link `name` to `target` in a directory of this test process, removed at exit."""
    directory = Path(tempfile.mkdtemp(prefix=f"wharf-e2e-{name}-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    link = directory / name
    link.symlink_to(target)
    return link


def admin_yaml(port: int, extra: str = "") -> str:
    """An `admin:` section listening on 127.0.0.1:port."""
    return f'admin:\n  listen: "127.0.0.1:{port}"\n' + extra


@dataclass
class Reply:
    status: int
    content_type: str
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


def get(port: int, path: str, timeout: float = 5.0) -> Reply:
    """GET http://127.0.0.1:port/path; HTTP errors are replies too."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
            return Reply(response.status, response.headers.get("Content-Type", ""), response.read().decode())
    except urllib.error.HTTPError as error:
        return Reply(error.code, error.headers.get("Content-Type", ""), error.read().decode())


def wait_until(
    probe: Callable[[], T | None], timeout: float = 10.0, what: str = "condition", interval: float = 0.05
) -> T:
    """Calls `probe` every `interval` seconds until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
            last = value
        except (OSError, ValueError) as error:
            last = error
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def wait_for_admin(port: int, timeout: float = 10.0) -> Reply:
    """The first /healthz answer once the admin API listens."""
    return wait_until(lambda: get(port, "/healthz", timeout=2.0), timeout, f"the admin API on port {port}")


def metric(text: str, name: str, labels: str = "") -> float | None:
    """The value of `name{labels}` in Prometheus text, or None when absent."""
    wanted = f"{name}{{{labels}}}" if labels else name
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == wanted:
            return float(value)
    return None


def wharfctl(*args: str, timeout: float = 15.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(wharfctl_path()), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def write_config(broker: Broker, extra_yaml: str) -> Path:
    """Replaces what follows the broker section of broker's wharf.yaml with `extra_yaml`."""
    from wharf_e2e.broker import render_wharf_yaml

    path = broker.workdir / "wharf.yaml"
    path.write_text(render_wharf_yaml(broker.options.with_changes(wharf_extra_yaml=extra_yaml)))
    return path


class NotifySocket:
    """A Unix datagram socket standing in for systemd's $NOTIFY_SOCKET."""

    def __init__(self, directory: Path, *, abstract: bool = False) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = f"wharf-e2e-notify-{os.getpid()}-{time.monotonic_ns()}"
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            path = directory / "notify.sock"
            self.sock.bind(str(path))
            self.address = str(path)
        self.received: list[dict[str, str]] = []

    def close(self) -> None:
        self.sock.close()

    def wait_for(self, key: str, value: str | None = None, timeout: float = 10.0) -> dict[str, str]:
        """The first message (since the last match) that sets `key` (to `value`)."""
        deadline = time.monotonic() + timeout
        while True:
            for index, message in enumerate(self.received):
                if key in message and (value is None or message[key] == value):
                    del self.received[: index + 1]
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {key}={value or '*'} on the notify socket within {timeout} s")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            self.received.append(fields)

    def drain(self, seconds: float) -> list[dict[str, str]]:
        """Everything that arrives within `seconds` (and anything not yet matched)."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                break
            self.received.append(dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line))
        messages, self.received = self.received, []
        return messages
