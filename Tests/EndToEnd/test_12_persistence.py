"""Broker persistence across restarts (SIGTERM) and crashes (kill -9): persistent sessions with
their subscriptions and queued QoS 1/2 messages, retained messages, clean sessions, session expiry."""

from __future__ import annotations

import time
from typing import Callable

import pytest

from wharf_e2e import codec
from wharf_e2e.broker import Broker
from wharf_e2e.checks import messages_before_marker
from wharf_e2e.client import V311, V5, MqttClient, publish_properties

pytestmark = pytest.mark.wharf_only(
    reason="the Mosquitto reference runs without persistence; kill -9 would lose its state anyway"
)


def bounce(broker: Broker, how: str) -> None:
    """Restarts the broker on the same port and data directory, cleanly or after kill -9."""
    if how == "none":
        return
    if how == "sigterm":
        broker.restart()
    else:
        broker.kill9()
        broker.start()


def persistent(mqtt: Callable[..., MqttClient], version: int, client_id: str, *, connect: bool = True) -> MqttClient:
    if version == V5:
        return mqtt(version=V5, client_id=client_id, clean=False, session_expiry=3600, connect=connect)
    return mqtt(version=V311, client_id=client_id, clean=False, connect=connect)


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
@pytest.mark.parametrize("version", [V5, V311], ids=["v5", "v311"])
def test_persistent_session_keeps_subscriptions_and_queued_messages(
    broker: Broker, mqtt, version: int, how: str
) -> None:
    client_id = f"keeper-{version}-{how}"
    subscriber = persistent(mqtt, version, client_id)
    assert subscriber.subscribe([("p/q1", 1), ("p/q2", 2)]) == [1, 2]
    subscriber.disconnect()

    publisher = mqtt(version=V5)
    for index in range(5):
        publisher.publish("p/q1", f"one-{index}".encode(), 1)  # returns after PUBACK
        publisher.publish("p/q2", f"two-{index}".encode(), 2)  # returns after PUBCOMP
    publisher.close()

    bounce(broker, how)

    again = persistent(mqtt, version, client_id, connect=False)
    connack = again.connect()
    assert connack.session_present, f"session lost over {how}"
    items = again.messages.wait(10, timeout=10)
    by_topic = {topic: [m for m in items if m.topic == topic] for topic in ("p/q1", "p/q2")}
    assert [m.payload for m in by_topic["p/q1"]] == [f"one-{i}".encode() for i in range(5)]
    assert [m.payload for m in by_topic["p/q2"]] == [f"two-{i}".encode() for i in range(5)]
    assert {m.qos for m in by_topic["p/q1"]} == {1} and {m.qos for m in by_topic["p/q2"]} == {2}

    # The subscriptions themselves survived: new messages arrive without subscribing again.
    fresh = mqtt(version=V5)
    fresh.publish("p/q2", b"after", 2)
    later = again.messages.wait_for(lambda got: any(m.payload == b"after" for m in got))
    assert len(later) == 11, [m.payload for m in later]


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_retained_messages_survive_a_restart(broker: Broker, mqtt, how: str) -> None:
    publisher = mqtt(version=V5)
    publisher.publish("r/kept", b"kept", 1, retain=True)
    publisher.publish("r/replaced", b"old", 1, retain=True)
    publisher.publish("r/replaced", b"new", 1, retain=True)
    publisher.publish("r/cleared", b"gone soon", 1, retain=True)
    publisher.publish("r/cleared", b"", 1, retain=True)
    publisher.publish("r/qos2", b"two", 2, retain=True)
    publisher.close()

    bounce(broker, how)

    watcher = mqtt(version=V5)
    # QoS 1 keeps the retained copies ahead of the marker (paho hands a QoS 2 one over only at PUBREL).
    watcher.subscribe("r/#", 1)
    other = mqtt(version=V311)
    retained = messages_before_marker(watcher, other, "r/marker")
    assert sorted((m.topic, m.payload, m.retain) for m in retained) == [
        ("r/kept", b"kept", True),
        ("r/qos2", b"two", True),
        ("r/replaced", b"new", True),
    ]


@pytest.mark.parametrize("version", [V5, V311], ids=["v5", "v311"])
def test_a_clean_session_leaves_nothing_behind(broker: Broker, mqtt, version: int) -> None:
    client_id = f"clean-{version}"
    if version == V5:
        first = mqtt(version=V5, client_id=client_id, clean=True, session_expiry=0)
    else:
        first = mqtt(version=V311, client_id=client_id, clean=True)
    first.subscribe("c/topic", 1)
    first.disconnect()
    mqtt(version=V5).publish("c/topic", b"nobody home", 1)

    broker.restart()

    again = persistent(mqtt, version, client_id, connect=False)
    assert not again.connect().session_present
    # Anything left queued would be delivered right after CONNACK, before the marker.
    again.subscribe("c/marker", 1)
    assert messages_before_marker(again, mqtt(version=V5), "c/marker") == []
    # And the old subscription is gone.
    again.messages.clear()
    mqtt(version=V5).publish("c/topic", b"still nobody", 1)
    assert messages_before_marker(again, mqtt(version=V5), "c/marker") == []


