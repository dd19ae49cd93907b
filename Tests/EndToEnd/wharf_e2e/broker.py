"""Starts and supervises the broker under test (wharfd or Mosquitto) for one test."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import resource
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
HOST = "127.0.0.1"
START_TIMEOUT = float(os.environ.get("WHARF_E2E_START_TIMEOUT", "20"))
STOP_TIMEOUT = 10.0
MOSQUITTO = os.environ.get("MOSQUITTO", "/usr/sbin/mosquitto")


def broker_kind() -> str:
    kind = os.environ.get("WHARF_E2E_BROKER", "wharfd").strip().lower()
    if kind not in ("wharfd", "mosquitto"):
        raise ValueError(f"WHARF_E2E_BROKER must be 'wharfd' or 'mosquitto', not {kind!r}")
    return kind


def wharfd_path() -> Path:
    return Path(os.environ.get("WHARFD", str(REPO_ROOT / ".build" / "debug" / "wharfd")))


@dataclass(frozen=True)
class BrokerOptions:
    """The broker settings a test may change; defaults mirror wharfd's documented defaults."""

    allow_anonymous: bool = True
    max_connections: int = 10000  # 0 = unlimited
    max_packet_size: int = 1048576  # bytes, whole packet
    max_inflight_messages: int = 20
    max_queued_messages: int = 1000
    max_keepalive: int = 65535
    retain_available: bool = True
    max_topic_alias: int = 10
    sys_interval: int = 10  # seconds
    # Mosquitto-format password and ACL files ("" for none), given to both brokers.
    password_file: str = ""
    acl_file: str = ""
    # Verbatim extra lines, for options that exist only on one broker.
    mosquitto_extra: tuple[str, ...] = field(default_factory=tuple)
    # Verbatim YAML appended to wharf.yaml: other top-level sections such as `adapters:`.
    wharf_extra_yaml: str = ""
    # Extra `broker:` keys of wharf.yaml ("key: value" lines), for options Mosquitto does not have.
    wharf_broker_extra: tuple[str, ...] = field(default_factory=tuple)
    # Mosquitto's `log_type` lines; ("all",) logs every packet, which slows it under a load.
    mosquitto_log_types: tuple[str, ...] = ("all",)
    # RLIMIT_NOFILE (soft and hard) the broker process starts with; 0 inherits the test's.
    open_file_limit: int = 0

    def with_changes(self, **changes: object) -> "BrokerOptions":
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


def render_wharf_yaml(options: BrokerOptions) -> str:
    """The wharf.yaml given to wharfd (the listener and data dir come from the command line)."""

    def flag(value: bool) -> str:
        return "true" if value else "false"

    # The admin API is on by default at 127.0.0.1:9883, a port every wharfd under test would
    # share; tests that use it give their own `admin:` section with a free port.
    has_admin = any(line.startswith("admin:") for line in options.wharf_extra_yaml.splitlines())
    admin = "" if has_admin else "admin:\n  enabled: false\n"
    return admin + "\n".join(
        [
            "broker:",
            f"  allow_anonymous: {flag(options.allow_anonymous)}",
            f"  max_connections: {options.max_connections}",
            f"  max_packet_size: {options.max_packet_size}",
            f"  max_inflight_messages: {options.max_inflight_messages}",
            f"  max_queued_messages: {options.max_queued_messages}",
            f"  max_keepalive: {options.max_keepalive}",
            f"  retain_available: {flag(options.retain_available)}",
            f"  max_topic_alias: {options.max_topic_alias}",
            f"  sys_interval: {options.sys_interval}s",
            *([f"  password_file: {json.dumps(options.password_file)}"] if options.password_file else []),
            *([f"  acl_file: {json.dumps(options.acl_file)}"] if options.acl_file else []),
            *(f"  {line}" for line in options.wharf_broker_extra),
            "",
        ]
    ) + (options.wharf_extra_yaml.rstrip("\n") + "\n" if options.wharf_extra_yaml else "")


def render_mosquitto_conf(options: BrokerOptions, port: int) -> str:
    """An equivalent mosquitto.conf; listener-scoped options follow the listener line."""
    lines = [
        "per_listener_settings false",
        f"listener {port} {HOST}",
        f"max_connections {options.max_connections if options.max_connections > 0 else -1}",
        f"max_topic_alias {options.max_topic_alias}",
        f"allow_anonymous {'true' if options.allow_anonymous else 'false'}",
        "persistence false",
        f"max_inflight_messages {options.max_inflight_messages}",
        f"max_queued_messages {options.max_queued_messages}",
        f"max_keepalive {options.max_keepalive}",
        f"retain_available {'true' if options.retain_available else 'false'}",
        f"sys_interval {options.sys_interval}",
        "log_dest stderr",
        *(f"log_type {kind}" for kind in options.mosquitto_log_types),
        "log_timestamp_format %H:%M:%S",
        "connection_messages true",
    ]
    if options.max_packet_size > 0:
        lines.append(f"max_packet_size {options.max_packet_size}")
    if options.password_file:
        lines.append(f"password_file {options.password_file}")
    if options.acl_file:
        lines.append(f"acl_file {options.acl_file}")
    lines.extend(options.mosquitto_extra)
    return "\n".join(lines) + "\n"


