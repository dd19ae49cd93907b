"""07 sys: the $SYS/broker/... statistics, published as Mosquitto publishes them (sys_interval 1 s)."""

from __future__ import annotations

import re
import threading
import time

import pytest

from wharf_e2e import codec
from wharf_e2e.client import MqttClient

pytestmark = pytest.mark.broker_config(sys_interval=1)

SYS = "$SYS/broker/"
COUNTERS = [
    "clients/connected",
    "clients/total",
    "clients/maximum",
    "clients/disconnected",
    "messages/received",
    "messages/sent",
    "bytes/received",
    "bytes/sent",
    "publish/messages/received",
    "publish/messages/sent",
    "publish/bytes/received",
    "publish/bytes/sent",
    "subscriptions/count",
    "retained messages/count",
]
TOPICS = ["version", "uptime", *COUNTERS]
WAIT = 10.0


class SysWatcher:
    """Keeps the latest value of every $SYS/broker/ topic."""

    def __init__(self, client: MqttClient) -> None:
        self.client = client
        self.values: dict[str, bytes] = {}
        self.first_retain: dict[str, bool] = {}
        self.updates: dict[str, int] = {}
        self._cond = threading.Condition()
        client.paho.on_message = self._on_message
        assert client.subscribe(SYS + "#", 0) == [0]

    def _on_message(self, client, userdata, message) -> None:  # noqa: ANN001
        name = message.topic[len(SYS) :]
        with self._cond:
            self.first_retain.setdefault(name, bool(message.retain))
            self.values[name] = bytes(message.payload)
            if not message.retain:  # live periodic updates only
                self.updates[name] = self.updates.get(name, 0) + 1
            self._cond.notify_all()

    def wait_for(self, name: str, predicate, timeout: float = WAIT) -> bytes:  # noqa: ANN001
        with self._cond:
            ok = self._cond.wait_for(lambda: name in self.values and predicate(self.values[name]), timeout)
            assert ok, f"{SYS}{name} never satisfied the condition; last value {self.values.get(name)!r}"
            return self.values[name]

    def sync(self, timeout: float = WAIT) -> None:
        """Waits for two further $SYS periods, so every value reflects the state at the call."""
        with self._cond:
            seen = self.updates.get("uptime", 0)
            ok = self._cond.wait_for(lambda: self.updates.get("uptime", 0) >= seen + 2, timeout)
            assert ok, "$SYS/broker/uptime is not published every sys_interval"

    def number(self, name: str) -> int:
        return int(self.wait_for(name, lambda value: value.isdigit()))

    def settled(self, name: str) -> int:
        """The value of a counter once everything done so far is reflected in it."""
        self.sync()
        return self.number(name)

    def wait_number(self, name: str, predicate, timeout: float = WAIT) -> int:  # noqa: ANN001
        return int(self.wait_for(name, lambda value: value.isdigit() and predicate(int(value)), timeout))


@pytest.fixture
def sys_watch(mqtt) -> SysWatcher:
    return SysWatcher(mqtt(client_id="sys-watcher"))


def test_core_sys_topics_published(sys_watch):
    for name in TOPICS:
        sys_watch.wait_for(name, lambda value: len(value) > 0)
    for name in COUNTERS:
        assert sys_watch.number(name) >= 0
    assert re.fullmatch(rb"\d+ seconds", sys_watch.values["uptime"]), sys_watch.values["uptime"]


def test_sys_topics_are_retained_for_new_subscribers(mqtt):
    time.sleep(1.5)  # at least one $SYS period before anyone subscribes
    watcher = SysWatcher(mqtt())
    for name in TOPICS:
        watcher.wait_for(name, lambda value: True)
    # Mosquitto publishes these two without the retain flag; the rest are retained.
    late = [name for name in TOPICS if not watcher.first_retain[name] and name not in ("uptime", "clients/maximum")]
    assert late == [], f"not delivered as retained messages on subscribe: {late}"


def test_version_names_the_broker(sys_watch, broker):
    version = sys_watch.wait_for("version", lambda value: True).decode()
    assert re.search(r"\d+\.\d+", version), version
    assert ("wharf" if broker.is_wharfd else "mosquitto") in version.lower()


