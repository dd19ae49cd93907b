"""06 limits: topic levels in PUBLISH topic names, will topics and SUBSCRIBE filters.

wharfd refuses names and filters with more than `broker.max_topic_levels` levels (default 200):
a PUBLISH at QoS 1/2 from an MQTT 5 client gets PUBACK/PUBREC 0x90 (Topic Name invalid) and the
client stays connected; a QoS 0 PUBLISH gets DISCONNECT 0x90, an MQTT 3.1.1 publisher is
disconnected (it has no way to hear a refusal); a will gets CONNACK 0x90 (MQTT 5) or a close
(3.1.1); a filter gets its SUBACK failure code (0x8F / 0x80). Mosquitto 2.0.11 allows 200 '/'
(201 levels) and disconnects in every case (DISCONNECT 0x82 after PUBLISH, 0x81 after SUBSCRIBE,
a close without CONNACK for a will). The shared tests use 150 and 250 levels, on either side of
both limits, and accept either answer; the exact Wharf answers are `wharf_only`.
"""

from __future__ import annotations

import pytest

from wharf_e2e import codec
from wharf_e2e.checks import assert_serves
from wharf_e2e.raw import Closed

VERSIONS = [pytest.param(codec.MQTT311, id="v311"), pytest.param(codec.MQTT5, id="v5")]
DEEP = "/".join(["deep"] * 250)
FINE = "/".join(["fine"] * 150)


def _watcher(raw):
    watcher = raw()
    watcher.connect("levels-watcher")
    watcher.subscribe("#", 1)
    return watcher


def _assert_nothing_routed(raw, watcher):
    """Nothing reached `watcher` before a marker published now."""
    marker = raw()
    marker.connect("levels-marker")
    marker.publish("levels/marker", b"marker", qos=1)
    message = watcher.expect(codec.PUBLISH)
    assert (message.topic, message.payload) == ("levels/marker", b"marker"), message


@pytest.mark.parametrize("version", VERSIONS)
def test_topic_with_levels_within_the_limit_flows(raw, version):
    subscriber = raw(version=version)
    subscriber.connect("levels-fine-sub")
    assert subscriber.subscribe(FINE, 1).reasons == [1]
    publisher = raw(version=version)
    publisher.connect("levels-fine-pub")
    publisher.publish(FINE, b"fine", qos=1)
    message = subscriber.expect(codec.PUBLISH)
    assert (message.topic, message.payload) == (FINE, b"fine")


@pytest.mark.parametrize("qos", [0, 1, 2])
@pytest.mark.parametrize("version", VERSIONS)
def test_publish_to_too_many_levels_is_refused(raw, broker, version, qos):
    watcher = _watcher(raw)
    client = raw(version=version)
    client.connect("levels-deep-pub")
    client.send(codec.publish(DEEP, b"deep", qos=qos, packet_id=1 if qos else None, version=version))
    packets = client.drain(1.0)
    if not client.closed:
        # MQTT 5 QoS 1/2 may be refused by its acknowledgement alone.
        assert version == codec.MQTT5 and qos > 0, packets
        assert [(p.type, p.reason) for p in packets] == [(codec.PUBACK if qos == 1 else codec.PUBREC, 0x90)]
    else:
        for pkt in packets:
            assert pkt.type == codec.DISCONNECT and pkt.reason in (codec.RC_PROTOCOL_ERROR, 0x90), packets
    _assert_nothing_routed(raw, watcher)
    assert_serves(broker)


@pytest.mark.parametrize("version", VERSIONS)
def test_subscribe_to_too_many_levels_is_refused(raw, broker, version):
    client = raw(version=version)
    client.connect("levels-deep-sub")
    client.send(codec.subscribe(1, [(DEEP, 1), ("levels/ok", 1)], version=version))
    try:
        answer = client.recv()
    except Closed:
        answer = None
    if answer is not None and answer.type == codec.SUBACK:
        assert answer.reasons[0] >= 0x80 and answer.reasons[1] == 1, answer
    else:
        # Mosquitto: DISCONNECT 0x81 (MQTT 5) or a plain close (3.1.1).
        assert answer is None or (answer.type, answer.reason) == (codec.DISCONNECT, codec.RC_MALFORMED_PACKET), answer
        client.wait_closed()
    assert_serves(broker)


