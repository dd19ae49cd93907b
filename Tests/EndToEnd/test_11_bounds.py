"""The store-and-forward queue's bounds while the cloud is down: max_bytes with reject-new and
drop-oldest, MQTT 5 message expiry, and a full disk (WHARF_TEST_STORE_MAX_PAGES)."""

from __future__ import annotations

import sqlite3
import subprocess
import time
from typing import Callable

import pytest

from wharf_e2e.client import V311, V5, MqttClient, publish_properties
from wharf_e2e.cloud import Cloud, CloudSubscriber
from wharf_e2e.gateway import (
    AckingPublisher,
    DeliveryReport,
    Forward,
    StorageOptions,
    SysWatcher,
    UplinkOptions,
)

pytestmark = pytest.mark.wharf_only(reason="wharfd's store-and-forward queue")

SITE = "site/gw1/"
DEPTH = "$SYS/broker/queue/depth"
DROPPED = "$SYS/broker/queue/dropped/"
QUOTA_EXCEEDED = 0x97
KIB = 1024


def offline_cloud(cloud_factory: Callable[..., Cloud]) -> tuple[Cloud, CloudSubscriber]:
    """A stopped cloud broker keeping a persistent subscriber's session across its restart."""
    cloud = cloud_factory(persistence=True)
    subscriber = CloudSubscriber(cloud, [SITE + "#"]).connect()
    subscriber.close()
    cloud.stop()
    return cloud, subscriber


def bring_back(cloud: Cloud, subscriber: CloudSubscriber) -> None:
    cloud.start()
    subscriber.connect()
    assert subscriber.session_present


def arrivals_before_marker(subscriber: CloudSubscriber, marker: MqttClient, timeout: float = 20) -> list[int]:
    """Publishes a marker through wharfd once the queue is drained; returns the p0 sequences before it."""
    marker.publish("devices/marker", b"marker", 1)
    items = subscriber.wait_for(lambda got: any(m.payload == b"marker" for m in got), timeout)
    before = items[: next(i for i, m in enumerate(items) if m.payload == b"marker")]
    return DeliveryReport.of(before).arrivals.get("p0", [])


