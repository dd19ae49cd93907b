"""05 malformed: invalid bytes on the wire. After every case the broker is alive and serves clients."""

from __future__ import annotations

import random
import socket
import struct
import time

import pytest

from wharf_e2e import codec
from wharf_e2e.checks import assert_serves
from wharf_e2e.raw import RawClient

V311, V5 = codec.MQTT311, codec.MQTT5
MALFORMED, PROTOCOL, TOPIC_INVALID = codec.RC_MALFORMED_PACKET, codec.RC_PROTOCOL_ERROR, codec.RC_TOPIC_NAME_INVALID


def _publish_with_topic(topic: bytes, version: int, qos: int = 0) -> bytes:
    return codec.publish(topic, b"x", qos=qos, packet_id=1, version=version)


def _props_block(raw_props: bytes) -> bytes:
    return codec.varint(len(raw_props)) + raw_props


def _publish_raw_props(raw_props: bytes) -> bytes:
    """A v5 QoS 0 PUBLISH with a hand-made property block."""
    return codec.packet(0x30, codec.utf8("mal/props") + _props_block(raw_props) + b"payload")


# Each case: bytes for a connected client of that version, and the DISCONNECT reason
# codes MQTT 5 allows for it. Mosquitto deviations are listed in MOSQUITTO_NO_DISCONNECT.
AFTER_CONNECT = {
    "remaining-length-5-bytes": (lambda v: b"\x30\xff\xff\xff\xff\x01" + b"\x00" * 8, {MALFORMED}),
    "reserved-type-0": (lambda v: b"\x00\x00", {MALFORMED, PROTOCOL}),
    "subscribe-flags-0": (lambda v: codec.subscribe(1, [("mal/t", 0)], version=v, first_byte=0x80), {MALFORMED}),
    "unsubscribe-flags-0": (lambda v: codec.unsubscribe(1, ["mal/t"], version=v, first_byte=0xA0), {MALFORMED}),
    "pubrel-flags-0": (lambda v: b"\x60\x02\x00\x01", {MALFORMED}),
    "pingreq-flags-1": (lambda v: b"\xc1\x00", {MALFORMED}),
    "publish-qos-3": (lambda v: bytes([0x36]) + _publish_with_topic(b"mal/t", v, qos=1)[1:], {MALFORMED}),
    "publish-wildcard-plus": (lambda v: _publish_with_topic(b"mal/+/t", v), {MALFORMED, PROTOCOL, TOPIC_INVALID}),
    "publish-wildcard-hash": (lambda v: _publish_with_topic(b"mal/#", v), {MALFORMED, PROTOCOL, TOPIC_INVALID}),
    "publish-invalid-utf8": (lambda v: _publish_with_topic(b"mal/\xff\xfe", v), {MALFORMED}),
    "publish-overlong-utf8": (lambda v: _publish_with_topic(b"mal/\xc0\xaf", v), {MALFORMED}),
    "publish-utf16-surrogate": (lambda v: _publish_with_topic(b"mal/\xed\xa0\x80", v), {MALFORMED}),
    "publish-nul-in-topic": (lambda v: _publish_with_topic(b"mal/\x00/t", v), {MALFORMED}),
    "publish-topic-longer-than-packet": (lambda v: b"\x30\x05\x00\x20mal", {MALFORMED}),
    "publish-qos1-packet-id-0": (
        lambda v: codec.publish("mal/t", b"x", qos=1, packet_id=0, version=v),
        {MALFORMED, PROTOCOL},
    ),
    "subscribe-packet-id-0": (lambda v: codec.subscribe(0, [("mal/t", 0)], version=v), {MALFORMED, PROTOCOL}),
    "unsubscribe-packet-id-0": (lambda v: codec.unsubscribe(0, ["mal/t"], version=v), {MALFORMED, PROTOCOL}),
    "subscribe-no-topics": (lambda v: codec.subscribe(1, [], version=v), {MALFORMED, PROTOCOL}),
    "unsubscribe-no-topics": (lambda v: codec.unsubscribe(1, [], version=v), {MALFORMED, PROTOCOL}),
    # 3.1.1 §3.8.3.1 calls QoS 3 malformed; MQTT 5 §3.8.3.1 calls it a Protocol Error.
    "subscribe-qos-3": (lambda v: codec.subscribe(1, [("mal/t", 3)], version=v), {MALFORMED, PROTOCOL}),
    "subscribe-reserved-option-bits": (lambda v: codec.subscribe(1, [("mal/t", 0xC1)], version=v), {MALFORMED}),
    "connect-again-garbage": (lambda v: b"\x10\x03\x00\x01M", {MALFORMED, PROTOCOL}),
}

