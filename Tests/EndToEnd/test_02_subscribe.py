"""02 subscribe: wildcards, the $-topic rule, overlapping subscriptions, SUBACK and UNSUBACK."""

from __future__ import annotations

import pytest

from wharf_e2e import codec
from wharf_e2e.checks import assert_serves, assert_subscription_refused, messages_before_marker
from wharf_e2e.cli import mosquitto_pub, start_mosquitto_sub

VERSIONS = [pytest.param(codec.MQTT311, id="v311"), pytest.param(codec.MQTT5, id="v5")]

TOPICS = ["a", "a/", "a/b", "a/b/c", "a/b/c/d", "a//c", "/a", "b/a", "ab", "a/c", "b/b/c", "a/x/c"]
MATCHES = {
    "a/+/c": {"a/b/c", "a//c", "a/x/c"},
    "a/#": {"a", "a/", "a/b", "a/b/c", "a/b/c/d", "a//c", "a/c", "a/x/c"},
    "+": {"a", "ab"},
    "+/+": {"a/", "a/b", "/a", "b/a", "a/c"},
    "/+": {"/a"},
    "a/+/#": {"a/", "a/b", "a/b/c", "a/b/c/d", "a//c", "a/c", "a/x/c"},
    "#": set(TOPICS),
    "+/b/#": {"a/b", "a/b/c", "a/b/c/d", "b/b/c"},
    "a/b": {"a/b"},
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("topic_filter", MATCHES.keys())
def test_wildcard_matching(mqtt, version, topic_filter):
    prefix = "wild"
    subscriber = mqtt(version=version)
    granted = subscriber.subscribe([(f"{prefix}/{topic_filter}", 1), ("marker/wild", 1)])
    assert granted == [1, 1]
    publisher = mqtt(version=version)
    for topic in TOPICS:
        publisher.publish(f"{prefix}/{topic}", topic.encode(), 1)
    got = messages_before_marker(subscriber, publisher, "marker/wild")
    assert sorted(m.topic for m in got) == sorted(f"{prefix}/{t}" for t in MATCHES[topic_filter])


def test_wildcards_with_mosquitto_sub(broker, mqtt):
    sub = start_mosquitto_sub(broker.host, broker.port, ["cli/+/temp", "cli/hall/#"], qos=1)
    try:
        for topic in ("cli/kitchen/temp", "cli/kitchen/hum", "cli/hall", "cli/hall/door/open"):
            mosquitto_pub(broker.host, broker.port, topic, topic, qos=1)
        mosquitto_pub(broker.host, broker.port, "cli/marker/temp", "end", qos=1)
        got = sub.messages.wait_for(lambda items: any(m.payload == b"end" for m in items))
        assert [m.topic for m in got] == ["cli/kitchen/temp", "cli/hall", "cli/hall/door/open", "cli/marker/temp"]
    finally:
        sub.stop()


# --------------------------------------------------------------------------- #
# $-topics
# --------------------------------------------------------------------------- #


@pytest.mark.broker_config(sys_interval=1)
@pytest.mark.parametrize("topic_filter", ["#", "+/broker/#", "+/#", "+/+/+"])
def test_wildcard_at_first_level_does_not_match_dollar_topics(mqtt, topic_filter):
    sys_watcher = mqtt()
    sys_watcher.subscribe("$SYS/#")
    sys_watcher.messages.wait(1, timeout=10)
    wildcard = mqtt()
    wildcard.subscribe([(topic_filter, 0), ("marker/dollar", 1)])
    # Let at least one further $SYS period pass after the wildcard subscription.
    count = len(sys_watcher.messages.snapshot())
    sys_watcher.messages.wait_for(lambda got: len(got) > count, timeout=10)
    got = messages_before_marker(wildcard, wildcard, "marker/dollar", settle=1.2)
    assert [m.topic for m in got if m.topic.startswith("$")] == []


@pytest.mark.broker_config(sys_interval=1)
def test_dollar_sys_filter_receives_sys_topics(mqtt):
    watcher = mqtt(version=codec.MQTT311)
    watcher.subscribe("$SYS/broker/#")
    got = watcher.messages.wait(1, timeout=10)
    assert all(m.topic.startswith("$SYS/broker/") for m in got)


# --------------------------------------------------------------------------- #
# Overlapping subscriptions
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "version",
    [
        pytest.param(
            codec.MQTT311,
            id="v311",
            marks=pytest.mark.xfail_mosquitto(reason="sends a 3.1.1 client one copy at the QoS of one subscription"),
        ),
        pytest.param(codec.MQTT5, id="v5"),
    ],
)
def test_overlapping_subscriptions_deliver_with_maximum_qos(mqtt, version):
    # [MQTT-3.3.5-1]: respecting the maximum QoS of all the matching subscriptions.
    subscriber = mqtt(version=version)
    assert subscriber.subscribe([("ov/#", 0), ("ov/+/x", 2), ("ov/a/+", 1)]) == [0, 2, 1]
    publisher = mqtt(version=version)
    publisher.publish("ov/a/x", b"overlap", 2)
    # One copy per matching subscription or a single copy; either way one at the maximum QoS.
    subscriber.messages.wait_for(lambda got: any(m.qos == 2 for m in got))
    got = [m for m in messages_before_marker(subscriber, publisher, "ov/marker", settle=0.5)]
    assert 1 <= len(got) <= 3, got
    assert all(m.payload == b"overlap" for m in got)


