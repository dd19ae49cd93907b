"""03 publish: QoS 0/1/2 end to end, QoS downgrade, exactly-once, MQTT 5 properties and expiry."""

from __future__ import annotations

import time

import pytest

from wharf_e2e import codec
from wharf_e2e.checks import messages_before_marker
from wharf_e2e.cli import mosquitto_pub, start_mosquitto_sub
from wharf_e2e.client import publish_properties

VERSIONS = [pytest.param(codec.MQTT311, id="v311"), pytest.param(codec.MQTT5, id="v5")]
QOS = [pytest.param(q, id=f"qos{q}") for q in (0, 1, 2)]


# --------------------------------------------------------------------------- #
# QoS 0/1/2 in both directions
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("qos", QOS)
@pytest.mark.parametrize("version", VERSIONS)
def test_paho_to_paho(mqtt, version, qos):
    subscriber = mqtt(version=version)
    assert subscriber.subscribe("pub/paho", qos) == [qos]
    publisher = mqtt(version=version)
    payloads = [f"{version}-{qos}-{i}".encode() for i in range(5)]
    for payload in payloads:
        publisher.publish("pub/paho", payload, qos)
    got = subscriber.messages.wait(5)
    assert [m.payload for m in got] == payloads, "in order, each once"
    assert {m.qos for m in got} == {qos}


@pytest.mark.parametrize("qos", QOS)
@pytest.mark.parametrize("version", VERSIONS)
def test_mosquitto_pub_to_paho(broker, mqtt, version, qos):
    subscriber = mqtt(version=version)
    subscriber.subscribe("pub/cli-in", qos)
    mosquitto_pub(broker.host, broker.port, "pub/cli-in", "from mosquitto_pub", qos=qos, version=version)
    [message] = subscriber.messages.wait(1)
    assert (message.payload, message.qos) == (b"from mosquitto_pub", qos)


@pytest.mark.parametrize("qos", QOS)
@pytest.mark.parametrize("version", VERSIONS)
def test_paho_to_mosquitto_sub(broker, mqtt, version, qos):
    sub = start_mosquitto_sub(broker.host, broker.port, ["pub/cli-out"], qos=qos, version=version)
    try:
        publisher = mqtt(version=version)
        publisher.publish("pub/cli-out", b"to mosquitto_sub", qos)
        [message] = sub.wait(1)
        assert (message.topic, message.payload, message.qos) == ("pub/cli-out", b"to mosquitto_sub", qos)
    finally:
        sub.stop()


@pytest.mark.parametrize("qos", QOS)
def test_raw_publish_flow_and_delivery(raw, qos):
    subscriber = raw(version=codec.MQTT311)
    subscriber.connect("raw-sub")
    subscriber.subscribe("pub/raw", 2)
    publisher = raw()
    publisher.connect("raw-pub")
    ack = publisher.publish("pub/raw", b"exact", qos=qos)
    if qos:
        assert ack is not None and ack.reason == codec.RC_SUCCESS
    message = subscriber.expect(codec.PUBLISH)
    assert (message.topic, message.payload, message.qos, message.dup, message.retain) == (
        "pub/raw",
        b"exact",
        qos,
        False,
        False,
    )
    assert (message.packet_id != 0) == (qos > 0)
    subscriber.ack(message)
    subscriber.expect_nothing(0.3)


def test_v5_puback_no_matching_subscribers(raw):
    client = raw()
    client.connect("lonely")
    puback = client.publish("pub/nobody/listens", b"x", qos=1)
    # 0x10 is allowed (and informative); 0x00 is allowed too [MQTT-3.4.2.1].
    assert puback.reason in (codec.RC_SUCCESS, codec.RC_NO_MATCHING_SUBSCRIBERS)


@pytest.mark.parametrize(
    "published,subscribed,expected", [(2, 0, 0), (2, 1, 1), (1, 0, 0), (1, 2, 1), (0, 2, 0), (2, 2, 2)]
)
def test_qos_downgraded_to_subscription(mqtt, published, subscribed, expected):
    subscriber = mqtt()
    subscriber.subscribe("pub/downgrade", subscribed)
    mqtt().publish("pub/downgrade", b"x", published)
    [message] = subscriber.messages.wait(1)
    assert message.qos == expected


# --------------------------------------------------------------------------- #
# QoS 2 exactly once
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("version", VERSIONS)
def test_qos2_duplicate_publish_before_pubrel_delivered_once(raw, mqtt, version):
    subscriber = mqtt()
    subscriber.subscribe([("pub/once", 2), ("pub/once/marker", 2)])
    publisher = raw(version=version)
    publisher.connect("once")
    publisher.send(codec.publish("pub/once", b"exactly once", qos=2, packet_id=77, version=version))
    assert publisher.expect(codec.PUBREC).packet_id == 77
    publisher.send(codec.publish("pub/once", b"exactly once", qos=2, packet_id=77, dup=True, version=version))
    assert publisher.expect(codec.PUBREC).packet_id == 77
    publisher.send(codec.ack(codec.PUBREL, 77, version=version))
    assert publisher.expect(codec.PUBCOMP).packet_id == 77
    # After PUBCOMP the packet identifier is free again: the same id carries a new message.
    publisher.send(codec.publish("pub/once", b"new message", qos=2, packet_id=77, version=version))
    assert publisher.expect(codec.PUBREC).packet_id == 77
    publisher.send(codec.ack(codec.PUBREL, 77, version=version))
    publisher.expect(codec.PUBCOMP)
    got = messages_before_marker(subscriber, subscriber, "pub/once/marker", settle=0.3)
    assert [m.payload for m in got] == [b"exactly once", b"new message"]


