"""The uplink against a cloud that refuses: transient PUBACK reason codes (quota exceeded) are
retried with a throttle and lose nothing, permanent ones move records to the dead-letter table,
and a cloud whose Maximum QoS is 0 keeps QoS 1 records queued instead of downgrading them."""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Callable, Iterator

import pytest

from wharf_e2e.client import V5, MqttClient
from wharf_e2e.gateway import AckingPublisher, Forward, Gateway, StorageOptions, SysWatcher, UplinkOptions, log_records
from wharf_e2e.scripted_cloud import ScriptedCloud

pytestmark = pytest.mark.wharf_only(reason="wharfd's uplink against a scripted MQTT 5 cloud")

SITE = "site/gw1/"
THROTTLE = ("  throttle:", "    base: 50ms", "    cap: 400ms")


@pytest.fixture
def scripted() -> Iterator[Callable[..., ScriptedCloud]]:
    made: list[ScriptedCloud] = []

    def make(*args: object, **kwargs: object) -> ScriptedCloud:
        cloud = ScriptedCloud(*args, **kwargs).start()  # type: ignore[arg-type]
        made.append(cloud)
        return cloud

    yield make
    for cloud in made:
        cloud.close()


class QuotaWindow:
    """Answers 0x97 quota exceeded to every QoS 1 PUBLISH until `refusals` were sent, then 0x00."""

    def __init__(self, refusals: int) -> None:
        self.left = refusals
        self.lock = threading.Lock()

    def __call__(self, topic: str, payload: bytes, index: int) -> int:
        with self.lock:
            if self.left > 0:
                self.left -= 1
                return 0x97
        return 0


def accepted_sequences(cloud: ScriptedCloud, name: str) -> list[int]:
    """Sequences of publisher `name` the cloud accepted, in arrival order."""
    out = []
    for arrival in cloud.accepted():
        head, _, rest = arrival.payload.decode().partition(":")
        if head == name:
            out.append(int(rest.split(":", 1)[0]))
        # Other payloads (status) are not the publisher's.
    return out


def dead_letters(gateway: Gateway) -> list[tuple[str, bytes, int, str | None]]:
    """(topic, payload, reason code, reason string) of the dead-letter table, read from the database."""
    with sqlite3.connect(f"file:{gateway.database}?mode=ro", uri=True) as db:
        return [
            (topic, bytes(payload), code, reason)
            for topic, payload, code, reason in db.execute(
                "SELECT topic, payload, reason_code, reason_string FROM dead_letters ORDER BY id"
            )
        ]


def test_quota_exceeded_is_retried_with_a_throttle_and_nothing_is_lost(
    gateway_factory: Callable[..., Gateway],
    clients: Callable[..., MqttClient],
    scripted: Callable[..., ScriptedCloud],
) -> None:
    cloud = scripted(QuotaWindow(60))
    gateway = gateway_factory(UplinkOptions(port=cloud.port, max_inflight=16, extra=THROTTLE))
    watcher = SysWatcher(gateway)
    publisher = AckingPublisher(clients(gateway, version=V5, client_id="pub"), "p", "devices/p/data")
    publisher.publish(200)
    publisher.wait_acks()
    assert publisher.acked == list(range(1, 201)), publisher.refused[:5]

    cloud.wait(lambda c: len(set(accepted_sequences(c, "p"))) == 200, timeout=15)
    accepted = accepted_sequences(cloud, "p")
    assert sorted(set(accepted)) == list(range(1, 201)), "a record acknowledged locally never reached the cloud"
    refused = [a for a in cloud.arrivals() if a.reason == 0x97]
    assert len(refused) == 60
    # Every refused record came again: its second copy is a new PUBLISH, not a DUP.
    assert len(accepted) == 200
    transient = watcher.wait_int("$SYS/broker/uplink/refusals/transient", lambda v: v == 60, timeout=5)
    assert transient == 60, [(a.topic, a.payload, a.dup) for a in refused]
    assert watcher.wait_int("$SYS/broker/uplink/throttle/pauses", lambda v: v >= 1) >= 1
    assert watcher.wait_int("$SYS/broker/queue/depth", lambda v: v == 0) == 0
    assert watcher.wait_int("$SYS/broker/uplink/refusals/permanent", lambda v: True) == 0
    records = log_records(gateway.log())
    assert any(r.get("uplink.error") == "puback-transient" for r in records)
    watcher.close()


