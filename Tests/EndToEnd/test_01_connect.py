"""01 connect: CONNECT/CONNACK, client identifiers, keepalive and CONNECT-level protocol errors."""

from __future__ import annotations

import time

import pytest

from wharf_e2e import codec
from wharf_e2e.checks import assert_serves
from wharf_e2e.cli import mosquitto_pub, start_mosquitto_sub

VERSIONS = [pytest.param(codec.MQTT311, id="v311"), pytest.param(codec.MQTT5, id="v5")]


# --------------------------------------------------------------------------- #
# Plain connects
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("version", VERSIONS)
def test_paho_client_connects(mqtt, version):
    client = mqtt(version=version)
    assert client.connack.reason_code == 0
    assert client.connack.session_present is False
    client.disconnect()


def test_raw_v311_connack_is_exact(raw):
    client = raw(version=codec.MQTT311)
    client.send(codec.connect("raw-v311", version=codec.MQTT311))
    connack = client.expect(codec.CONNACK)
    assert connack.raw == b"\x20\x02\x00\x00"
    client.ping()


def test_raw_v5_connack_accepts(raw):
    client = raw()
    connack = client.connect("raw-v5")
    assert connack.session_present is False
    assert connack.flags == 0
    client.ping()


@pytest.mark.parametrize("version", VERSIONS)
def test_mosquitto_clients_connect(broker, version):
    sub = start_mosquitto_sub(broker.host, broker.port, ["connect/cli"], version=version, qos=1)
    try:
        mosquitto_pub(broker.host, broker.port, "connect/cli", "via mosquitto_pub", qos=1, version=version)
        [message] = sub.wait(1)
        assert message.payload == b"via mosquitto_pub"
    finally:
        sub.stop()


def test_username_and_password_accepted_with_anonymous_allowed(raw):
    client = raw()
    client.connect("with-credentials", username="alice", password=b"secret")
    client.ping()


# --------------------------------------------------------------------------- #
# CONNACK properties (MQTT 5)
# --------------------------------------------------------------------------- #

# Absent CONNACK properties mean the spec's default value.
SPEC_DEFAULTS = {
    codec.RECEIVE_MAXIMUM: 65535,
    codec.MAXIMUM_PACKET_SIZE: None,  # no limit
    codec.TOPIC_ALIAS_MAXIMUM: 0,
    codec.RETAIN_AVAILABLE: 1,
    codec.MAXIMUM_QOS: 2,
    codec.WILDCARD_SUBSCRIPTION_AVAILABLE: 1,
    codec.SUBSCRIPTION_IDENTIFIER_AVAILABLE: 1,
    codec.SHARED_SUBSCRIPTION_AVAILABLE: 1,
}


def _effective(connack, ident):
    values = connack.props(ident)
    assert len(values) <= 1, f"property 0x{ident:02x} sent twice: {connack!r}"
    return values[0] if values else SPEC_DEFAULTS[ident]


def test_v5_connack_properties_reflect_defaults(raw):
    connack = raw().connect("props-default")
    assert _effective(connack, codec.RECEIVE_MAXIMUM) == 20
    assert _effective(connack, codec.MAXIMUM_PACKET_SIZE) == 1048576
    assert _effective(connack, codec.TOPIC_ALIAS_MAXIMUM) == 10
    assert _effective(connack, codec.RETAIN_AVAILABLE) == 1
    assert _effective(connack, codec.MAXIMUM_QOS) == 2
    assert _effective(connack, codec.WILDCARD_SUBSCRIPTION_AVAILABLE) == 1
    assert _effective(connack, codec.SUBSCRIPTION_IDENTIFIER_AVAILABLE) == 1
    assert _effective(connack, codec.SHARED_SUBSCRIPTION_AVAILABLE) == 1
    assert connack.prop(codec.ASSIGNED_CLIENT_IDENTIFIER) is None, "only for an empty client id"


