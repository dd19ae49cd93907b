"""wharfd with its store-and-forward queue and uplink configured (`storage:`, `uplink:`, `gateway:`)."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import paho.mqtt.client as paho

from .broker import Broker, BrokerOptions
from .client import MqttClient, Received

GATEWAY_ID = "gw1"


@dataclass(frozen=True)
class Forward:
    """One `uplink.forward[]` rule."""

    filter: str = "devices/#"
    remote_prefix: str = "site/{gateway}/"
    strip_prefix: str | None = None
    qos: int = 1
    policy: str = "drop-oldest"
    name: str | None = None


@dataclass(frozen=True)
class RemoteSubscribe:
    """One `uplink.subscribe[]` rule."""

    filter: str = "cmd/{gateway}/#"
    strip_prefix: str = "cmd/{gateway}/"
    local_prefix: str = "commands/"
    qos: int = 1


@dataclass(frozen=True)
class TLSOptions:
    """`uplink.tls` with TLS on."""

    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    server_name: str = ""
    verify: bool = True


@dataclass(frozen=True)
class UplinkOptions:
    """The `uplink:` section; durations and sizes are written as wharfd reads them ("100ms", "1h")."""

    port: int
    host: str = "127.0.0.1"
    mqtt_version: str = "5"
    client_id: str = ""
    keepalive: str = "60s"
    clean_start: bool = False
    session_expiry: str = "1h"
    tls: TLSOptions | None = None
    backoff_base: str = "100ms"
    backoff_cap: str = "500ms"
    stable_after: str = "30s"
    max_inflight: int = 100
    status_topic: str = "wharf/{gateway}/status"
    forward: tuple[Forward, ...] = (Forward(),)
    subscribe: tuple[RemoteSubscribe, ...] = ()
    # `uplink.endpoints` ("host:port" texts) instead of host and port when given.
    endpoints: tuple[str, ...] = ()
    failback: str | None = None
    # Further `uplink:` lines as written in the file, indented under the section ("  throttle:", ...).
    extra: tuple[str, ...] = ()


@dataclass(frozen=True)
class StorageOptions:
    """The `storage.queue` section."""

    max_bytes: str = "256MiB"
    max_age: str = "7d"
    synchronous: str = "full"
    # Further `storage:` lines as written in the file ("  dead_letter:", ...).
    extra: tuple[str, ...] = ()


def _q(value: str) -> str:
    """A YAML scalar in double quotes (JSON strings are valid YAML)."""
    return json.dumps(value)


def render_gateway_yaml(uplink: UplinkOptions, storage: StorageOptions, gateway_id: str = GATEWAY_ID) -> str:
    """The sections appended to the broker section that `render_wharf_yaml` writes."""
    flag = lambda value: "true" if value else "false"  # noqa: E731
    lines = [
        "gateway:",
        f"  id: {_q(gateway_id)}",
        "storage:",
        "  queue:",
        f"    max_bytes: {storage.max_bytes}",
        f"    max_age: {storage.max_age}",
        f"    synchronous: {storage.synchronous}",
        *storage.extra,
        "uplink:",
        "  enabled: true",
    ]
    if uplink.endpoints:
        lines += ["  endpoints:"] + [f"    - {_q(endpoint)}" for endpoint in uplink.endpoints]
    else:
        lines += [f"  host: {_q(uplink.host)}", f"  port: {uplink.port}"]
    if uplink.failback is not None:
        lines.append(f"  failback: {uplink.failback}")
    lines += [
        f"  mqtt_version: {_q(uplink.mqtt_version)}",
        f"  client_id: {_q(uplink.client_id)}",
        f"  keepalive: {uplink.keepalive}",
        f"  clean_start: {flag(uplink.clean_start)}",
        f"  session_expiry: {uplink.session_expiry}",
        "  tls:",
    ]
    if uplink.tls is None:
        lines.append("    enabled: false")
    else:
        tls = uplink.tls
        lines += [
            "    enabled: true",
            f"    ca_file: {_q(tls.ca_file)}",
            f"    cert_file: {_q(tls.cert_file)}",
            f"    key_file: {_q(tls.key_file)}",
            f"    server_name: {_q(tls.server_name)}",
            f"    verify: {flag(tls.verify)}",
        ]
    lines += [
        "  backoff:",
        f"    base: {uplink.backoff_base}",
        f"    cap: {uplink.backoff_cap}",
        f"    stable_after: {uplink.stable_after}",
        f"  max_inflight: {uplink.max_inflight}",
        f"  status_topic: {_q(uplink.status_topic)}",
    ]
    lines += uplink.extra
    lines.append("  forward:" if uplink.forward else "  forward: []")
    for rule in uplink.forward:
        lines.append(f"    - filter: {_q(rule.filter)}")
        if rule.name is not None:
            lines.append(f"      name: {_q(rule.name)}")
        lines.append(f"      remote_prefix: {_q(rule.remote_prefix)}")
        if rule.strip_prefix is not None:
            lines.append(f"      strip_prefix: {_q(rule.strip_prefix)}")
        lines += [f"      qos: {rule.qos}", f"      policy: {rule.policy}"]
    lines.append("  subscribe:" if uplink.subscribe else "  subscribe: []")
    for sub in uplink.subscribe:
        lines += [
            f"    - filter: {_q(sub.filter)}",
            f"      strip_prefix: {_q(sub.strip_prefix)}",
            f"      local_prefix: {_q(sub.local_prefix)}",
            f"      qos: {sub.qos}",
        ]
    return "\n".join(lines) + "\n"


class Gateway(Broker):
    """wharfd with `gateway:`, `storage:` and `uplink:` sections, and optional extra environment."""

    def __init__(
        self,
        options: BrokerOptions,
        workdir: Path,
        uplink: UplinkOptions,
        storage: StorageOptions = StorageOptions(),
        *,
        env: dict[str, str] | None = None,
        gateway_id: str = GATEWAY_ID,
    ) -> None:
        super().__init__("wharfd", options, workdir)
        self.uplink = uplink
        self.storage = storage
        self.gateway_id = gateway_id
        self.env = None if not env else {**os.environ, **env}

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def database(self) -> Path:
        return self.data_dir / "wharf.db"

    def reconfigure(self, uplink: UplinkOptions | None = None, storage: StorageOptions | None = None) -> None:
        """New settings for the next start (wharfd has no reload yet)."""
        if uplink is not None:
            self.uplink = uplink
        if storage is not None:
            self.storage = storage

    def command(self) -> list[str]:
        command = super().command()
        with open(self.workdir / "wharf.yaml", "a") as config:
            config.write(render_gateway_yaml(self.uplink, self.storage, self.gateway_id))
        return command

    def client(self, **kwargs: object) -> MqttClient:
        """An unconnected paho client for wharfd's listener."""
        return MqttClient(self.host, self.port, **kwargs)  # type: ignore[arg-type]


