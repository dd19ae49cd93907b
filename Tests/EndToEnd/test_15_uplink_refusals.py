"""The uplink against a cloud that refuses: transient PUBACK reason codes (quota exceeded) are
retried with a throttle and lose nothing, permanent ones move records to the dead-letter table,
and a cloud whose Maximum QoS is 0 keeps QoS 1 records queued instead of downgrading them."""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
from datetime import datetime
from typing import Callable, Iterator

import pytest

from wharf_e2e.admin import admin_yaml, get, metric, wait_for_admin, wharfctl, wharfctl_path
from wharf_e2e.broker import free_port
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


def dead_letter_rows(gateway: Gateway) -> int:
    """Rows of the dead-letter table, counted in the database itself."""
    with sqlite3.connect(f"file:{gateway.database}?mode=ro", uri=True) as db:
        return db.execute("SELECT count(*) FROM dead_letters").fetchone()[0]


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


@pytest.mark.skipif(not wharfctl_path().is_file(), reason="wharfctl not built (it is wharfd: swift build --product wharfd)")
def test_not_authorized_moves_records_to_the_dead_letter_table(
    gateway_factory: Callable[..., Gateway],
    clients: Callable[..., MqttClient],
    scripted: Callable[..., ScriptedCloud],
) -> None:
    cloud = scripted(lambda topic, payload, index: 0x87 if topic.endswith("/secret") else 0)
    admin_port = free_port()
    gateway = gateway_factory(UplinkOptions(port=cloud.port), wharf_extra_yaml=admin_yaml(admin_port))
    admin = f"http://127.0.0.1:{admin_port}"
    watcher = SysWatcher(gateway)
    client = clients(gateway, version=V5, client_id="pub")
    for index in range(5):
        client.publish("devices/open", f"open-{index}".encode(), 1)
        client.publish("devices/secret", f"secret-{index}".encode(), 1)

    assert watcher.wait_int("$SYS/broker/queue/dead letters", lambda v: v == 5) == 5
    assert watcher.wait_int("$SYS/broker/queue/depth", lambda v: v == 0) == 0
    assert watcher.wait_int("$SYS/broker/uplink/refusals/permanent", lambda v: v == 5) == 5
    wait_for_admin(admin_port)

    # wharfctl lists them newest first, with the cloud's reason and the payload.
    listed = wharfctl("queue", "dead-letters", "--json", "--url", admin)
    assert listed.returncode == 0, listed.stderr
    document = json.loads(listed.stdout)
    assert document["count"] == 5 and document["bytes"] > 0
    letters = document["dead_letters"]
    assert [(d["topic"], d["payload"]) for d in letters] == [
        (f"{SITE}devices/secret", f"secret-{i}") for i in reversed(range(5))
    ]
    for letter in letters:
        assert (letter["reason_code"], letter["reason"], letter["reason_string"]) == (
            0x87,
            "not-authorized",
            "scripted 0x87",
        )
        assert letter["rule"] == "devices/#"
        assert base64.b64decode(letter["payload_base64"]) == letter["payload"].encode()
        assert letter["payload_bytes"] == len(letter["payload"])
        assert letter["dead_at"].endswith("Z")
    dead_at = [datetime.fromisoformat(d["dead_at"].replace("Z", "+00:00")) for d in letters]
    assert dead_at == sorted(dead_at, reverse=True)
    assert [d["id"] for d in letters] == sorted((d["id"] for d in letters), reverse=True)

    limited = json.loads(wharfctl("queue", "dead-letters", "--json", "--limit", "2", "--url", admin).stdout)
    assert limited["count"] == 5 and [d["payload"] for d in limited["dead_letters"]] == ["secret-4", "secret-3"]

    shown = wharfctl("queue", "dead-letters", "--url", admin)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert len(lines) == 6, shown.stdout
    assert all(f"{SITE}devices/secret  0x87 not-authorized  \"scripted 0x87\"  8 B  rule devices/#" in line for line in lines[:5])
    assert lines[5].startswith("5 dead letters (")

    # Not resent: the cloud saw each secret record once.
    time.sleep(1.0)
    secrets = [a for a in cloud.arrivals() if a.topic.endswith("/secret")]
    assert len(secrets) == 5
    assert sorted(a.payload for a in cloud.accepted() if a.topic.endswith("/open")) == [
        f"open-{i}".encode() for i in range(5)
    ]

    # --clear asks nothing, says how many, and empties the table; the gauges follow, the counter by
    # reason keeps what happened since start.
    cleared = wharfctl("queue", "dead-letters", "--clear", "--url", admin)
    assert (cleared.returncode, cleared.stdout.strip()) == (0, "cleared 5 dead letters"), cleared.stderr
    assert dead_letter_rows(gateway) == 0
    assert watcher.wait_int("$SYS/broker/queue/dead letters", lambda v: v == 0) == 0
    metrics = get(admin_port, "/metrics").body
    assert metric(metrics, "wharf_uplink_dead_letters") == 0
    assert metric(metrics, "wharf_uplink_dead_letter_bytes") == 0
    assert metric(metrics, "wharf_uplink_dead_letters_total", 'reason="0x87"') == 5
    empty = wharfctl("queue", "dead-letters", "--url", admin)
    assert (empty.returncode, empty.stdout.strip()) == (0, "no dead letters")
    assert json.loads(wharfctl("queue", "dead-letters", "--json", "--url", admin).stdout) == {
        "count": 0,
        "bytes": 0,
        "dead_letters": [],
    }
    again = wharfctl("queue", "dead-letters", "--clear", "--url", admin)
    assert (again.returncode, again.stdout.strip()) == (0, "cleared 0 dead letters")
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