@pytest.mark.broker_config(max_inflight_messages=7, max_packet_size=5000, max_topic_alias=5, retain_available=False)
def test_v5_connack_properties_reflect_configuration(raw):
    connack = raw().connect("props-configured")
    assert _effective(connack, codec.RECEIVE_MAXIMUM) == 7
    assert _effective(connack, codec.MAXIMUM_PACKET_SIZE) == 5000
    assert _effective(connack, codec.TOPIC_ALIAS_MAXIMUM) == 5
    assert _effective(connack, codec.RETAIN_AVAILABLE) == 0


@pytest.mark.broker_config(max_topic_alias=0)
def test_v5_connack_topic_alias_maximum_zero_when_disabled(raw):
    connack = raw().connect("props-no-alias")
    assert _effective(connack, codec.TOPIC_ALIAS_MAXIMUM) == 0


def test_v311_connack_has_no_properties(raw):
    client = raw(version=codec.MQTT311)
    assert client.connect("props-v311").raw == b"\x20\x02\x00\x00"


@pytest.mark.broker_config(max_keepalive=10)
def test_v5_keepalive_above_maximum_gets_server_keep_alive(raw):
    connack = raw().connect("keepalive-capped", keepalive=100)
    assert connack.prop(codec.SERVER_KEEP_ALIVE) == 10


@pytest.mark.broker_config(max_keepalive=10)
def test_v5_keepalive_zero_capped_when_maximum_set(raw):
    connack = raw().connect("keepalive-zero", keepalive=0)
    assert connack.prop(codec.SERVER_KEEP_ALIVE) == 10


@pytest.mark.broker_config(max_keepalive=10)
def test_v5_keepalive_within_maximum_not_overridden(raw):
    connack = raw().connect("keepalive-ok", keepalive=5)
    assert connack.prop(codec.SERVER_KEEP_ALIVE) in (None, 5)


# --------------------------------------------------------------------------- #
# Client identifiers
# --------------------------------------------------------------------------- #


def test_v5_empty_client_id_gets_assigned_identifier(raw):
    first, second = raw(), raw()
    assigned = []
    for client in (first, second):
        connack = client.connect("")
        identifier = connack.prop(codec.ASSIGNED_CLIENT_IDENTIFIER)
        assert isinstance(identifier, str) and identifier, f"no Assigned Client Identifier in {connack!r}"
        assigned.append(identifier)
    assert assigned[0] != assigned[1]
    first.ping()
    second.ping()


def test_v311_empty_client_id_with_clean_session_accepted(raw):
    client = raw(version=codec.MQTT311)
    connack = client.connect("", clean=True)
    assert connack.raw == b"\x20\x02\x00\x00"
    client.ping()


def test_v311_empty_client_id_without_clean_session_rejected(raw):
    client = raw(version=codec.MQTT311)
    connack = client.connect("", clean=False, expect_reason=None)
    assert connack.raw == b"\x20\x02\x00\x02", "identifier rejected (return code 2) with session present 0"
    client.wait_closed()


# --------------------------------------------------------------------------- #
# Keepalive
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("version", VERSIONS)
def test_silent_client_disconnected_after_keepalive(raw, broker, version):
    client = raw(version=version)
    client.connect("silent", keepalive=1)
    started = time.monotonic()
    packets = client.wait_closed(timeout=10)
    # Never before the keepalive itself has elapsed (the spec allows 1.5 x keepalive).
    assert time.monotonic() - started >= 1.0
    for pkt in packets:
        assert pkt.type == codec.DISCONNECT and pkt.reason == codec.RC_KEEP_ALIVE_TIMEOUT, packets
    assert_serves(broker)


@pytest.mark.parametrize("version", VERSIONS)
def test_pinging_client_stays_connected(raw, version):
    client = raw(version=version)
    client.connect("pinger", keepalive=1)
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        time.sleep(0.4)
        client.ping()
    assert not client.closed