# --- uplink log ------------------------------------------------------------------- #

_FIELD = re.compile(r"([\w.]+)=(\S+)")


def log_records(text: str, *, containing: str = "uplink.") -> list[dict[str, str]]:
    """`key=value` metadata of each log line that mentions `containing`."""
    records = []
    for line in text.splitlines():
        if containing in line:
            records.append({key: value.strip("\"',") for key, value in _FIELD.findall(line)})
    return records


# --- $SYS --------------------------------------------------------------------------- #


class SysWatcher:
    """A client subscribed to `$SYS/broker/#` that keeps the latest value of every topic."""

    def __init__(self, target: Broker) -> None:
        self.interval = float(target.options.sys_interval)
        self.client = MqttClient(target.host, target.port)
        self.client.connect()
        self.client.subscribe("$SYS/broker/#", 0)

    def latest(self, topic: str, items: list[Received] | None = None) -> str | None:
        items = self.client.messages.snapshot() if items is None else items
        for message in reversed(items):
            if message.topic == topic:
                return message.text
        return None

    def wait(
        self, topic: str, predicate: Callable[[str], bool], timeout: float = 10.0, *, fresh: bool = True
    ) -> str:
        """Waits until the latest value of `topic` satisfies `predicate`; returns it.

        wharfd publishes a `$SYS` value once a sys interval, and only when it changed. With
        `fresh` (the default) the value is judged no earlier than 1.2 intervals after the call,
        so that it was published after whatever the test just did; without, a retained value
        from before may already pass (use that only for conditions old values cannot meet).
        """
        start = time.monotonic()
        settled = start + (1.2 * self.interval if fresh else 0.0)
        deadline = start + timeout

        def ok(items: list[Received]) -> bool:
            value = self.latest(topic, items)
            return value is not None and predicate(value)

        while True:
            try:
                self.client.messages.wait_for(ok, max(0.0, deadline - time.monotonic()))
            except AssertionError:
                raise AssertionError(
                    f"{topic} never satisfied the condition within {timeout} s; last value {self.latest(topic)!r}"
                ) from None
            if time.monotonic() < settled:
                time.sleep(settled - time.monotonic())
            value = self.latest(topic)
            if value is not None and predicate(value):
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic} did not settle on a value meeting the condition; last {value!r}")

    def wait_int(
        self, topic: str, predicate: Callable[[int], bool], timeout: float = 10.0, *, fresh: bool = True
    ) -> int:
        def check(text: str) -> bool:
            return text.strip().lstrip("-").isdigit() and predicate(int(text))

        return int(self.wait(topic, check, timeout, fresh=fresh))

    def close(self) -> None:
        self.client.close()


# --- many QoS 1 publishes with their acknowledgements ---------------------------------- #


