"""02 subscribe: MQTT 5 subscription options and subscription identifiers."""

from __future__ import annotations

import pytest

from wharf_e2e import codec
from wharf_e2e.checks import messages_before_marker
from wharf_e2e.client import options, publish_properties


def test_no_local_suppresses_own_messages(mqtt):
    client = mqtt()
    assert client.subscribe("nl/t", options=options(1, noLocal=True)) == [1]
    client.subscribe("nl/marker", 1)
    other = mqtt()
    other.subscribe("nl/t", 1)
    client.publish("nl/t", b"mine", 1)
    [seen_by_other] = other.messages.wait(1)
    assert seen_by_other.payload == b"mine"
    assert messages_before_marker(client, other, "nl/marker") == []


def test_no_local_still_receives_other_clients_messages(mqtt):
    client = mqtt()
    client.subscribe("nl2/t", options=options(1, noLocal=True))
    mqtt().publish("nl2/t", b"theirs", 1)
    [message] = client.messages.wait(1)
    assert message.payload == b"theirs"


def test_retain_as_published(mqtt):
    keep = mqtt()
    keep.subscribe("rap/t", options=options(1, retainAsPublished=True))
    clear = mqtt()
    clear.subscribe("rap/t", options=options(1, retainAsPublished=False))
    publisher = mqtt()
    publisher.publish("rap/t", b"retained live", 1, retain=True)
    publisher.publish("rap/t", b"plain live", 1, retain=False)
    assert [(m.payload, m.retain) for m in keep.messages.wait(2)] == [(b"retained live", True), (b"plain live", False)]
    assert [(m.payload, m.retain) for m in clear.messages.wait(2)] == [
        (b"retained live", False),
        (b"plain live", False),
    ]


def _retained(mqtt, topic, payload=b"stored"):
    mqtt().publish(topic, payload, 1, retain=True)


def _subscribe_raw(client, topic, *, retain_handling, qos=1):
    options_byte = codec.sub_options(qos, retain_handling=retain_handling)
    packet_id = client.next_id()
    client.send(codec.subscribe(packet_id, [(topic, options_byte)]))
    assert client.expect(codec.SUBACK).reasons == [qos]


def _retained_publishes(client):
    return [p for p in client.drain(0.7) if p.type == codec.PUBLISH]


def test_retain_handling_0_sends_retained_on_every_subscribe(raw, mqtt):
    _retained(mqtt, "rh0/t")
    client = raw()
    client.connect("rh0")
    for _ in range(2):
        _subscribe_raw(client, "rh0/t", retain_handling=0)
        [message] = _retained_publishes(client)
        assert (message.payload, message.retain) == (b"stored", True)
        client.ack(message)


def test_retain_handling_1_sends_retained_only_for_new_subscription(raw, mqtt):
    _retained(mqtt, "rh1/t")
    client = raw()
    client.connect("rh1")
    _subscribe_raw(client, "rh1/t", retain_handling=1)
    [message] = _retained_publishes(client)
    assert message.retain
    client.ack(message)
    _subscribe_raw(client, "rh1/t", retain_handling=1)
    assert _retained_publishes(client) == []


def test_retain_handling_2_never_sends_retained(raw, mqtt):
    _retained(mqtt, "rh2/t")
    client = raw()
    client.connect("rh2")
    _subscribe_raw(client, "rh2/t", retain_handling=2)
    assert _retained_publishes(client) == []
    mqtt().publish("rh2/t", b"live", 1)
    [message] = _retained_publishes(client)
    assert (message.payload, message.retain) == (b"live", False)


def test_invalid_retain_handling_3_is_malformed(raw, broker):
    client = raw()
    client.connect("rh3")
    client.send(codec.subscribe(1, [("rh3/t", 0x30)]))
    packets = client.wait_closed()
    for pkt in packets:
        assert pkt.type == codec.DISCONNECT, packets
        assert pkt.reason in (codec.RC_MALFORMED_PACKET, codec.RC_PROTOCOL_ERROR), packets


# --------------------------------------------------------------------------- #
# Subscription identifiers
# --------------------------------------------------------------------------- #


def test_subscription_identifier_delivered(mqtt):
    client = mqtt()
    client.subscribe("sid/t", 1, sub_id=42)
    client.subscribe("sid/none", 1)
    publisher = mqtt()
    publisher.publish("sid/t", b"with id", 1)
    publisher.publish("sid/none", b"without id", 1)
    with_id, without_id = client.messages.wait(2)
    assert with_id.properties.get("SubscriptionIdentifier") == [42]
    assert "SubscriptionIdentifier" not in without_id.properties


def test_subscription_identifier_on_retained_delivery(raw, mqtt):
    _retained(mqtt, "sidr/t")
    client = raw()
    client.connect("sid-retained")
    client.subscribe("sidr/#", 1, properties=[(codec.SUBSCRIPTION_IDENTIFIER, 268435455)])
    message = client.expect(codec.PUBLISH)
    assert message.retain and message.props(codec.SUBSCRIPTION_IDENTIFIER) == [268435455]


def test_resubscribe_replaces_subscription_identifier(raw, mqtt):
    client = raw()
    client.connect("sid-replace")
    client.subscribe("sidx/t", 1, properties=[(codec.SUBSCRIPTION_IDENTIFIER, 5)])
    client.subscribe("sidx/t", 1, properties=[(codec.SUBSCRIPTION_IDENTIFIER, 6)])
    mqtt().publish("sidx/t", b"x", 1)
    message = client.expect(codec.PUBLISH)
    assert message.props(codec.SUBSCRIPTION_IDENTIFIER) == [6]


@pytest.mark.xfail_mosquitto(reason="answers DISCONNECT 0x81 (malformed) instead of 0x82 (protocol error)")
def test_subscription_identifier_zero_is_protocol_error(raw, broker):
    # "It is a Protocol Error if the Subscription Identifier has a value of 0" (MQTT 5, 3.8.2.1.2).
    client = raw()
    client.connect("sid-zero")
    client.send(codec.subscribe(1, [("sid0/t", 0)], properties=[(codec.SUBSCRIPTION_IDENTIFIER, 0)]))
    packets = client.wait_closed()
    for pkt in packets:
        assert (pkt.type, pkt.reason) == (codec.DISCONNECT, codec.RC_PROTOCOL_ERROR), packets


@pytest.mark.parametrize("publisher_version", [codec.MQTT311, codec.MQTT5], ids=["from-v311", "from-v5"])
def test_v311_subscriber_never_gets_properties(raw, mqtt, publisher_version):
    client = raw(version=codec.MQTT311)
    client.connect("plain-v311")
    client.subscribe("plain/t", 1)
    publisher = mqtt(version=publisher_version)
    props = None
    if publisher_version == codec.MQTT5:
        props = publish_properties(UserProperty=[("k", "v")], ContentType="text/plain", MessageExpiryInterval=60)
    publisher.publish("plain/t", b"payload", 1, properties=props)
    message = client.expect(codec.PUBLISH)
    # A 3.1.1 PUBLISH is topic, packet id, payload: no property block may be inserted.
    assert (message.topic, message.payload) == ("plain/t", b"payload")
