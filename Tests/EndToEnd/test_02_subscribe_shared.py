"""02 subscribe: shared subscriptions ($share/{group}/{filter})."""

from __future__ import annotations

import time

import pytest

from wharf_e2e import codec
from wharf_e2e.checks import assert_serves, assert_subscription_refused, messages_before_marker

COUNT = 30


def _publish_all(publisher, topic, count=COUNT):
    for index in range(count):
        publisher.publish(topic, f"m{index}".encode(), 1)
    return {f"m{index}".encode() for index in range(count)}


def _wait_total(members, count, timeout=10.0):
    """Waits until the members together received `count` messages; returns the payload lists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(len(m.messages.snapshot()) for m in members) >= count:
            break
        time.sleep(0.05)
    time.sleep(0.3)  # let a wrongly duplicated delivery show up
    return [[x.payload for x in m.messages.snapshot()] for m in members]


@pytest.mark.parametrize("version", [codec.MQTT311, codec.MQTT5], ids=["v311", "v5"])
def test_shared_subscription_distributes_each_message_to_one_member(mqtt, version):
    members = [mqtt(version=version) for _ in range(3)]
    for member in members:
        assert member.subscribe("$share/workers/jobs/+", 1) == [1]
    sent = _publish_all(mqtt(), "jobs/new")
    received = _wait_total(members, COUNT)
    everything = [payload for payloads in received for payload in payloads]
    assert sorted(everything) == sorted(sent), "each message exactly once across the group"
    assert all(payloads for payloads in received), f"every member gets some: {[len(p) for p in received]}"


def test_shared_and_non_shared_subscribers_both_receive(mqtt):
    members = [mqtt() for _ in range(2)]
    for member in members:
        member.subscribe("$share/g/mixed/t", 1)
    plain = mqtt()
    plain.subscribe("mixed/t", 1)
    sent = _publish_all(mqtt(), "mixed/t")
    assert {m.payload for m in plain.messages.wait(COUNT)} == sent
    received = _wait_total(members, COUNT)
    assert sorted(p for payloads in received for p in payloads) == sorted(sent)


def test_two_groups_each_receive_every_message(mqtt):
    group_a = [mqtt(), mqtt()]
    group_b = [mqtt()]
    for member in group_a:
        member.subscribe("$share/a/groups/t", 1)
    for member in group_b:
        member.subscribe("$share/b/groups/t", 1)
    sent = _publish_all(mqtt(), "groups/t", 10)
    for group in (group_a, group_b):
        received = _wait_total(group, 10)
        assert sorted(p for payloads in received for p in payloads) == sorted(sent)


def test_shared_subscription_qos_downgrade(mqtt):
    member = mqtt()
    assert member.subscribe("$share/q/shq/t", 0) == [0]
    mqtt().publish("shq/t", b"x", 2)
    [message] = member.messages.wait(1)
    assert message.qos == 0


def test_unsubscribed_member_gets_no_more(mqtt):
    stays, leaves = mqtt(), mqtt()
    stays.subscribe("$share/u/shu/t", 1)
    leaves.subscribe([("$share/u/shu/t", 1), ("shu/marker", 1)])
    assert leaves.unsubscribe("$share/u/shu/t") == [0] or leaves.version == codec.MQTT311
    publisher = mqtt()
    sent = _publish_all(publisher, "shu/t", 10)
    assert {m.payload for m in stays.messages.wait(10)} == sent
    assert messages_before_marker(leaves, publisher, "shu/marker") == []


@pytest.mark.xfail_mosquitto(reason="sends retained messages to a new shared subscription")
def test_shared_subscription_gets_no_retained_message_on_subscribe(mqtt):
    # Only a new non-shared subscription gets the retained messages (MQTT 5, 3.3.1.3).
    mqtt().publish("shr/t", b"retained", 1, retain=True)
    member = mqtt()
    member.subscribe([("$share/r/shr/t", 1), ("shr/marker", 1)])
    assert messages_before_marker(member, member, "shr/marker", settle=0.5) == []


@pytest.mark.xfail_mosquitto(reason="accepts No Local on a shared subscription")
def test_v5_no_local_on_shared_subscription_is_protocol_error(raw, broker):
    # [MQTT-3.8.3-4]: a protocol error; answered by DISCONNECT 0x82 or a plain close.
    client = raw()
    client.connect("shared-no-local")
    client.send(codec.subscribe(1, [("$share/nl/t", codec.sub_options(1, no_local=True))]))
    packets = client.wait_closed()
    for pkt in packets:
        assert (pkt.type, pkt.reason) == (codec.DISCONNECT, codec.RC_PROTOCOL_ERROR), packets
    assert_serves(broker)


@pytest.mark.parametrize(
    "topic_filter",
    [
        pytest.param("$share/g", marks=pytest.mark.xfail_mosquitto(reason="accepts '$share/g' without a filter")),
        pytest.param("$share//t", marks=pytest.mark.xfail_mosquitto(reason="accepts an empty share name")),
        "$share/g+/t",
        "$share/g#/t",
    ],
)
def test_v5_invalid_shared_filter_refused(raw, broker, topic_filter):
    client = raw()
    client.connect("shared-invalid")
    client.send(codec.subscribe(1, [(topic_filter, 1)]))
    # A failure code in SUBACK, or a disconnect; not silence.
    assert_subscription_refused(client)
    assert_serves(broker)