@pytest.mark.timeout(40)
@pytest.mark.parametrize("while_", ["running", "stopped"])
def test_session_expiry_counts_across_a_restart(broker: Broker, mqtt, while_: str) -> None:
    """The time a session spent disconnected before a restart (and while wharfd was down) counts."""
    short = mqtt(version=V5, client_id="short-lived", clean=False, session_expiry=3)
    short.subscribe("e/topic", 1)
    long = mqtt(version=V5, client_id="long-lived", clean=False, session_expiry=600)
    long.subscribe("e/topic", 1)
    short.disconnect()
    long.disconnect()
    disconnected = time.monotonic()

    if while_ == "running":
        # Two of the three seconds pass before the restart, the last one after it.
        time.sleep(2)
        broker.restart()
        time.sleep(max(0.0, disconnected + 3 + 1.5 - time.monotonic()))
    else:
        # The whole expiry passes while wharfd is down.
        broker.stop()
        time.sleep(max(0.0, disconnected + 3 + 0.5 - time.monotonic()))
        broker.start()
        time.sleep(1.5)  # the broker ends expired sessions once a second
    restarted_for = time.monotonic() - disconnected

    probe = mqtt(version=V5, client_id="short-lived", clean=False, session_expiry=3, connect=False)
    assert not probe.connect().session_present, (
        f"a session with a 3 s expiry was still there {restarted_for:.1f} s after its client left "
        f"(wharfd restarted {'in between' if while_ == 'running' else 'after the expiry'})"
    )
    control = mqtt(version=V5, client_id="long-lived", clean=False, session_expiry=600, connect=False)
    assert control.connect().session_present


@pytest.mark.parametrize("how", ["none", "sigterm", "kill9"])
def test_message_expiry_of_queued_messages_counts_across_a_restart(broker: Broker, mqtt, how: str) -> None:
    subscriber = persistent(mqtt, V5, f"expiring-{how}")
    subscriber.subscribe("x/topic", 1)
    subscriber.disconnect()
    publisher = mqtt(version=V5)
    publisher.publish("x/topic", b"short", 1, properties=publish_properties(MessageExpiryInterval=2))
    publisher.publish("x/topic", b"long", 1, properties=publish_properties(MessageExpiryInterval=60))
    publisher.close()
    time.sleep(3)  # "short" has expired before the restart

    bounce(broker, how)

    again = persistent(mqtt, V5, f"expiring-{how}", connect=False)
    assert again.connect().session_present
    [message] = again.messages.wait(1)
    assert message.payload == b"long", f"an expired message was delivered after the restart: {message}"
    assert 50 <= message.properties.get("MessageExpiryInterval", 0) <= 57
    again.messages.clear()
    assert messages_before_marker(again, mqtt(version=V5), "x/topic") == []


@pytest.mark.parametrize("version", [codec.MQTT5, codec.MQTT311], ids=["v5", "v311"])
def test_a_qos2_message_sent_before_a_restart_comes_back_under_its_identifier(
    broker: Broker, raw, version: int
) -> None:
    """Exactly once across a restart: the client got PUBLISH but its PUBREC never reached the
    broker, so after the restart the same message comes back with DUP under the same packet
    identifier, and the client (which keys its QoS 2 state by identifier) does not deliver it twice."""
    session = {"properties": [(codec.SESSION_EXPIRY_INTERVAL, 3600)]} if version == codec.MQTT5 else {}
    subscriber = raw(version=version)
    subscriber.connect("q2-keeper", clean=False, **session)
    subscriber.subscribe("p/exactly", 2)
    publisher = raw(version=version)
    publisher.connect("q2-publisher")
    publisher.publish("p/exactly", b"once", qos=2)
    first = subscriber.expect(codec.PUBLISH)
    assert (first.payload, first.qos, first.dup) == (b"once", 2, False)
    subscriber.abort()  # no PUBREC
    publisher.disconnect()

    broker.restart()

    again = raw(version=version)
    connack = again.connect("q2-keeper", clean=False, **session)
    assert connack.session_present
    resent = again.expect(codec.PUBLISH)
    assert (resent.payload, resent.packet_id, resent.dup) == (b"once", first.packet_id, True)
    again.ack(resent)
    again.expect_nothing(0.5)