def test_v5_overlapping_subscriptions_carry_all_subscription_identifiers(raw, mqtt):
    subscriber = raw()
    subscriber.connect("overlap-ids")
    subscriber.subscribe("ovid/#", 0, properties=[(codec.SUBSCRIPTION_IDENTIFIER, 1)])
    subscriber.subscribe("ovid/+/x", 1, properties=[(codec.SUBSCRIPTION_IDENTIFIER, 2)])
    subscriber.subscribe("ovid/a/x", 0)  # no identifier
    mqtt().publish("ovid/a/x", b"ids", 1)
    got = [p for p in subscriber.drain(1.5) if p.type == codec.PUBLISH]
    assert got, "nothing delivered"
    if len(got) == 1:
        # A single copy carries the identifiers of every matching subscription [MQTT-3.3.4-4].
        assert sorted(got[0].props(codec.SUBSCRIPTION_IDENTIFIER)) == [1, 2]
        assert got[0].qos == 1
    else:
        # One copy per subscription, each with that subscription's identifier (if it has one).
        assert all(len(p.props(codec.SUBSCRIPTION_IDENTIFIER)) <= 1 for p in got), got
        assert {i for p in got for i in p.props(codec.SUBSCRIPTION_IDENTIFIER)} == {1, 2}, got


# --------------------------------------------------------------------------- #
# SUBACK and UNSUBACK
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("version", VERSIONS)
def test_suback_grants_requested_qos(raw, version):
    client = raw(version=version)
    client.connect("granted")
    suback = client.subscribe([("g/zero", 0), ("g/one", 1), ("g/two", 2)])
    assert suback.reasons == [0, 1, 2]


@pytest.mark.parametrize("version", VERSIONS)
def test_paho_suback_grants_requested_qos(mqtt, version):
    client = mqtt(version=version)
    assert client.subscribe([("pg/0", 0), ("pg/1", 1), ("pg/2", 2)]) == [0, 1, 2]


INVALID_FILTERS = ["a/#/b", "a#", "a/b#", "a+/b", "+a", "a/+b", "#/", "", "a/\u0000"]


@pytest.mark.parametrize("topic_filter", INVALID_FILTERS)
@pytest.mark.parametrize("version", VERSIONS)
def test_invalid_filter_refused_and_broker_survives(raw, broker, version, topic_filter):
    client = raw(version=version)
    client.connect("invalid-filter")
    client.send(codec.subscribe(1, [(topic_filter, 0)], version=version))
    # Either a failure code in SUBACK or, as a protocol violation, a closed connection; not silence.
    assert_subscription_refused(client)
    assert_serves(broker)


@pytest.mark.wharf_only(reason="Mosquitto disconnects on an invalid filter; Wharf answers with a SUBACK failure code")
@pytest.mark.parametrize(
    "version,failure",
    [pytest.param(codec.MQTT311, codec.V3_SUBACK_FAILURE, id="v311"), pytest.param(codec.MQTT5, 0x8F, id="v5")],
)
def test_invalid_filter_gets_suback_failure_and_valid_one_works(raw, mqtt, version, failure):
    client = raw(version=version)
    client.connect("invalid-with-valid")
    suback = client.subscribe([("ok/topic", 1), ("bad/#/filter", 1), ("bad+", 0)])
    assert suback.reasons == [1, failure, failure]
    mqtt().publish("ok/topic", b"still subscribed", 1)
    message = client.expect(codec.PUBLISH)
    assert message.payload == b"still subscribed"


def test_v5_unsuback_reason_codes(raw, mqtt):
    client = raw()
    client.connect("unsub-v5")
    client.subscribe([("u/one", 1), ("u/two", 1)])
    unsuback = client.unsubscribe(["u/one", "u/never"])
    assert unsuback.reasons == [codec.RC_SUCCESS, codec.RC_NO_SUBSCRIPTION_EXISTED]
    publisher = mqtt()
    publisher.publish("u/one", b"gone", 1)
    publisher.publish("u/two", b"kept", 1)
    message = client.expect(codec.PUBLISH)
    assert (message.topic, message.payload) == ("u/two", b"kept")
    client.ack(message)
    client.expect_nothing(0.5)


def test_v311_unsuback_is_exact(raw, mqtt):
    client = raw(version=codec.MQTT311)
    client.connect("unsub-v311")
    client.subscribe("u3/topic", 1)
    client.send(codec.unsubscribe(0x1234, ["u3/topic", "u3/never"], version=codec.MQTT311))
    assert client.expect(codec.UNSUBACK).raw == b"\xb0\x02\x12\x34"
    mqtt().publish("u3/topic", b"after unsubscribe", 1)
    client.expect_nothing(0.5)


@pytest.mark.parametrize("version", VERSIONS)
def test_paho_unsubscribe_stops_delivery(mqtt, version):
    client = mqtt(version=version)
    client.subscribe([("pu/a", 1), ("pu/marker", 1)])
    client.unsubscribe("pu/a")
    publisher = mqtt(version=version)
    publisher.publish("pu/a", b"x", 1)
    assert messages_before_marker(client, publisher, "pu/marker") == []


def test_resubscribe_replaces_subscription_qos(raw, mqtt):
    client = raw()
    client.connect("resubscribe")
    assert client.subscribe("rs/t", 2).reasons == [2]
    assert client.subscribe("rs/t", 0).reasons == [0]
    mqtt().publish("rs/t", b"once", 2)
    message = client.expect(codec.PUBLISH)
    assert message.qos == 0
    client.expect_nothing(0.5)