def test_will_published_after_keepalive_timeout(raw, mqtt):
    watcher = mqtt()
    watcher.subscribe("connect/keepalive-will", 1)
    client = raw()
    client.connect("keepalive-will", keepalive=1, will=codec.Will("connect/keepalive-will", b"timed out", qos=1))
    client.wait_closed(timeout=10)
    [will] = watcher.messages.wait(1)
    assert will.payload == b"timed out"


# --------------------------------------------------------------------------- #
# CONNECT-level protocol errors
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("level", [0, 2, 6, 7, 255])
@pytest.mark.parametrize("shape", VERSIONS)
def test_unsupported_protocol_level_refused_then_closed(raw, broker, shape, level):
    # `shape`: the rest of the CONNECT is laid out as 3.1.1 or as 5.0 (with a property block).
    client = raw(version=codec.MQTT311)
    client.send(codec.connect("bad-level", version=shape, protocol_level=level))
    packets = client.wait_closed()
    # 3.1.1: return code 1 (unacceptable protocol level); 5.0: 0x84 (unsupported protocol version).
    assert [p.type for p in packets] == [codec.CONNACK], packets
    assert packets[0].reason in (codec.V3_UNACCEPTABLE_PROTOCOL_VERSION, codec.RC_UNSUPPORTED_PROTOCOL_VERSION)
    assert_serves(broker)


@pytest.mark.parametrize("name", [b"MQTX", b"mqtt", b"", b"MQTT\x00"])
@pytest.mark.parametrize("version", VERSIONS)
def test_bad_protocol_name_closed_without_acceptance(raw, broker, name, version):
    client = raw(version=version)
    client.send(codec.connect("bad-name", version=version, protocol_name=name))
    packets = client.wait_closed()
    # The spec lets the server close at once or refuse with a CONNACK first; never accept.
    for pkt in packets:
        assert pkt.type == codec.CONNACK and pkt.reason != 0, packets
    assert_serves(broker)


@pytest.mark.parametrize("version", VERSIONS)
def test_second_connect_closes_connection(raw, broker, version):
    client = raw(version=version)
    client.connect("twice")
    client.send_quietly(codec.connect("twice", version=version))
    packets = client.wait_closed()
    assert all(p.type == codec.DISCONNECT for p in packets), packets
    assert_serves(broker)


@pytest.mark.xfail_mosquitto(reason="closes the connection without sending DISCONNECT 0x82")
def test_v5_second_connect_gets_disconnect_protocol_error(raw):
    client = raw()
    client.connect("twice-v5")
    client.send_quietly(codec.connect("twice-v5"))
    packets = client.wait_closed()
    assert [(p.type, p.reason) for p in packets] == [(codec.DISCONNECT, codec.RC_PROTOCOL_ERROR)], packets


FIRST_PACKETS = {
    "pingreq": codec.pingreq(),
    "publish": codec.publish("first/not/connect", b"x", version=codec.MQTT311),
    "subscribe": codec.subscribe(1, [("first/#", 0)], version=codec.MQTT311),
    "disconnect": codec.disconnect(version=codec.MQTT311),
}


@pytest.mark.parametrize("first", FIRST_PACKETS.values(), ids=FIRST_PACKETS.keys())
def test_first_packet_not_connect_closes(raw, broker, first):
    client = raw(version=codec.MQTT311)
    client.send_quietly(first)
    packets = client.wait_closed()
    assert packets == [], f"nothing may be answered before CONNECT: {packets}"
    assert_serves(broker)


def test_connect_reserved_flag_set_closes(raw, broker):
    client = raw(version=codec.MQTT311)
    client.send(codec.connect("reserved", version=codec.MQTT311, reserved_flag=True))
    packets = client.wait_closed()
    for pkt in packets:
        assert pkt.type == codec.CONNACK and pkt.reason != 0, packets
    assert_serves(broker)