def test_qos2_pubrel_for_unknown_id_completes(raw):
    client = raw()
    client.connect("unknown-pubrel")
    client.send(codec.ack(codec.PUBREL, 4242))
    pubcomp = client.expect(codec.PUBCOMP)
    assert pubcomp.packet_id == 4242
    assert pubcomp.reason in (codec.RC_SUCCESS, 0x92)  # 0x92: packet identifier not found


# --------------------------------------------------------------------------- #
# MQTT 5 properties forwarded
# --------------------------------------------------------------------------- #


def test_request_response_properties_forwarded(mqtt):
    responder = mqtt()
    responder.subscribe("svc/request", 1)
    requester = mqtt()
    requester.subscribe("svc/reply/+", 1)
    correlation = bytes(range(256))
    requester.publish(
        "svc/request",
        b"ping",
        1,
        properties=publish_properties(ResponseTopic="svc/reply/1", CorrelationData=correlation),
    )
    [request] = responder.messages.wait(1)
    assert request.properties.get("ResponseTopic") == "svc/reply/1"
    assert request.properties.get("CorrelationData") == correlation
    responder.publish(
        request.properties["ResponseTopic"],
        b"pong",
        1,
        properties=publish_properties(CorrelationData=request.properties["CorrelationData"]),
    )
    [reply] = requester.messages.wait(1)
    assert (reply.topic, reply.payload, reply.properties.get("CorrelationData")) == ("svc/reply/1", b"pong", correlation)


def test_user_properties_forwarded_in_order(raw, mqtt):
    subscriber = raw()
    subscriber.connect("user-props")
    subscriber.subscribe("props/user", 1)
    pairs = [("b", "2"), ("a", "1"), ("b", "1"), ("ünïcode", "välue"), ("empty", "")]
    mqtt().publish("props/user", b"x", 1, properties=publish_properties(UserProperty=pairs))
    message = subscriber.expect(codec.PUBLISH)
    assert message.props(codec.USER_PROPERTY) == pairs


def test_payload_format_and_content_type_forwarded(mqtt):
    subscriber = mqtt()
    subscriber.subscribe("props/format", 1)
    props = publish_properties(PayloadFormatIndicator=1, ContentType="application/json; charset=utf-8")
    mqtt().publish("props/format", '{"t": 21.5}', 1, properties=props)
    [message] = subscriber.messages.wait(1)
    assert message.properties.get("PayloadFormatIndicator") == 1
    assert message.properties.get("ContentType") == "application/json; charset=utf-8"


def test_properties_absent_when_not_sent(raw, mqtt):
    subscriber = raw()
    subscriber.connect("no-props")
    subscriber.subscribe("props/none", 1)
    mqtt().publish("props/none", b"bare", 1)
    message = subscriber.expect(codec.PUBLISH)
    assert message.properties == []


# --------------------------------------------------------------------------- #
# Message expiry
# --------------------------------------------------------------------------- #


def _offline_subscriber(raw, client_id, topic):
    client = raw()
    client.connect(client_id, clean=False, properties=[(codec.SESSION_EXPIRY_INTERVAL, 300)])
    client.subscribe(topic, 1)
    client.disconnect()


def _reconnect(raw, client_id):
    client = raw()
    connack = client.connect(client_id, clean=False, properties=[(codec.SESSION_EXPIRY_INTERVAL, 300)])
    assert connack.session_present
    return client


def test_queued_message_expires_for_offline_session(raw, mqtt):
    _offline_subscriber(raw, "expiry-offline", "exp/t")
    publisher = mqtt()
    publisher.publish("exp/t", b"short-lived", 1, properties=publish_properties(MessageExpiryInterval=1))
    publisher.publish("exp/t", b"no expiry", 1)
    time.sleep(2.5)
    client = _reconnect(raw, "expiry-offline")
    got = [p for p in client.drain(1.0) if p.type == codec.PUBLISH]
    assert [p.payload for p in got] == [b"no expiry"]
    assert got[0].prop(codec.MESSAGE_EXPIRY_INTERVAL) is None


def test_remaining_expiry_interval_decremented_on_delivery(raw, mqtt):
    _offline_subscriber(raw, "expiry-remaining", "exp/remaining")
    mqtt().publish("exp/remaining", b"aging", 1, properties=publish_properties(MessageExpiryInterval=60))
    time.sleep(2.2)
    client = _reconnect(raw, "expiry-remaining")
    message = client.expect(codec.PUBLISH)
    remaining = message.prop(codec.MESSAGE_EXPIRY_INTERVAL)
    assert isinstance(remaining, int) and 0 < remaining <= 58, f"remaining expiry {remaining}"


def test_expiry_forwarded_to_online_subscriber(raw, mqtt):
    subscriber = raw()
    subscriber.connect("expiry-online")
    subscriber.subscribe("exp/online", 1)
    mqtt().publish("exp/online", b"fresh", 1, properties=publish_properties(MessageExpiryInterval=120))
    message = subscriber.expect(codec.PUBLISH)
    remaining = message.prop(codec.MESSAGE_EXPIRY_INTERVAL)
    assert isinstance(remaining, int) and 115 <= remaining <= 120
