"""A small simulated plugin host: starts a plugin with pipes and speaks the plugin protocol, version 1.

It plays wharfd's side for the SDK's tests, the example plugins and the OPC UA plugin when no real
host is involved, and checks the plugin's side of the contract as it goes: every line it cannot
parse, every QoS 1/2 publish without an id and every publish beyond the granted credit is recorded
in `violations` (with the line), so a test can assert that a well-behaved plugin has none.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[3]
SDK_DIR = REPO_ROOT / "plugins" / "sdk" / "python"
WAIT = 10.0  # seconds any single expected line may take


class PluginHostError(AssertionError):
    """The plugin did not say what the test expected in time."""


@dataclass
class Retained:
    """What a broker would keep: the last retained payload per topic."""

    by_topic: dict[str, bytes] = field(default_factory=dict)


def payload_of(obj: dict[str, Any]) -> bytes:
    """The payload bytes of a publish or command object."""
    if "payload_base64" in obj:
        return base64.b64decode(obj["payload_base64"])
    return str(obj.get("payload", "")).encode("utf-8")


class SimHost:
    """One plugin process under a simulated host; `auto_ack` answers publishes like a router that accepts all."""

    def __init__(
        self,
        argv: list[str],
        *,
        name: str = "test",
        config: dict[str, Any] | None = None,
        credit: int = 64,
        max_line_bytes: int = 1048576,
        protocol: tuple[int, int] = (1, 1),
        health_interval_ms: int = 10000,
        auto_ack: bool = True,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        stderr_path: Path | None = None,
    ) -> None:
        self.argv, self.name, self.config = argv, name, config or {}
        self.credit, self.max_line_bytes, self.protocol = credit, max_line_bytes, protocol
        self.health_interval_ms, self.auto_ack = health_interval_ms, auto_ack
        self.env = {**os.environ, "PYTHONPATH": str(SDK_DIR), "PYTHONUNBUFFERED": "1", **(env or {})}
        self.cwd = cwd
        self.stderr_path = stderr_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.received: list[dict[str, Any]] = []  # every well-formed object, in order
        self.garbage: list[bytes] = []
        self.violations: list[str] = []
        self.retained = Retained()
        self.unanswered: set[Any] = set()
        self.max_unanswered = 0
        self.eof = threading.Event()
        self.broken_pipe = False  # a write found the plugin's stdin closed
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._stderr_file: Any = None

    # --- process -------------------------------------------------------------------------------
    def start(self, *, send_init: bool = True) -> None:
        """Start the plugin (in a process group of its own) and, by default, send `init`."""
        stderr: Any = subprocess.PIPE
        if self.stderr_path is not None:
            self._stderr_file = open(self.stderr_path, "ab")
            stderr = self._stderr_file
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=self.env,
            cwd=self.cwd,
            start_new_session=True,
        )
        threading.Thread(target=self._read_stdout, daemon=True).start()
        if self.stderr_path is None:
            threading.Thread(target=self._drain_stderr, daemon=True).start()
        if send_init:
            self.send_init()

    def send_init(self) -> None:
        """Send the `init` line with this host's settings."""
        self.send(
            {
                "type": "init",
                "protocol": {"min": self.protocol[0], "max": self.protocol[1]},
                "capabilities": ["credit", "commands", "health", "log"],
                "name": self.name,
                "config": self.config,
                "credit": self.credit,
                "max_line_bytes": self.max_line_bytes,
                "health_interval_ms": self.health_interval_ms,
                "wharf": {"version": "0.0.0-test"},
            }
        )

    def stop(self, grace: float = 5.0) -> int | None:
        """End the plugin: `shutdown`, then SIGTERM and SIGKILL to its process group. Returns its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.send({"type": "shutdown", "grace_ms": int(grace * 1000)})
            except OSError:
                pass
            for sig in (None, signal.SIGTERM, signal.SIGKILL):
                if sig is not None:
                    try:
                        os.killpg(self.proc.pid, sig)
                    except ProcessLookupError:
                        break
                try:
                    self.proc.wait(grace)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # whatever the plugin left in its group
        except (ProcessLookupError, PermissionError):
            pass
        if self._stderr_file is not None:
            self._stderr_file.close()
        return self.proc.returncode

    def wait_exit(self, timeout: float = WAIT, *, drain: bool = True) -> int:
        """The plugin's exit status once it exits by itself.

        With `drain`, also wait until everything it wrote was read (its stdout at EOF): the exit
        can be seen before the reader thread took the last lines. A plugin whose child keeps the
        pipe open never reaches EOF: wait for it with drain=False.
        """
        assert self.proc is not None
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise PluginHostError(f"plugin still running after {timeout} s; received {self.received[-5:]}") from None
        if drain and not self.eof.wait(timeout):
            raise PluginHostError(f"plugin exited but its stdout is still open after {timeout} s")
        return status

    # --- writing -------------------------------------------------------------------------------
    def send(self, obj: dict[str, Any]) -> None:
        """Send one object as a line."""
        self.send_raw(json.dumps(obj, separators=(",", ":")).encode("utf-8") + b"\n")

    def send_raw(self, data: bytes) -> None:
        """Send raw bytes (for garbage). A plugin that exited already loses them, as under wharfd."""
        assert self.proc is not None and self.proc.stdin is not None
        with self._write_lock:
            try:
                self.proc.stdin.write(data)
                self.proc.stdin.flush()
            except BrokenPipeError:
                self.broken_pipe = True

    def ack(self, ident: Any) -> None:
        """Acknowledge the publish `ident`."""
        with self._cond:
            self.unanswered.discard(ident)
        self.send({"type": "ack", "id": ident})

    def nack(self, ident: Any, reason: str, message: str = "") -> None:
        """Refuse the publish `ident`."""
        with self._cond:
            self.unanswered.discard(ident)
        self.send({"type": "nack", "id": ident, "reason": reason, "message": message})

    def command(
        self,
        topic: str,
        payload: bytes | str,
        *,
        qos: int = 1,
        properties: dict[str, Any] | None = None,
        retain: bool = False,
    ) -> None:
        """Deliver a command, with `payload` as text when it is valid UTF-8 (as the host does)."""
        obj: dict[str, Any] = {"type": "command", "topic": topic, "qos": qos, "retain": retain}
        data = payload.encode("utf-8") if isinstance(payload, str) else payload
        try:
            obj["payload"] = data.decode("utf-8")
        except UnicodeDecodeError:
            obj["payload_base64"] = base64.b64encode(data).decode("ascii")
        if properties:
            obj["properties"] = properties
        self.send(obj)

    def ping(self, timeout: float = WAIT) -> dict[str, Any]:
        """Send a health ping; the plugin's next health line."""
        start = len(self.received)
        self.send({"type": "health"})
        return self.wait_for(lambda o: o["type"] == "health", timeout, start=start)

    # --- reading -------------------------------------------------------------------------------
    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._take(line)
        with self._cond:
            self.eof.set()
            self._cond.notify_all()

    def _drain_stderr(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        self.stderr_lines: list[bytes] = []
        for line in self.proc.stderr:
            self.stderr_lines.append(line)

    def _take(self, line: bytes) -> None:
        body = line.rstrip(b"\n").removesuffix(b"\r")
        try:
            if len(body) > self.max_line_bytes:
                raise ValueError("overlong")
            obj = json.loads(body.decode("utf-8"))
            if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
                raise ValueError("not an object with a type")
        except ValueError:
            with self._cond:
                self.garbage.append(body)
                self._cond.notify_all()
            return
        reply: dict[str, Any] | None = None
        with self._cond:
            if obj["type"] == "publish":
                reply = self._check_publish(obj)
            self.received.append(obj)
            self._cond.notify_all()
        if reply is not None:
            self.send(reply)

    def _check_publish(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        qos, ident = obj.get("qos", 0), obj.get("id")
        if qos in (1, 2) and ident is None:
            self.violations.append(f"QoS {qos} publish without id: {obj}")
            return None
        if qos in (1, 2):
            if ident in self.unanswered:
                self.violations.append(f"id {ident!r} reused while unanswered")
            self.unanswered.add(ident)
            self.max_unanswered = max(self.max_unanswered, len(self.unanswered))
            if len(self.unanswered) > self.credit:
                self.violations.append(f"credit exceeded: {len(self.unanswered)} unanswered, credit {self.credit}")
        if obj.get("retain"):
            self.retained.by_topic[obj.get("topic", "")] = payload_of(obj)
        if ident is not None and (self.auto_ack or qos == 0):
            self.unanswered.discard(ident)
            return {"type": "ack", "id": ident}
        return None

    def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = WAIT, *, start: int = 0
    ) -> dict[str, Any]:
        """The first object received (from index `start`) that matches; fails after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for obj in self.received[start:]:
                    if predicate(obj):
                        return obj
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.eof.is_set():
                    why = "the plugin closed stdout" if self.eof.is_set() else f"nothing within {timeout} s"
                    raise PluginHostError(f"no matching line: {why}; last received: {self.received[-8:]}")
                self._cond.wait(remaining)

    def wait_until(self, condition: Callable[[], bool], timeout: float = WAIT, what: str = "condition") -> None:
        """Wait until `condition()` (called under the host's lock, after each line) holds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.eof.is_set():
                    raise PluginHostError(
                        f"{what} not reached (eof={self.eof.is_set()}); {len(self.received)} received"
                    )
                self._cond.wait(remaining)

    def wait_ready(self, timeout: float = WAIT) -> dict[str, Any]:
        """The plugin's `ready` line."""
        return self.wait_for(lambda o: o["type"] == "ready", timeout)

    def publishes(self, topic: str | None = None) -> list[dict[str, Any]]:
        """The publishes received so far (on `topic` only, when given)."""
        with self._cond:
            return [o for o in self.received if o["type"] == "publish" and (topic is None or o.get("topic") == topic)]

    def wait_publish(
        self,
        topic: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda o: True,
        timeout: float = WAIT,
        *,
        start: int = 0,
    ) -> dict[str, Any]:
        """The first publish on `topic` (from index `start` of everything received) that matches."""
        return self.wait_for(
            lambda o: o["type"] == "publish" and o.get("topic") == topic and predicate(o), timeout, start=start
        )

    def mark(self) -> int:
        """An index into `received`: pass it as `start` to look only at what arrives from now on."""
        with self._cond:
            return len(self.received)
