"""The harness of the hostile-client suite (test_14): a probe client, the broker's RSS and its
clients_connected counter, watched while a case attacks the broker.

Every case runs inside a `HostileCase`. While the attack runs, a probe client publishes QoS 1
messages to its own topic and waits for each to come back (a liveness check: one round trip
may take at most `PROBE_BOUND` seconds), a second thread opens fresh connections and waits for
their CONNACK (same bound), and a sampler reads VmRSS from /proc. At the end the case waits for
`$SYS/broker/clients/connected` to return to the harness's own clients, checks the RSS bound
the case stated, and fails with every observation in one message.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from dataclasses import dataclass, field
from collections.abc import Callable

from . import codec
from .broker import Broker
from .client import MqttClient, unique_id

# Multiplies the sizes of the attacks (connections, messages, subscriptions); README.md.
SCALE = float(os.environ.get("WHARF_E2E_HOSTILE_SCALE", "1"))
# Liveness, not performance: a healthy broker answers in milliseconds even on a loaded
# two-core machine; a round trip or CONNACK taking longer than this means a stalled loop.
PROBE_BOUND = 5.0
# The probe gives up on one round trip after this long (and reports a stall of at least it).
PROBE_GIVE_UP = 60.0
# A load stops once the broker's RSS passes this, to protect the machine; the case then fails.
RSS_CEILING_MIB = 1536
MIB = 1024 * 1024


def scaled(count: int, minimum: int = 1) -> int:
    """`count` multiplied by WHARF_E2E_HOSTILE_SCALE, at least `minimum`."""
    return max(minimum, int(count * SCALE))


def time_bound(seconds: float) -> float:
    """A deadline for work whose size scales: grows with the scale, never shrinks below `seconds`."""
    return seconds * max(1.0, SCALE)


def _status_kib(pid: int, key: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError(f"{key} missing from /proc/{pid}/status")


def rss_mib(pid: int) -> float:
    """The process's resident set size (VmRSS) in MiB."""
    return _status_kib(pid, "VmRSS") / 1024


def peak_rss_mib(pid: int) -> float:
    """The highest RSS the process ever had (VmHWM) in MiB."""
    return _status_kib(pid, "VmHWM") / 1024


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_file_limit(pid: int) -> int:
    """The soft RLIMIT_NOFILE of a running process."""
    with open(f"/proc/{pid}/limits") as limits:
        for line in limits:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise AssertionError(f"no open-file limit in /proc/{pid}/limits")


