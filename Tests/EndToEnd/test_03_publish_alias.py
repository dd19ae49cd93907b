"""03 publish: MQTT 5 topic aliases sent by clients."""

from __future__ import annotations

import pytest

from wharf_e2e import codec
from wharf_e2e.checks import assert_serves


def _alias(value):
    return [(codec.TOPIC_ALIAS, value)]


def _subscriber(raw, topic="alias/#"):
    subscriber = raw(version=codec.MQTT311)
    subscriber.connect("alias-watcher")
    subscriber.subscribe(topic, 1)
    return subscriber


def test_topic_alias_set_then_used(raw):
    subscriber = _subscriber(raw)
    client = raw()
    client.connect("alias-user")
    client.publish("alias/one", b"1", qos=1, properties=_alias(1))
    client.publish("", b"2", qos=1, properties=_alias(1))
    client.publish("alias/two", b"3", qos=0, properties=_alias(2))
    client.publish("", b"4", qos=0, properties=_alias(2))
    client.publish("", b"5", qos=1, properties=_alias(1))
    got = []
    while len(got) < 5:
        pkt = subscriber.expect(codec.PUBLISH)
        subscriber.ack(pkt)
        got.append((pkt.topic, pkt.payload))
    assert got == [("alias/one", b"1"), ("alias/one", b"2"), ("alias/two", b"3"), ("alias/two", b"4"), ("alias/one", b"5")]


def test_topic_alias_can_be_remapped(raw):
    subscriber = _subscriber(raw)
    client = raw()
    client.connect("alias-remap")
    client.publish("alias/first", b"a", qos=1, properties=_alias(3))
    client.publish("alias/second", b"b", qos=1, properties=_alias(3))
    client.publish("", b"c", qos=1, properties=_alias(3))
    got = []
    for _ in range(3):
        pkt = subscriber.expect(codec.PUBLISH)
        subscriber.ack(pkt)
        got.append(pkt.topic)
    assert got == ["alias/first", "alias/second", "alias/second"]


def test_topic_alias_not_carried_across_connections(raw, broker):
    client = raw()
    client.connect("alias-forget")
    client.publish("alias/x", b"a", qos=1, properties=_alias(1))
    client.disconnect()
    again = raw()
    again.connect("alias-forget")
    again.send_quietly(codec.publish("", b"b", qos=1, properties=_alias(1)))
    packets = again.wait_closed()
    assert [(p.type, p.reason) for p in packets] == [(codec.DISCONNECT, codec.RC_PROTOCOL_ERROR)], packets
    assert_serves(broker)


@pytest.mark.broker_config(max_topic_alias=2)
def test_topic_alias_above_maximum_disconnected(raw, broker):
    client = raw()
    assert client.connect("alias-too-high").prop(codec.TOPIC_ALIAS_MAXIMUM) == 2
    client.publish("alias/ok", b"fine", qos=1, properties=_alias(2))
    client.send_quietly(codec.publish("alias/bad", b"x", qos=1, properties=_alias(3)))
    packets = client.wait_closed()
    assert [(p.type, p.reason) for p in packets] == [(codec.DISCONNECT, codec.RC_TOPIC_ALIAS_INVALID)], packets
    assert_serves(broker)


@pytest.mark.broker_config(max_topic_alias=0)
def test_topic_alias_when_disabled_disconnected(raw, broker):
    client = raw()
    client.connect("alias-disabled")
    client.send_quietly(codec.publish("alias/bad", b"x", qos=1, properties=_alias(1)))
    packets = client.wait_closed()
    assert [(p.type, p.reason) for p in packets] == [(codec.DISCONNECT, codec.RC_TOPIC_ALIAS_INVALID)], packets
    assert_serves(broker)


@pytest.mark.xfail_mosquitto(reason="answers a Topic Alias of 0 with 0x81 (malformed packet)")
def test_topic_alias_zero_disconnected(raw, broker):
    # "A Topic Alias of 0 ... is a Protocol Error" (MQTT 5, 3.3.2.3.4): 0x94 or 0x82, never accepted.
    client = raw()
    client.connect("alias-zero")
    client.send_quietly(codec.publish("alias/zero", b"x", qos=1, properties=_alias(0)))
    packets = client.wait_closed()
    assert [p.type for p in packets] == [codec.DISCONNECT], packets
    assert packets[0].reason in (codec.RC_TOPIC_ALIAS_INVALID, codec.RC_PROTOCOL_ERROR), packets
    assert_serves(broker)


def test_unknown_topic_alias_with_empty_topic_is_protocol_error(raw, broker):
    client = raw()
    client.connect("alias-unknown")
    client.send_quietly(codec.publish("", b"x", qos=1, properties=_alias(5)))
    packets = client.wait_closed()
    assert [(p.type, p.reason) for p in packets] == [(codec.DISCONNECT, codec.RC_PROTOCOL_ERROR)], packets
    assert_serves(broker)


def test_empty_topic_without_alias_is_protocol_error(raw, broker):
    client = raw()
    client.connect("alias-none")
    client.send_quietly(codec.publish("", b"x", qos=1))
    packets = client.wait_closed()
    for pkt in packets:
        assert pkt.type == codec.DISCONNECT and pkt.reason in (codec.RC_PROTOCOL_ERROR, codec.RC_TOPIC_NAME_INVALID)
    assert_serves(broker)