def _listening(host: str, port: int) -> bool:
    """True once a socket listens on host:port.

    Read from /proc/net/tcp rather than by connecting: a probe connection that
    closes before CONNECT would be counted by the broker (Mosquitto 2.0.11 even
    miscounts it against max_connections).
    """
    wanted = f"{socket.htonl(int.from_bytes(socket.inet_aton(host), 'big')):08X}:{port:04X}"
    try:
        with open("/proc/net/tcp") as table:
            next(table)
            return any(line.split()[1] == wanted and line.split()[3] == "0A" for line in table)
    except OSError:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            return False


# Ports handed out in this test run, by socket type: none is handed out twice.
_CHOSEN_PORTS: set[tuple[int, int]] = set()


def _ports_below_ephemeral_range() -> range:
    """Up to 12 000 ports just below the kernel's ephemeral range (from 32768 by default), which
    the kernel never gives to a client socket."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    return range(max(1024, low - 12000), low)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A TCP port (a UDP port with SOCK_DGRAM) on 127.0.0.1 that nothing is bound to right now.

    It comes from below the kernel's ephemeral range and is never handed out twice in a run: a
    server that starts later, or restarts on the same port, must not find its port taken by a
    client socket (a test client's, or wharfd's own connection) that the kernel numbered meanwhile.
    """
    candidates = _ports_below_ephemeral_range()
    for _ in range(200 if len(candidates) >= 1000 else 0):
        port = random.choice(candidates)
        if (kind, port) in _CHOSEN_PORTS:
            continue
        with socket.socket(socket.AF_INET, kind) as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
        _CHOSEN_PORTS.add((kind, port))
        return port
    # No room below the ephemeral range: let the kernel choose.
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


class BrokerError(AssertionError):
    """The broker failed to start, crashed or did not stop cleanly."""


class Broker:
    """A broker process on 127.0.0.1 with its own port and working directory."""

    def __init__(self, kind: str, options: BrokerOptions, workdir: Path) -> None:
        self.kind = kind
        self.options = options
        self.workdir = workdir
        self.host = HOST
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.failures: list[str] = []
        self._log_path = workdir / "broker.log"
        self._sent_signal: int | None = None
        # The process environment; None inherits the test's.
        self.env: dict[str, str] | None = None

    @property
    def is_wharfd(self) -> bool:
        return self.kind == "wharfd"

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def command(self) -> list[str]:
        if self.is_wharfd:
            config = self.workdir / "wharf.yaml"
            config.write_text(render_wharf_yaml(self.options))
            data = self.workdir / "data"
            data.mkdir(exist_ok=True)
            return [
                str(wharfd_path()),
                "--config",
                str(config),
                "--listen",
                f"{self.host}:{self.port}",
                "--data-dir",
                str(data),
            ]
        config = self.workdir / "mosquitto.conf"
        config.write_text(render_mosquitto_conf(self.options, self.port))
        return [MOSQUITTO, "-c", str(config)]

    def log(self) -> str:
        """Everything the broker wrote to stdout and stderr so far, across restarts."""
        try:
            return self._log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self) -> None:
        command = self.command()
        with open(self._log_path, "ab") as log:
            log.write(f"==== {' '.join(command)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=self.env,
                preexec_fn=self._limit_open_files if self.options.open_file_limit > 0 else None,
            )
        self._sent_signal = None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            status = self.proc.poll()
            if status is not None:
                raise BrokerError(f"{self.kind} exited with status {status} during start-up:\n{self.log()}")
            if _listening(self.host, self.port):
                return
            if time.monotonic() > deadline:
                self._terminate()
                raise BrokerError(f"{self.kind} did not accept TCP connections within {START_TIMEOUT} s:\n{self.log()}")
            time.sleep(0.02)

    def _limit_open_files(self) -> None:
        """Runs in the child before exec. The hard limit is lowered as well, so that a daemon
        that raises its soft limit to the hard one at start still meets the limit."""
        limit = self.options.open_file_limit
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def assert_alive(self) -> None:
        if not self.alive():
            status = None if self.proc is None else self.proc.returncode
            raise BrokerError(f"{self.kind} is not running (status {status}):\n{self.log()[-4000:]}")

    def _terminate(self) -> None:
        """SIGTERM, then SIGKILL after a bound; records anything that looks like a crash."""
        proc = self.proc
        if proc is None:
            return
        status = proc.poll()
        if status is not None and self._sent_signal is None:
            self.failures.append(f"{self.kind} exited on its own with status {status}")
            return
        if status is None:
            self._sent_signal = signal.SIGTERM
            proc.send_signal(signal.SIGTERM)
            try:
                status = proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.failures.append(f"{self.kind} did not exit within {STOP_TIMEOUT} s of SIGTERM")
                self._sent_signal = signal.SIGKILL
                proc.kill()
                status = proc.wait()
        if status < 0 and -status != self._sent_signal:
            self.failures.append(f"{self.kind} died of signal {signal.Signals(-status).name}")
        elif status > 0:
            self.failures.append(f"{self.kind} exited with status {status} after SIGTERM")

    def stop(self) -> None:
        self._terminate()
        self.proc = None

    def restart(self) -> None:
        """Stops the broker cleanly and starts it again on the same port and data directory."""
        self.stop()
        self.start()

    def kill9(self) -> None:
        """SIGKILLs the broker (an expected death: not reported as a crash)."""
        assert self.proc is not None and self.proc.poll() is None, "broker is not running"
        self._sent_signal = signal.SIGKILL
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def check_clean_exit(self) -> None:
        if self.failures:
            raise BrokerError("; ".join(self.failures) + f"\n---- broker log (tail) ----\n{self.log()[-6000:]}")
