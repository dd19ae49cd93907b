"""04 retain: retained messages set, replaced, cleared, delivered on subscribe; retain_available."""

from __future__ import annotations

import time

import pytest

from wharf_e2e import codec
from wharf_e2e.checks import assert_serves, messages_before_marker
from wharf_e2e.cli import mosquitto_pub, start_mosquitto_sub
from wharf_e2e.client import publish_properties

VERSIONS = [pytest.param(codec.MQTT311, id="v311"), pytest.param(codec.MQTT5, id="v5")]


def _retained_on_subscribe(mqtt, topic_filter, *, version=codec.MQTT5, qos=1):
    """Subscribes a fresh client; returns the messages that arrived before a marker."""
    client = mqtt(version=version)
    client.subscribe([(topic_filter, qos), ("retain-marker", 1)])
    return messages_before_marker(client, client, "retain-marker")


@pytest.mark.parametrize("version", VERSIONS)
def test_retained_message_delivered_on_subscribe_with_retain_flag(mqtt, version):
    mqtt(version=version).publish("ret/set", b"kept", 1, retain=True)
    [message] = _retained_on_subscribe(mqtt, "ret/set", version=version)
    assert (message.topic, message.payload, message.retain) == ("ret/set", b"kept", True)


@pytest.mark.parametrize("version", VERSIONS)
def test_retained_message_replaced(mqtt, version):
    publisher = mqtt(version=version)
    publisher.publish("ret/replace", b"old", 1, retain=True)
    publisher.publish("ret/replace", b"new", 1, retain=True)
    assert [m.payload for m in _retained_on_subscribe(mqtt, "ret/replace", version=version)] == [b"new"]


@pytest.mark.parametrize("version", VERSIONS)
def test_retained_message_cleared_by_empty_payload(mqtt, version):
    publisher = mqtt(version=version)
    publisher.publish("ret/clear", b"soon gone", 1, retain=True)
    publisher.publish("ret/clear", b"", 1, retain=True)
    assert _retained_on_subscribe(mqtt, "ret/clear", version=version) == []


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_clearing_message_forwarded_to_live_subscribers(mqtt, qos):
    subscriber = mqtt()
    subscriber.subscribe("ret/clear-live", 2)
    mqtt().publish("ret/clear-live", b"", qos, retain=True)
    [message] = subscriber.messages.wait(1)
    assert message.payload == b""


def test_non_retained_publish_leaves_retained_message(mqtt):
    publisher = mqtt()
    publisher.publish("ret/keep", b"retained", 1, retain=True)
    publisher.publish("ret/keep", b"transient", 1, retain=False)
    assert [m.payload for m in _retained_on_subscribe(mqtt, "ret/keep")] == [b"retained"]


def test_wildcard_subscription_gets_all_matching_retained(mqtt):
    publisher = mqtt()
    for topic in ("house/kitchen/temp", "house/hall/temp", "house/hall/hum", "garden/temp"):
        publisher.publish(topic, topic.encode(), 1, retain=True)
    got = _retained_on_subscribe(mqtt, "house/+/temp")
    assert sorted(m.topic for m in got) == ["house/hall/temp", "house/kitchen/temp"]
    assert all(m.retain for m in got)
    got = _retained_on_subscribe(mqtt, "house/#")
    assert sorted(m.topic for m in got) == ["house/hall/hum", "house/hall/temp", "house/kitchen/temp"]


def test_retained_delivered_at_minimum_of_stored_and_subscribed_qos(mqtt):
    publisher = mqtt()
    publisher.publish("ret/qos/two", b"2", 2, retain=True)
    publisher.publish("ret/qos/zero", b"0", 0, retain=True)
    got = {m.topic: m.qos for m in _retained_on_subscribe(mqtt, "ret/qos/+", qos=1)}
    assert got == {"ret/qos/two": 1, "ret/qos/zero": 0}


