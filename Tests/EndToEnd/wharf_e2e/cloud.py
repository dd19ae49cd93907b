"""A real Mosquitto standing in for the cloud broker of wharfd's uplink, and a subscriber on it."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from .broker import HOST, MOSQUITTO, START_TIMEOUT, STOP_TIMEOUT, _listening
from .client import V5, Collector, MqttClient, Received


def stable_port() -> int:
    """A free port below the kernel's ephemeral range.

    The cloud broker is stopped and restarted on the same port while wharfd keeps
    reconnecting to it. A port inside the ephemeral range could be picked as the
    source port of one of those connects, which Linux then completes as a TCP
    self-connection (wharfd talking to itself, and the restarted broker unable to bind).
    """
    low = 32768
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    for _ in range(200):
        port = random.randrange(max(1024, low - 12000), low)
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, port))
            except OSError:
                continue
        if not _listening(HOST, port):
            return port
    raise AssertionError("no free port below the ephemeral range")


@dataclass(frozen=True)
class CloudTLS:
    """The TLS listener wharfd connects to; `require_certificate` asks for a client certificate."""

    ca_file: str
    cert_file: str
    key_file: str
    require_certificate: bool = True


class Cloud:
    """Mosquitto on 127.0.0.1 with fixed ports, so that it can be stopped and started again in place.

    `port` is where wharfd's uplink connects (TLS when `tls` is given); `client_port` is a
    plain listener for the test's own clients (the same port without TLS).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        persistence: bool = False,
        tls: CloudTLS | None = None,
        extra: Sequence[str] = (),
    ) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.host = HOST
        self.port = stable_port()
        self.client_port = stable_port() if tls is not None else self.port
        while self.client_port == self.port and tls is not None:
            self.client_port = stable_port()
        self.persistence = persistence
        self.tls = tls
        self.extra = tuple(extra)
        self.proc: subprocess.Popen[bytes] | None = None
        self.failures: list[str] = []
        self._log_path = workdir / "mosquitto.log"

    def config(self) -> str:
        lines = [
            "per_listener_settings false",
            "allow_anonymous true",
            f"persistence {'true' if self.persistence else 'false'}",
            # Neither bound nor window: a slow test subscriber must not lose or hold back messages.
            "max_queued_messages 0",
            "max_inflight_messages 0",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "log_timestamp_format %H:%M:%S",
        ]
        if os.geteuid() == 0:
            # Mosquitto started by root switches to the 'mosquitto' user, which can neither read
            # the certificates nor write the persistence file in the test's private directory.
            lines.append("user root")
        if self.persistence:
            lines += [f"persistence_location {self.workdir}/", "persistence_file cloud.db", "autosave_interval 1800"]
        lines.append(f"listener {self.port} {self.host}")
        if self.tls is not None:
            lines += [
                f"cafile {self.tls.ca_file}",
                f"certfile {self.tls.cert_file}",
                f"keyfile {self.tls.key_file}",
                f"require_certificate {'true' if self.tls.require_certificate else 'false'}",
                f"listener {self.client_port} {self.host}",
            ]
        lines += list(self.extra)
        return "\n".join(lines) + "\n"

    def log(self) -> str:
        try:
            return self._log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        assert not self.alive(), "cloud broker already running"
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(self.config())
        with open(self._log_path, "ab") as log:
            log.write(f"==== start {time.strftime('%H:%M:%S')}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [MOSQUITTO, "-c", str(conf)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        ports = {self.port, self.client_port}
        while not all(_listening(self.host, port) for port in ports):
            status = self.proc.poll()
            if status is not None:
                raise AssertionError(f"cloud mosquitto exited with {status} during start-up:\n{self.log()[-3000:]}")
            if time.monotonic() > deadline:
                self.kill9()
                raise AssertionError(f"cloud mosquitto did not listen within {START_TIMEOUT} s:\n{self.log()[-3000:]}")
            time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM (Mosquitto saves its persistence file then), SIGKILL after a bound."""
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.failures.append("cloud mosquitto ignored SIGTERM")
                proc.kill()
                proc.wait()
        elif proc.returncode != 0:
            self.failures.append(f"cloud mosquitto exited on its own with {proc.returncode}")
        self.proc = None
        # The port must be free again before anything is started on it.
        deadline = time.monotonic() + STOP_TIMEOUT
        while any(_listening(self.host, port) for port in {self.port, self.client_port}):
            assert time.monotonic() < deadline, "cloud port still listening after mosquitto exited"
            time.sleep(0.02)

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def client(self, **kwargs: object) -> MqttClient:
        """An unconnected paho client for the plain listener."""
        return MqttClient(self.host, self.client_port, **kwargs)  # type: ignore[arg-type]


class CloudSubscriber:
    """A subscriber on the cloud broker that keeps one message list across reconnects.

    With `persistent=True` it uses a session that outlives the connection (MQTT 5 session
    expiry, or clean session false for 3.1.1), so messages published while it is offline
    wait for it at the broker (as long as the broker keeps them).
    """

    def __init__(
        self,
        cloud: Cloud,
        filters: Sequence[str],
        *,
        qos: int = 1,
        version: int = V5,
        persistent: bool = True,
        client_id: str | None = None,
    ) -> None:
        self.cloud = cloud
        self.filters = list(filters)
        self.qos = qos
        self.version = version
        self.persistent = persistent
        self.messages = Collector()
        self.client_id = client_id or f"cloud-sub-{random.randrange(1 << 30)}"
        self.client: MqttClient | None = None
        self.session_present: bool | None = None

    def connect(self) -> "CloudSubscriber":
        """Connects (resuming the session when persistent) and subscribes if the session did not survive."""
        self.close()
        kwargs: dict[str, object] = {"version": self.version, "client_id": self.client_id, "clean": not self.persistent}
        if self.version == V5 and self.persistent:
            kwargs["session_expiry"] = 3600
        client = self.cloud.client(**kwargs)
        client.messages = self.messages
        self.client = client
        connack = client.connect()
        self.session_present = connack.session_present
        if not connack.session_present:
            granted = client.subscribe([(f, self.qos) for f in self.filters])
            assert all(code == self.qos for code in granted), f"cloud SUBACK {granted}"
        return self

    def wait_for(self, predicate, timeout: float) -> list[Received]:  # noqa: ANN001
        return self.messages.wait_for(predicate, timeout)

    def snapshot(self) -> list[Received]:
        return self.messages.snapshot()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