# MQTT 5 property errors (only meaningful for v5 clients).
V5_ONLY = {
    "property-unknown-id": (lambda v: _publish_raw_props(b"\x7f\x00"), {MALFORMED}),
    "property-duplicate": (lambda v: _publish_raw_props(b"\x01\x00\x01\x01"), {PROTOCOL, MALFORMED}),
    "property-length-beyond-packet": (
        lambda v: codec.packet(0x30, codec.utf8("mal/props") + codec.varint(50) + b"\x01\x00"),
        {MALFORMED},
    ),
    "property-not-allowed-in-publish": (
        lambda v: _publish_raw_props(bytes([codec.SESSION_EXPIRY_INTERVAL]) + b"\x00\x00\x00\x05"),
        {MALFORMED, PROTOCOL},
    ),
    "user-property-invalid-utf8": (
        lambda v: _publish_raw_props(b"\x26" + codec.utf8(b"k\xff") + codec.utf8(b"v")),
        {MALFORMED},
    ),
    "disconnect-unknown-property": (lambda v: codec.packet(0xE0, b"\x00\x02\x7f\x00"), {MALFORMED}),
    "auth-without-method": (lambda v: codec.packet(0xF0, b"\x18\x00"), {PROTOCOL, MALFORMED}),
}

# Cases where Mosquitto 2.0.11 closes an MQTT 5 connection without the DISCONNECT (or with another code).
MOSQUITTO_NO_DISCONNECT = {
    "remaining-length-5-bytes",
    "pubrel-flags-0",
    "connect-again-garbage",
    "property-duplicate",
    "user-property-invalid-utf8",
    "disconnect-unknown-property",
    "auth-without-method",
}
# Cases Mosquitto 2.0.11 accepts although the spec calls them malformed.
MOSQUITTO_ACCEPTS = {"pingreq-flags-1": "answers a PINGREQ with reserved flag bits set instead of closing"}


def _marks(name: str, version: int) -> list[pytest.MarkDecorator]:
    if name in MOSQUITTO_ACCEPTS:
        return [pytest.mark.xfail_mosquitto(reason=MOSQUITTO_ACCEPTS[name])]
    if version == V5 and name in MOSQUITTO_NO_DISCONNECT:
        return [pytest.mark.xfail_mosquitto(reason="closes the connection without DISCONNECT and its reason code")]
    return []


CASES = [pytest.param(V311, name, id=f"v311-{name}", marks=_marks(name, V311)) for name in AFTER_CONNECT] + [
    pytest.param(V5, name, id=f"v5-{name}", marks=_marks(name, V5)) for name in (*AFTER_CONNECT, *V5_ONLY)
]


@pytest.mark.parametrize("version,case", CASES)
def test_malformed_packet_after_connect(raw, broker, version, case):
    build, reasons = {**AFTER_CONNECT, **V5_ONLY}[case]
    client = raw(version=version)
    client.connect(f"mal-{case}")
    client.send_quietly(build(version))
    packets = client.wait_closed()
    if version == V311:
        assert packets == [], f"3.1.1 has no packet to answer a malformed one with: {packets}"
    else:
        # The server SHOULD send DISCONNECT with the reason code before closing (MQTT 5, 4.13).
        assert [p.type for p in packets] == [codec.DISCONNECT], packets
        assert packets[0].reason in reasons, f"{packets[0]!r}, expected one of {[hex(r) for r in sorted(reasons)]}"
    assert_serves(broker)


def test_will_published_when_broker_closes_for_malformed_packet(raw, mqtt):
    watcher = mqtt()
    watcher.subscribe("mal/will", 1)
    client = raw()
    client.connect("mal-will", will=codec.Will("mal/will", b"protocol error", qos=1))
    client.send_quietly(b"\x36\x00")
    client.wait_closed()
    [will] = watcher.messages.wait(1)
    assert will.payload == b"protocol error"


# --------------------------------------------------------------------------- #
# Before CONNECT
# --------------------------------------------------------------------------- #


def _connect_with_flags(flags: int, version: int = V311, tail: bytes = b"") -> bytes:
    body = codec.utf8("MQTT") + bytes([version, flags]) + codec.u16(60)
    if version == V5:
        body += b"\x00"
    return codec.packet(0x10, body + codec.utf8("flags") + tail)