class AckingPublisher:
    """Publishes numbered QoS 1 messages `"{name}:{sequence}"` on `topic` and records every PUBACK's reason code.

    paho keeps its own window of unacknowledged publishes; the rest wait in paho's queue,
    so the broker sees a steady stream (and can group-commit) rather than one at a time.
    """

    def __init__(self, client: MqttClient, name: str, topic: str, qos: int = 1) -> None:
        self.client = client
        self.name = name
        self.topic = topic
        self.qos = qos
        self.sequence = 0
        self._sequences: dict[int, int] = {}  # paho mid -> sequence
        self._reasons: dict[int, int] = {}  # paho mid -> PUBACK reason code
        self._cond = threading.Condition()
        client.paho.on_publish = self._on_publish

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:  # noqa: ANN001
        # Called by paho with its own lock held: never call into paho while holding _cond.
        with self._cond:
            self._reasons.setdefault(mid, int(getattr(reason_code, "value", 0) or 0))
            self._cond.notify_all()

    def payload(self, sequence: int, size: int = 0) -> bytes:
        head = f"{self.name}:{sequence}"
        return (head + ":" + "x" * max(0, size - len(head) - 1)).encode() if size else head.encode()

    def publish(self, count: int, *, size: int = 0, properties=None) -> list[int]:  # noqa: ANN001
        """Queues `count` publishes in paho (returns their sequences); wait with `wait_acks`."""
        sequences = []
        for _ in range(count):
            self.sequence += 1
            info = self.client.paho.publish(
                self.topic, self.payload(self.sequence, size), self.qos, properties=properties
            )
            assert info.rc == paho.MQTT_ERR_SUCCESS, f"{self.name}: publish failed locally: {info.rc}"
            with self._cond:
                self._sequences[info.mid] = self.sequence
            sequences.append(self.sequence)
        return sequences

    def outcomes(self) -> dict[int, int | None]:
        """PUBACK reason code by sequence (None: no PUBACK yet)."""
        with self._cond:
            return {sequence: self._reasons.get(mid) for mid, sequence in self._sequences.items()}

    @property
    def acked(self) -> list[int]:
        """Sequences with a success PUBACK."""
        return sorted(s for s, r in self.outcomes().items() if r is not None and r < 0x80)

    @property
    def refused(self) -> list[tuple[int, int]]:
        """(sequence, reason) of error PUBACKs."""
        return sorted((s, r) for s, r in self.outcomes().items() if r is not None and r >= 0x80)

    def wait_acks(self, timeout: float = 20.0) -> None:
        """Waits until every publish so far has its PUBACK."""
        with self._cond:
            done = self._cond.wait_for(lambda: all(m in self._reasons for m in self._sequences), timeout)
        missing = [s for s, r in self.outcomes().items() if r is None]
        assert done, f"{self.name}: {len(missing)} publishes without PUBACK after {timeout} s (first {missing[:5]})"

    def publish_one(
        self, *, size: int = 0, properties=None, timeout: float = 10.0  # noqa: ANN001
    ) -> tuple[int, int | None]:
        """Publishes one message and waits for its PUBACK or the connection's end; (sequence, reason)."""
        [sequence] = self.publish(1, size=size, properties=properties)
        with self._cond:
            mid = next(m for m, s in self._sequences.items() if s == sequence)
            deadline = time.monotonic() + timeout
            # The disconnect does not notify _cond: poll it.
            while mid not in self._reasons and not self.client.disconnected.is_set():
                if time.monotonic() > deadline:
                    break
                self._cond.wait(0.05)
            return sequence, self._reasons.get(mid)


def parse_payload(message: Received) -> tuple[str, int] | None:
    """(publisher, sequence) of a payload made by `AckingPublisher`; None for any other payload."""
    name, _, rest = message.text.partition(":")
    sequence = rest.split(":", 1)[0]
    return (name, int(sequence)) if sequence.isdigit() else None


@dataclass
class DeliveryReport:
    """What a cloud subscriber got from numbered publishers."""

    arrivals: dict[str, list[int]] = field(default_factory=dict)  # per publisher, arrival order
    duplicates: list[tuple[str, int, int]] = field(default_factory=list)  # (publisher, sequence, arrival index)
    # How many of the duplicates came with the DUP flag set.
    redelivered: int = 0

    @classmethod
    def of(cls, messages: list[Received], topic_prefix: str = "") -> "DeliveryReport":
        report = cls()
        seen: set[tuple[str, int]] = set()
        for index, message in enumerate(messages):
            if not message.topic.startswith(topic_prefix):
                continue
            parsed = parse_payload(message)
            if parsed is None:
                continue
            name, sequence = parsed
            report.arrivals.setdefault(name, []).append(sequence)
            if (name, sequence) in seen:
                report.duplicates.append((name, sequence, index))
                report.redelivered += int(message.dup)
            seen.add((name, sequence))
        return report

    def first_arrivals(self, name: str) -> list[int]:
        out, seen = [], set()
        for sequence in self.arrivals.get(name, []):
            if sequence not in seen:
                seen.add(sequence)
                out.append(sequence)
        return out

    def distinct(self, name: str) -> set[int]:
        return set(self.arrivals.get(name, []))