def integrity_check(database) -> str:  # noqa: ANN001
    try:
        done = subprocess.run(
            ["sqlite3", str(database), "PRAGMA integrity_check"], capture_output=True, text=True, timeout=30
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()
    except FileNotFoundError:
        with sqlite3.connect(database) as db:
            return "\n".join(row[0] for row in db.execute("PRAGMA integrity_check"))


def test_reject_new_refuses_with_quota_exceeded_and_forwards_exactly_the_accepted(
    cloud_factory, gateway_factory, clients
) -> None:
    cloud, subscriber = offline_cloud(cloud_factory)
    gateway = gateway_factory(
        UplinkOptions(port=cloud.port, forward=(Forward("devices/#", policy="reject-new"),)),
        StorageOptions(max_bytes="64KiB"),
    )
    publisher = AckingPublisher(clients(gateway, version=V5), "p0", "devices/p0/data")
    publisher.publish(100, size=KIB)
    publisher.wait_acks()
    accepted = publisher.acked
    refused = publisher.refused
    assert accepted == list(range(1, len(accepted) + 1)), "acceptance is not a prefix"
    assert 32 <= len(accepted) <= 64, f"{len(accepted)} KiB-messages accepted under a 64 KiB bound"
    assert refused == [(s, QUOTA_EXCEEDED) for s in range(len(accepted) + 1, 101)]

    sys = SysWatcher(gateway)
    sys.wait_int(DROPPED + "overflow-reject-new", lambda n: n == len(refused))
    sys.wait_int(DEPTH, lambda n: n == len(accepted))
    # MQTT 3.1.1 cannot refuse a message: the publisher is disconnected without a PUBACK.
    old = AckingPublisher(clients(gateway, version=V311), "v311", "devices/v311/data")
    _, reason = old.publish_one(size=KIB)
    assert reason is None and old.client.disconnected.wait(5), "3.1.1 publisher got a PUBACK or stayed connected"

    bring_back(cloud, subscriber)
    subscriber.wait_for(lambda got: len(got) >= len(accepted), 20)
    sys.wait_int(DEPTH, lambda n: n == 0)
    assert arrivals_before_marker(subscriber, publisher.client) == accepted
    assert "v311" not in DeliveryReport.of(subscriber.snapshot()).arrivals


def test_drop_oldest_acknowledges_everything_and_forwards_the_newest_in_order(
    cloud_factory, gateway_factory, clients
) -> None:
    cloud, subscriber = offline_cloud(cloud_factory)
    gateway = gateway_factory(
        UplinkOptions(port=cloud.port, forward=(Forward("devices/#", policy="drop-oldest"),)),
        StorageOptions(max_bytes="64KiB"),
    )
    publisher = AckingPublisher(clients(gateway, version=V5), "p0", "devices/p0/data")
    publisher.publish(100, size=KIB)
    publisher.wait_acks()
    assert publisher.refused == [] and publisher.acked == list(range(1, 101))

    sys = SysWatcher(gateway)
    depth = sys.wait_int(DEPTH, lambda n: 32 <= n <= 64)
    dropped = sys.wait_int(DROPPED + "overflow-drop-oldest", lambda n: n > 0)
    assert dropped + depth == 100
    assert sys.wait_int(DROPPED + "overflow-reject-new", lambda n: True) == 0

    bring_back(cloud, subscriber)
    subscriber.wait_for(lambda got: len(got) >= depth, 20)
    sys.wait_int(DEPTH, lambda n: n == 0)
    assert arrivals_before_marker(subscriber, publisher.client) == list(range(dropped + 1, 101))


def test_expired_messages_are_not_forwarded_and_are_counted(cloud_factory, gateway_factory, clients) -> None:
    cloud, subscriber = offline_cloud(cloud_factory)
    gateway = gateway_factory(UplinkOptions(port=cloud.port))
    publisher = clients(gateway, version=V5)
    publisher.publish("devices/p0/data", b"p0:1:expires", 1, properties=publish_properties(MessageExpiryInterval=1))
    publisher.publish("devices/p0/data", b"p0:2:keeps", 1)
    publisher.publish("devices/p0/data", b"p0:3:long", 1, properties=publish_properties(MessageExpiryInterval=600))
    sys = SysWatcher(gateway)
    sys.wait_int(DEPTH, lambda n: n == 3)
    time.sleep(3)

    bring_back(cloud, subscriber)
    items = subscriber.wait_for(lambda got: len(got) >= 2, 15)
    assert [m.payload for m in items] == [b"p0:2:keeps", b"p0:3:long"]
    assert "MessageExpiryInterval" not in items[0].properties
    # The cloud gets the remaining lifetime, not the original one.
    assert 590 <= items[1].properties.get("MessageExpiryInterval", 0) <= 597
    sys.wait_int(DROPPED + "expired", lambda n: n == 1)
    sys.wait_int(DEPTH, lambda n: n == 0)
    assert arrivals_before_marker(subscriber, publisher) == [2, 3]


@pytest.mark.timeout(60)
def test_full_disk_refuses_without_crashing_and_recovers_after_the_drain(
    cloud_factory, gateway_factory, clients
) -> None:
    cloud, subscriber = offline_cloud(cloud_factory)
    gateway = gateway_factory(
        UplinkOptions(port=cloud.port, forward=(Forward("devices/#", policy="reject-new"),)),
        env={"WHARF_TEST_STORE_MAX_PAGES": "100"},  # 400 KiB: the schema fits, a few hundred KiB of messages not
    )
    v5 = AckingPublisher(clients(gateway, version=V5), "p0", "devices/p0/data")
    reason = None
    while reason is None or reason < 0x80:
        sequence, reason = v5.publish_one(size=4 * KIB)
        assert reason is not None, f"no PUBACK for message {sequence}"
        assert sequence <= 200, "800 KiB accepted into a 400 KiB database"
    accepted = v5.acked
    assert len(accepted) >= 10, f"only {len(accepted)} messages fit before the disk was full"
    more = v5.publish(5, size=4 * KIB)
    v5.wait_acks()
    outcomes = v5.outcomes()
    assert all(outcomes[s] >= 0x80 for s in more), f"accepted into a full disk: {[(s, outcomes[s]) for s in more]}"
    gateway.assert_alive()

    old = AckingPublisher(clients(gateway, version=V311), "v311", "devices/v311/data")
    _, reason = old.publish_one(size=4 * KIB)
    assert reason is None and old.client.disconnected.wait(5), "3.1.1 publisher got a PUBACK or stayed connected"
    gateway.assert_alive()

    bring_back(cloud, subscriber)
    sys = SysWatcher(gateway)
    sys.wait_int(DEPTH, lambda n: n == 0, 20)
    # Room again: new publishes are accepted, by MQTT 5 and 3.1.1 publishers alike.
    after = v5.publish(3, size=4 * KIB)
    v5.wait_acks()
    outcomes = v5.outcomes()
    assert all(outcomes[s] == 0 for s in after), f"after the drain: {[(s, outcomes[s]) for s in after]}"
    again = AckingPublisher(clients(gateway, version=V311), "v311b", "devices/v311b/data")
    assert again.publish_one(size=KIB)[1] == 0

    before_marker = arrivals_before_marker(subscriber, v5.client)
    assert before_marker == accepted + after, "what arrived is not exactly what was acknowledged"
    assert DeliveryReport.of(subscriber.snapshot()).distinct("v311b") == {1}
    assert "v311" not in DeliveryReport.of(subscriber.snapshot()).arrivals

    gateway.stop()
    assert integrity_check(gateway.database) == "ok"


def test_full_disk_with_drop_oldest_makes_room_and_keeps_accepting(cloud_factory, gateway_factory, clients) -> None:
    cloud, subscriber = offline_cloud(cloud_factory)
    gateway = gateway_factory(
        UplinkOptions(port=cloud.port, forward=(Forward("devices/#", policy="drop-oldest"),)),
        env={"WHARF_TEST_STORE_MAX_PAGES": "100"},
    )
    publisher = AckingPublisher(clients(gateway, version=V5), "p0", "devices/p0/data")
    publisher.publish(150, size=4 * KIB)  # about 600 KiB into a 400 KiB database
    publisher.wait_acks()
    assert publisher.refused == [] and publisher.acked == list(range(1, 151))
    sys = SysWatcher(gateway)
    dropped = sys.wait_int(DROPPED + "disk-full", lambda n: n > 0)
    depth = sys.wait_int(DEPTH, lambda n: n == 150 - dropped, fresh=False)
    gateway.assert_alive()

    bring_back(cloud, subscriber)
    subscriber.wait_for(lambda got: len(got) >= depth, 20)
    sys.wait_int(DEPTH, lambda n: n == 0)
    assert arrivals_before_marker(subscriber, publisher.client) == list(range(dropped + 1, 151))
    gateway.stop()
    assert integrity_check(gateway.database) == "ok"