def test_not_authorized_moves_records_to_the_dead_letter_table(
    gateway_factory: Callable[..., Gateway],
    clients: Callable[..., MqttClient],
    scripted: Callable[..., ScriptedCloud],
) -> None:
    cloud = scripted(lambda topic, payload, index: 0x87 if topic.endswith("/secret") else 0)
    gateway = gateway_factory(UplinkOptions(port=cloud.port))
    watcher = SysWatcher(gateway)
    client = clients(gateway, version=V5, client_id="pub")
    for index in range(5):
        client.publish("devices/open", f"open-{index}".encode(), 1)
        client.publish("devices/secret", f"secret-{index}".encode(), 1)

    assert watcher.wait_int("$SYS/broker/queue/dead letters", lambda v: v == 5) == 5
    assert watcher.wait_int("$SYS/broker/queue/depth", lambda v: v == 0) == 0
    assert watcher.wait_int("$SYS/broker/uplink/refusals/permanent", lambda v: v == 5) == 5
    letters = dead_letters(gateway)
    assert [(t, p) for t, p, _, _ in letters] == [(f"{SITE}devices/secret", f"secret-{i}".encode()) for i in range(5)]
    assert {(code, reason) for _, _, code, reason in letters} == {(0x87, "scripted 0x87")}
    # Not resent: the cloud saw each secret record once.
    time.sleep(1.0)
    secrets = [a for a in cloud.arrivals() if a.topic.endswith("/secret")]
    assert len(secrets) == 5
    assert sorted(a.payload for a in cloud.accepted() if a.topic.endswith("/open")) == [
        f"open-{i}".encode() for i in range(5)
    ]
    watcher.close()


def test_a_cloud_with_maximum_qos_0_keeps_qos1_records_queued(
    gateway_factory: Callable[..., Gateway],
    clients: Callable[..., MqttClient],
    scripted: Callable[..., ScriptedCloud],
) -> None:
    cloud = scripted(maximum_qos=0)
    gateway = gateway_factory(
        UplinkOptions(
            port=cloud.port,
            forward=(Forward(filter="devices/#"), Forward(filter="telemetry/#", qos=0, name="best-effort")),
        )
    )
    watcher = SysWatcher(gateway)
    client = clients(gateway, version=V5, client_id="pub")
    client.publish("telemetry/t", b"fire-and-forget", 1)
    for index in range(3):
        client.publish("devices/d", f"keep-{index}".encode(), 1)

    assert watcher.wait_int("$SYS/broker/uplink/maximum qos blocked", lambda v: v == 1) == 1
    assert watcher.wait_int("$SYS/broker/queue/depth", lambda v: v == 3) == 3
    time.sleep(1.0)
    assert watcher.wait_int("$SYS/broker/queue/depth", lambda v: True) == 3
    arrivals = cloud.arrivals()
    assert [(a.payload, a.qos) for a in arrivals if a.topic.startswith(SITE)] == [(b"fire-and-forget", 0)]
    errors = [r for r in log_records(gateway.log()) if r.get("uplink.error") == "maximum-qos"]
    assert len(errors) == 1
    watcher.close()


def test_kill9_while_throttled_loses_nothing(
    gateway_factory: Callable[..., Gateway],
    clients: Callable[..., MqttClient],
    scripted: Callable[..., ScriptedCloud],
) -> None:
    cloud = scripted(QuotaWindow(10_000))
    gateway = gateway_factory(UplinkOptions(port=cloud.port, max_inflight=8, extra=THROTTLE))
    publisher = AckingPublisher(clients(gateway, version=V5, client_id="pub"), "p", "devices/p/data")
    publisher.publish(50)
    publisher.wait_acks()
    assert publisher.acked == list(range(1, 51))
    cloud.wait(lambda c: len(c.arrivals()) >= 20)
    assert not cloud.accepted()

    gateway.kill9()
    cloud.script = lambda topic, payload, index: 0
    gateway.start()
    cloud.wait(lambda c: set(range(1, 51)) <= set(accepted_sequences(c, "p")), timeout=30)
    watcher = SysWatcher(gateway)
    assert watcher.wait_int("$SYS/broker/queue/depth", lambda v: v == 0) == 0
    watcher.close()