@pytest.mark.parametrize("version", VERSIONS)
def test_will_on_too_many_levels_is_refused(raw, broker, version):
    client = raw(version=version)
    client.send(codec.connect("levels-deep-will", version=version, will=codec.Will(DEEP, b"gone")))
    packets = client.wait_closed()
    if version == codec.MQTT311:
        assert packets == [], packets
    for pkt in packets:
        assert (pkt.type, pkt.reason) == (codec.CONNACK, 0x90), packets
    assert_serves(broker)


# --------------------------------------------------------------------------- #
# Wharf's exact answers, at a configured limit
# --------------------------------------------------------------------------- #

LIMITED = pytest.mark.broker_config(wharf_broker_extra=("max_topic_levels: 5",))


@pytest.mark.wharf_only(reason="max_topic_levels is a Wharf option")
@LIMITED
def test_v5_publish_over_the_limit_is_refused_by_its_acknowledgement(raw):
    watcher = _watcher(raw)
    client = raw()
    client.connect("levels-five")
    assert client.publish("a/b/c/d/e", b"five", qos=1).reason == codec.RC_SUCCESS
    assert client.publish("a/b/c/d/e/f", b"six", qos=1).reason == 0x90
    client.send(codec.publish("a/b/c/d/e/f", b"six", qos=2, packet_id=9))
    pubrec = client.expect(codec.PUBREC)
    assert (pubrec.packet_id, pubrec.reason) == (9, 0x90)
    client.ping()
    message = watcher.expect(codec.PUBLISH)
    assert (message.topic, message.payload) == ("a/b/c/d/e", b"five")
    _assert_nothing_routed(raw, watcher)


@pytest.mark.wharf_only(reason="max_topic_levels is a Wharf option")
@LIMITED
def test_v5_qos0_publish_over_the_limit_is_told_topic_name_invalid(raw):
    client = raw()
    client.connect("levels-five-qos0")
    client.send(codec.publish("a/b/c/d/e/f", b"six"))
    assert [(p.type, p.reason) for p in client.wait_closed()] == [(codec.DISCONNECT, 0x90)]


@pytest.mark.wharf_only(reason="max_topic_levels is a Wharf option")
@LIMITED
@pytest.mark.parametrize(
    "version,failure",
    [pytest.param(codec.MQTT311, codec.V3_SUBACK_FAILURE, id="v311"), pytest.param(codec.MQTT5, 0x8F, id="v5")],
)
def test_filters_over_the_limit_get_a_failure_code(raw, version, failure):
    client = raw(version=version)
    client.connect("levels-five-sub")
    suback = client.subscribe(
        [("a/b/c/d/#", 1), ("a/b/c/d/e/#", 1), ("+/+/+/+/+", 0), ("+/+/+/+/+/+", 0), ("$share/g/a/b/c/d/e", 1)]
    )
    assert suback.reasons == [1, failure, 0, failure, 1]


@pytest.mark.wharf_only(reason="max_topic_levels is a Wharf option")
@LIMITED
@pytest.mark.parametrize("version", VERSIONS)
def test_will_over_the_limit_refuses_the_connection(raw, version):
    client = raw(version=version)
    client.send(codec.connect("levels-five-will", version=version, will=codec.Will("a/b/c/d/e/f", b"gone")))
    expected = [] if version == codec.MQTT311 else [(codec.CONNACK, 0x90)]
    assert [(p.type, p.reason) for p in client.wait_closed()] == expected
    fine = raw(version=version)
    fine.connect("levels-five-will", will=codec.Will("a/b/c/d/e", b"gone"))