@pytest.mark.parametrize("version", VERSIONS)
def test_live_message_to_existing_subscription_has_retain_cleared(mqtt, version):
    # [MQTT-3.3.1-9] (3.1.1) / Retain As Published = 0 (5.0): retain is 0 for established subscriptions.
    subscriber = mqtt(version=version)
    subscriber.subscribe("ret/live", 1)
    mqtt(version=version).publish("ret/live", b"live", 1, retain=True)
    [message] = subscriber.messages.wait(1)
    assert (message.payload, message.retain) == (b"live", False)


def test_retained_with_mosquitto_clients(broker):
    mosquitto_pub(broker.host, broker.port, "ret/cli", "from cli", qos=1, retain=True)
    sub = start_mosquitto_sub(broker.host, broker.port, ["ret/cli"], qos=1)
    try:
        [message] = sub.wait(1)
        assert (message.payload, message.retain) == (b"from cli", True)
    finally:
        sub.stop()


def test_retained_message_expires(mqtt):
    mqtt().publish("ret/expiring", b"short", 1, retain=True, properties=publish_properties(MessageExpiryInterval=1))
    time.sleep(2.5)
    assert _retained_on_subscribe(mqtt, "ret/expiring") == []


def test_retained_messages_many_topics(mqtt):
    publisher = mqtt()
    topics = [f"ret/many/{i}" for i in range(50)]
    for topic in topics:
        publisher.publish(topic, topic.encode(), 0, retain=True)
    subscriber = mqtt()
    subscriber.subscribe("ret/many/#", 1)
    got = subscriber.messages.wait(50)
    assert sorted(m.topic for m in got) == sorted(topics)


# --------------------------------------------------------------------------- #
# retain_available
# --------------------------------------------------------------------------- #


@pytest.mark.broker_config(retain_available=False)
@pytest.mark.parametrize("qos", [0, 1])
def test_v5_retained_publish_rejected_when_retain_unavailable(raw, broker, qos):
    client = raw()
    assert client.connect("no-retain").prop(codec.RETAIN_AVAILABLE) == 0
    client.send_quietly(codec.publish("ret/unavailable", b"x", qos=qos, retain=True))
    packets = client.wait_closed()
    assert [(p.type, p.reason) for p in packets] == [(codec.DISCONNECT, codec.RC_RETAIN_NOT_SUPPORTED)], packets
    assert_serves(broker)


@pytest.mark.broker_config(retain_available=False)
def test_non_retained_publish_fine_when_retain_unavailable(mqtt):
    subscriber = mqtt()
    subscriber.subscribe("ret/plain", 1)
    mqtt().publish("ret/plain", b"ok", 1)
    [message] = subscriber.messages.wait(1)
    assert message.payload == b"ok"


# --------------------------------------------------------------------------- #
# Persistence across restarts
# --------------------------------------------------------------------------- #


@pytest.mark.wharf_only(reason="the Mosquitto reference runs with persistence false")
def test_retained_message_survives_restart(broker, mqtt):
    mqtt().publish("ret/durable", b"after restart", 1, retain=True)
    broker.restart()
    [message] = _retained_on_subscribe(mqtt, "ret/durable")
    assert message.payload == b"after restart"


@pytest.mark.wharf_only(reason="the Mosquitto reference runs with persistence false")
def test_persistent_session_survives_restart(broker, mqtt):
    subscriber = mqtt(client_id="durable-session", clean=False, session_expiry=3600)
    subscriber.subscribe("ret/durable-session", 1)
    subscriber.disconnect()
    mqtt().publish("ret/durable-session", b"queued before restart", 1)
    broker.restart()
    back = mqtt(client_id="durable-session", clean=False, session_expiry=3600)
    assert back.connack.session_present
    [message] = back.messages.wait(1)
    assert message.payload == b"queued before restart"


def test_restart_brings_broker_back(broker):
    broker.restart()
    assert_serves(broker)


def test_broker_comes_back_after_kill9(broker, mqtt):
    mqtt().publish("ret/before-kill", b"x", 1, retain=True)
    broker.kill9()
    broker.restart()
    assert_serves(broker)