BEFORE_CONNECT = {
    "garbage": b"\x00\x01\x02\x03garbage",
    "http-request": b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "tls-client-hello": bytes.fromhex("160301020001000200") + b"\x03\x03" + b"\x00" * 40,
    "connect-remaining-length-5-bytes": b"\x10\xff\xff\xff\xff\x01",
    "connect-huge-remaining-length": b"\x10\xff\xff\xff\x7f" + codec.utf8("MQTT") + b"\x04\x02\x00\x3c",
    "connect-flags-in-fixed-header": codec.connect("x", version=V311, first_byte=0x11),
    "connect-will-qos-3": _connect_with_flags(0x1E, tail=codec.utf8("w") + codec.utf8(b"p")),
    "connect-will-qos-without-will-flag": _connect_with_flags(0x0A),
    "connect-will-retain-without-will-flag": _connect_with_flags(0x22),
    "connect-password-without-username-v311": _connect_with_flags(0x42, tail=codec.utf8(b"pw")),
    "connect-client-id-invalid-utf8": codec.connect(b"id\xff", version=V311),
    "connect-truncated-fields": codec.packet(0x10, codec.utf8("MQTT") + b"\x04"),
    "connect-v5-unknown-property": codec.packet(
        0x10, codec.utf8("MQTT") + b"\x05\x02\x00\x3c" + _props_block(b"\x7f\x00") + codec.utf8("p")
    ),
    "connect-v5-receive-maximum-0": codec.connect("rm0", properties=[(codec.RECEIVE_MAXIMUM, 0)]),
    "connect-v5-maximum-packet-size-0": codec.connect("mps0", properties=[(codec.MAXIMUM_PACKET_SIZE, 0)]),
}


@pytest.mark.parametrize("data", BEFORE_CONNECT.values(), ids=BEFORE_CONNECT.keys())
def test_malformed_before_connect_closed(raw, broker, data):
    client = raw(version=V5 if b"MQTT\x05" in data else V311)
    client.send_quietly(data)
    packets = client.wait_closed()
    # A CONNACK refusing the connection may precede the close; never an acceptance.
    assert all(p.type == codec.CONNACK and p.reason != 0 for p in packets), packets
    assert len(packets) <= 1, packets
    assert_serves(broker)


# --------------------------------------------------------------------------- #
# Truncation, huge announcements, slow and abrupt clients
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("version", [V311, V5], ids=["v311", "v5"])
def test_truncated_packet_then_close(raw, broker, mqtt, version):
    watcher = mqtt()
    watcher.subscribe("mal/truncated/#", 1)
    client = raw(version=version)
    client.connect("truncated", will=codec.Will("mal/truncated/will", b"cut off", qos=1))
    frame = codec.publish("mal/truncated/data", b"x" * 100, qos=1, packet_id=9, version=version)
    client.send(frame[: len(frame) // 2])
    time.sleep(0.2)
    client.close()
    [will] = watcher.messages.wait(1)
    assert (will.topic, will.payload) == ("mal/truncated/will", b"cut off"), "the half packet is never delivered"
    assert_serves(broker)


@pytest.mark.parametrize("version", [V311, V5], ids=["v311", "v5"])
def test_huge_remaining_length_closed_without_waiting_for_body(raw, broker, version):
    client = raw(version=version)
    client.connect("huge")
    client.send(b"\x30\xff\xff\xff\x7f" + codec.utf8("mal/huge") + b"x" * 16)
    packets = client.wait_closed(timeout=10)
    if version == V5:
        assert [(p.type, p.reason) for p in packets] == [(codec.DISCONNECT, codec.RC_PACKET_TOO_LARGE)], packets
    else:
        assert packets == []
    assert_serves(broker)


@pytest.mark.wharf_only(reason="Mosquitto waits 1.5 x its 60 s default keepalive before closing a half CONNECT")
def test_slowloris_half_connect_closed(raw, broker):
    client = raw(version=V311)
    frame = codec.connect("slowloris", version=V311)
    client.send(frame[: len(frame) // 2])
    assert client.wait_closed(timeout=20) == []
    assert_serves(broker)


def test_idle_tcp_connection_does_not_block_others(raw, broker):
    idle = [raw() for _ in range(5)]
    assert_serves(broker)
    for client in idle:
        client.close()


def test_many_connections_dropped_abruptly(broker):
    rng = random.Random(200)
    connect = codec.connect("", version=V311)
    for index in range(200):
        sock = socket.create_connection(broker.address, timeout=5)
        kind = index % 5
        if kind == 1:
            sock.sendall(connect[: rng.randrange(1, len(connect))])
        elif kind == 2:
            sock.sendall(connect)
        elif kind == 3:
            sock.sendall(connect + codec.subscribe(1, [("mal/abrupt/#", 1)], version=V311))
            sock.sendall(codec.publish("mal/abrupt/x", b"y" * rng.randrange(0, 2000), qos=1, version=V311))
        elif kind == 4:
            sock.sendall(bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 64))))
        # RST instead of FIN: the broker sees a reset, possibly with unread data.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    assert_serves(broker)


def test_connections_dropped_mid_qos2_flow(broker, mqtt):
    for index in range(20):
        client = RawClient(broker.host, broker.port)
        client.connect(f"mid-flow-{index}")
        client.send(codec.publish("mal/midflow", b"x", qos=2, packet_id=1))
        client.expect(codec.PUBREC)
        client.abort()
    assert_serves(broker)