class RssSampler:
    """Samples the broker's RSS every 50 ms; `over_ceiling` is set once it passes RSS_CEILING_MIB."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.baseline = rss_mib(pid)
        self.peak = self.baseline
        # The kernel's high-water mark catches peaks between samples, once it passes this.
        self.high_water_at_start = peak_rss_mib(pid)
        self.over_ceiling = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            try:
                value = rss_mib(self.pid)
            except (OSError, AssertionError):
                return  # the process is gone; the case reports that
            self.peak = max(self.peak, value)
            if value > RSS_CEILING_MIB:
                self.over_ceiling.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


class ConnectedCounter:
    """The latest `$SYS/broker/clients/connected` (needs sys_interval 1 s)."""

    TOPIC = "$SYS/broker/clients/connected"

    def __init__(self, broker: Broker, **credentials: object) -> None:
        self.value: int | None = None
        self._start = time.monotonic()
        # (seconds since start, value) of every update, for failure messages.
        self.history: list[tuple[float, int]] = []
        self._cond = threading.Condition()
        self.client = MqttClient(broker.host, broker.port, client_id=unique_id("hostile-sys"), **credentials)  # type: ignore[arg-type]
        self.client.paho.on_message = self._on_message
        self.client.connect()
        self.client.subscribe(self.TOPIC, 0)

    def _on_message(self, client, userdata, message) -> None:  # noqa: ANN001
        with self._cond:
            self.value = int(message.payload)
            self.history.append((round(time.monotonic() - self._start, 1), self.value))
            self._cond.notify_all()

    def wait_for(self, wanted: int, timeout: float) -> float | None:
        """Seconds until the counter read `wanted`, or None if it did not within `timeout`."""
        start = time.monotonic()
        with self._cond:
            if self._cond.wait_for(lambda: self.value == wanted, timeout):
                return time.monotonic() - start
        return None

    def close(self) -> None:
        self.client.close()


class Probe:
    """A client that keeps doing QoS 1 round trips on its own topic, and fresh CONNECTs beside it."""

    INTERVAL = 0.1

    def __init__(self, broker: Broker, *, fresh_connections: bool, **credentials: object) -> None:
        self.broker = broker
        self.credentials = credentials
        self.client = MqttClient(broker.host, broker.port, client_id=unique_id("hostile-probe"), **credentials)  # type: ignore[arg-type]
        self.topic = f"hostile/probe/{self.client.client_id}"
        self.round_trips: list[float] = []
        self.worst = 0.0  # seconds, including a round trip still waiting at stop()
        self.connects: list[float] = []
        self.connect_failures: list[str] = []
        self.fresh_connections = threading.Event()
        if fresh_connections:
            self.fresh_connections.set()
        self._arrived: set[bytes] = set()
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self.lost = False
        self.client.paho.on_message = self._on_message
        self.client.connect()
        assert self.client.subscribe(self.topic, 1) == [1]
        self._threads = [
            threading.Thread(target=self._round_trips, name="probe-rtt", daemon=True),
            threading.Thread(target=self._connects, name="probe-connect", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _on_message(self, client, userdata, message) -> None:  # noqa: ANN001
        with self._cond:
            self._arrived.add(bytes(message.payload))
            self._cond.notify_all()

    def _round_trips(self) -> None:
        seq = 0
        while not self._stop.is_set():
            seq += 1
            payload = str(seq).encode()
            start = time.monotonic()
            self.client.paho.publish(self.topic, payload, 1)
            with self._cond:
                while payload not in self._arrived and not self._stop.is_set():
                    if time.monotonic() - start > PROBE_GIVE_UP:
                        break
                    self._cond.wait(0.05)
                arrived = payload in self._arrived
            elapsed = time.monotonic() - start
            self.worst = max(self.worst, elapsed)
            if not arrived:
                return  # stopped while waiting, or gave up: `worst` tells
            self.round_trips.append(elapsed)
            self._stop.wait(self.INTERVAL)

    def _connects(self) -> None:
        while not self._stop.wait(0.5):
            if not self.fresh_connections.is_set():
                continue
            start = time.monotonic()
            try:
                self._fresh_connect()
                self.connects.append(time.monotonic() - start)
            except (OSError, AssertionError, codec.MalformedError) as error:
                self.connect_failures.append(f"after {time.monotonic() - start:.1f} s: {error}")

    def _fresh_connect(self) -> None:
        with socket.create_connection(self.broker.address, timeout=PROBE_GIVE_UP) as sock:
            user = self.credentials.get("username")
            password = self.credentials.get("password")
            sock.sendall(
                codec.connect(
                    unique_id("hostile-fresh"),
                    version=codec.MQTT311,
                    username=user if isinstance(user, str) else None,
                    password=password.encode() if isinstance(password, str) else None,
                )
            )
            data = b""
            while len(data) < 4:
                chunk = sock.recv(4 - len(data))
                if not chunk:
                    raise AssertionError("closed before CONNACK")
                data += chunk
            if data[0] != 0x20 or data[3] != 0:
                raise AssertionError(f"CONNACK refused: {data.hex()}")
            sock.sendall(codec.disconnect(version=codec.MQTT311))

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self.lost = self.client.disconnected.is_set()
        self.client.close()

    def problems(self) -> list[str]:
        out = []
        if self.worst > PROBE_BOUND:
            out.append(f"probe: a QoS 1 round trip took {self.worst:.1f} s (bound {PROBE_BOUND} s)")
        if not self.round_trips:
            out.append("probe: no round trip completed")
        if self.lost:
            out.append(f"probe: the broker closed the probe's connection (reason {self.client.disconnect_reason})")
        slow = [c for c in self.connects if c > PROBE_BOUND]
        if slow:
            out.append(
                f"fresh connections: {len(slow)} waited more than {PROBE_BOUND} s for CONNACK, "
                f"longest {max(slow):.1f} s"
            )
        if self.connect_failures:
            out.append(f"fresh connections: {len(self.connect_failures)} failed, first {self.connect_failures[0]}")
        return out

    def summary(self) -> str:
        connects = f", longest {max(self.connects):.2f} s" if self.connects else ""
        return (
            f"probe {len(self.round_trips)} round trips, longest {self.worst:.2f} s; "
            f"{len(self.connects)} fresh connects{connects}"
        )


@dataclass
class HostileCase:
    """Watches the broker while a case attacks it; fails with every observation at the end.

    `rss_growth_mib` is the bound on the broker's RSS above what it was when the case began;
    each case states and explains its own. `report` receives a one-line summary.
    """

    broker: Broker
    rss_growth_mib: float
    report: Callable[[str], None]
    fresh_connections: bool = True
    credentials: dict[str, object] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __enter__(self) -> HostileCase:
        assert self.broker.proc is not None
        self.pid = self.broker.proc.pid
        self.started = time.monotonic()
        self.counter = ConnectedCounter(self.broker, **self.credentials)
        self.probe = Probe(self.broker, fresh_connections=False, **self.credentials)
        # The harness's own clients: the counter's and the probe's.
        self.baseline_connected = 2
        if self._wait_for_baseline(20) is None:
            raise AssertionError(
                f"clients_connected is {self.counter.value} before the attack, expected 2: {self.counter.history}"
            )
        if self.fresh_connections:
            self.probe.fresh_connections.set()
        self.rss = RssSampler(self.pid)
        return self

    def keep_going(self) -> bool:
        """False once the broker died or its RSS passed the ceiling: loads stop early."""
        return self.broker.alive() and not self.rss.over_ceiling.is_set()

    def _wait_for_baseline(self, timeout: float) -> float | None:
        """Seconds until clients_connected read the harness's own clients, or None.

        The probe's fresh connections pause meanwhile: Mosquitto, for one, samples the count
        when a network event wakes it, often just when such a connection is open, and then
        keeps that sample until its next one finds a different count.
        """
        fresh = self.probe.fresh_connections.is_set()
        self.probe.fresh_connections.clear()
        try:
            return self.counter.wait_for(self.baseline_connected, timeout)
        finally:
            if fresh:
                self.probe.fresh_connections.set()

    def settle(self, when: str, timeout: float = 20) -> None:
        """Waits for clients_connected to return to the harness's own clients; a failure if not."""
        if self._wait_for_baseline(timeout) is None:
            self.fail(
                f"clients_connected is {self.counter.value} {timeout:.0f} s {when}, "
                f"expected {self.baseline_connected}: {self.counter.history[-8:]}"
            )

    def note(self, line: str) -> None:
        """An observation for the summary (counts, rates, durations)."""
        self.notes.append(line)

    def fail(self, line: str) -> None:
        """Records a failed expectation; the case goes on and fails at the end with all of them."""
        self.problems.append(line)

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> None:
        if error is not None and not isinstance(error, AssertionError):
            self._stop()
            self.report(f"ERROR {error!r}; " + "; ".join(self.notes + self.problems))
            return  # not an observation (e.g. a bug in the test): let it through as it is
        if error is not None:
            self.problems.append(f"{error}")
        alive = self.broker.alive()
        if alive:
            back = self._wait_for_baseline(20)
            if back is None:
                self.fail(
                    f"clients_connected is {self.counter.value} 20 s after the attack ended, expected "
                    f"{self.baseline_connected} (the probe and the $SYS reader): {self.counter.history[-8:]}"
                )
            else:
                self.note(f"clients_connected back to {self.baseline_connected} after {back:.1f} s")
        self._stop()
        growth = self.rss.peak - self.rss.baseline
        if alive and peak_rss_mib(self.pid) > self.rss.high_water_at_start:
            growth = max(growth, peak_rss_mib(self.pid) - self.rss.baseline)
        if alive:
            self.note(
                f"RSS {self.rss.baseline:.0f} MiB at start, peak +{growth:.0f} MiB, end {rss_mib(self.pid):.0f} MiB"
            )
        if growth > self.rss_growth_mib:
            self.fail(
                f"RSS grew by {growth:.0f} MiB from {self.rss.baseline:.0f} MiB (bound {self.rss_growth_mib:.0f} MiB)"
                + (
                    f"; the load was stopped at the {RSS_CEILING_MIB} MiB ceiling"
                    if self.rss.over_ceiling.is_set()
                    else ""
                )
            )
        self.problems.extend(self.probe.problems())
        if not alive:
            self.fail(f"the broker died (status {self.broker.proc.poll() if self.broker.proc else None})")
        else:
            try:
                _assert_serves(self.broker, self.credentials)
            except AssertionError as failure:
                self.fail(f"after the attack a fresh client is not served: {failure}")
        self.note(self.probe.summary())
        self.note(f"{time.monotonic() - self.started:.0f} s")
        status = "FAILED" if self.problems else "passed"
        self.report(f"{status}; " + "; ".join(self.notes + self.problems))
        if self.problems:
            raise AssertionError(
                "\n".join(["hostile case failed:", *self.problems, "observed: " + "; ".join(self.notes)])
            ) from error

    def _stop(self) -> None:
        self.probe.stop()
        self.counter.close()
        self.rss.stop()


def _assert_serves(broker: Broker, credentials: dict[str, object]) -> None:
    """A fresh client (with the case's credentials) connects, subscribes and gets its own message."""
    client = MqttClient(broker.host, broker.port, client_id=unique_id("hostile-after"), **credentials)  # type: ignore[arg-type]
    try:
        client.connect()
        topic = f"hostile/after/{client.client_id}"
        assert client.subscribe(topic, 1) == [1]
        client.publish(topic, b"still here", 1)
        client.messages.wait(1, topic=topic)
        client.disconnect()
    finally:
        client.close()