def test_uptime_increases(sys_watch):
    first = int(sys_watch.wait_for("uptime", lambda value: True).split()[0])
    sys_watch.wait_for("uptime", lambda value: int(value.split()[0]) > first)


def test_clients_connected_follows_connections(sys_watch, broker):
    base = sys_watch.settled("clients/connected")
    extra = [MqttClient(broker.host, broker.port, version=codec.MQTT311) for _ in range(3)]
    try:
        for client in extra:
            client.connect()
        sys_watch.wait_number("clients/connected", lambda n: n == base + 3)
        assert sys_watch.wait_number("clients/total", lambda n: n >= base + 3)
        assert sys_watch.wait_number("clients/maximum", lambda n: n >= base + 3)
        for client in extra:
            client.disconnect()
        sys_watch.wait_number("clients/connected", lambda n: n == base)
    finally:
        for client in extra:
            client.close()


def test_disconnected_persistent_session_counted(sys_watch, mqtt):
    base = sys_watch.settled("clients/disconnected")
    client = mqtt(client_id="sys-persistent", clean=False, session_expiry=300)
    client.disconnect()
    sys_watch.wait_number("clients/disconnected", lambda n: n == base + 1)
    sys_watch.sync()
    connected, disconnected = sys_watch.number("clients/connected"), sys_watch.number("clients/disconnected")
    assert sys_watch.number("clients/total") == connected + disconnected


def test_received_counters_grow_with_publishes(sys_watch, mqtt):
    messages = sys_watch.number("messages/received")
    publishes = sys_watch.number("publish/messages/received")
    received_bytes = sys_watch.number("bytes/received")
    publisher = mqtt()
    for _ in range(10):
        publisher.publish("sys/in", b"p" * 100, 1)
    sys_watch.wait_number("messages/received", lambda n: n >= messages + 10)
    sys_watch.wait_number("publish/messages/received", lambda n: n >= publishes + 10)
    sys_watch.wait_number("bytes/received", lambda n: n >= received_bytes + 1000)


def test_sent_counters_grow_with_deliveries(sys_watch, mqtt):
    subscriber = mqtt()
    subscriber.subscribe("sys/out", 1)
    messages = sys_watch.number("messages/sent")
    publishes = sys_watch.number("publish/messages/sent")
    sent_bytes = sys_watch.number("bytes/sent")
    publisher = mqtt()
    for _ in range(10):
        publisher.publish("sys/out", b"s" * 200, 1)
    subscriber.messages.wait(10)
    sys_watch.wait_number("publish/messages/sent", lambda n: n >= publishes + 10)
    sys_watch.wait_number("messages/sent", lambda n: n >= messages + 10)
    sys_watch.wait_number("bytes/sent", lambda n: n >= sent_bytes + 2000)


def test_subscription_count_follows_subscriptions(sys_watch, mqtt):
    base = sys_watch.settled("subscriptions/count")
    client = mqtt()
    client.subscribe([("sys/a", 0), ("sys/b/#", 1)])
    sys_watch.wait_number("subscriptions/count", lambda n: n == base + 2)
    client.unsubscribe("sys/a")
    sys_watch.wait_number("subscriptions/count", lambda n: n == base + 1)


def test_retained_count_follows_retained_messages(sys_watch, mqtt):
    base = sys_watch.settled("retained messages/count")
    publisher = mqtt()
    publisher.publish("sys/retained/1", b"r", 1, retain=True)
    publisher.publish("sys/retained/2", b"r", 1, retain=True)
    sys_watch.wait_number("retained messages/count", lambda n: n == base + 2)
    publisher.publish("sys/retained/1", b"", 1, retain=True)
    sys_watch.wait_number("retained messages/count", lambda n: n == base + 1)


def test_clients_cannot_publish_into_sys(sys_watch, mqtt):
    version = sys_watch.wait_for("version", lambda value: True)
    intruder = mqtt()
    intruder.publish(SYS + "version", b"forged", 1)
    intruder.publish(SYS + "version", b"forged", 1, retain=True)
    time.sleep(1.5)
    assert sys_watch.values["version"] == version
    late = SysWatcher(mqtt())
    assert late.wait_for("version", lambda value: True) == version
