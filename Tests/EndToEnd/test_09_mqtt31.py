"""09 MQTT 3.1: protocol name "MQIsdp", level 3, as older PLC firmware and embedded clients speak it.

mosquitto_pub/mosquitto_sub (-V mqttv31), paho-mqtt (MQTTv31) and raw packets: CONNECT accepted with
a 3.1 CONNACK (no session present flag), the 1 to 23 character client identifier, wrong levels
refused with return code 1, DUP on a resent PUBREL, refused subscriptions (3.1 has no failure code),
and a persistent 3.1 session whose queued QoS 1 message survives a restart.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

from wharf_e2e import codec
from wharf_e2e.broker import Broker, BrokerOptions, broker_kind
from wharf_e2e.checks import assert_serves
from wharf_e2e.cli import mosquitto_pub, start_mosquitto_sub
from wharf_e2e.client import V5, V31, MqttClient
from wharf_e2e.raw import RawClient

V3_ACCEPTED = 0
V3_UNACCEPTABLE_PROTOCOL_VERSION = 1
V3_IDENTIFIER_REJECTED = 2


def connect31(raw: Callable[..., RawClient], client_id: str, **kwargs: object) -> tuple[RawClient, codec.Packet]:
    """A raw 3.1 connection and the CONNACK its CONNECT got."""
    client = raw(version=codec.MQTT31)
    client.send(codec.connect(client_id, version=codec.MQTT31, **kwargs))  # type: ignore[arg-type]
    return client, client.expect(codec.CONNACK)


# --------------------------------------------------------------------------- #
# Third-party 3.1 clients
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("qos", [0, 1, 2])
def test_mosquitto_clients_publish_and_subscribe_over_31(broker: Broker, qos: int) -> None:
    sub = start_mosquitto_sub(broker.host, broker.port, ["legacy/#"], qos=qos, version=3)
    try:
        mosquitto_pub(broker.host, broker.port, "legacy/plc1", f"reading-{qos}", qos=qos, version=3)
        [message] = sub.wait(1)
        assert (message.topic, message.payload, message.qos) == ("legacy/plc1", f"reading-{qos}".encode(), qos)
    finally:
        sub.stop()


def test_31_and_5_clients_exchange_messages(broker: Broker, mqtt) -> None:
    modern = mqtt(version=V5)
    assert modern.subscribe("from/plc", 1) == [1]
    mosquitto_pub(broker.host, broker.port, "from/plc", "old to new", qos=1, version=3)
    [message] = modern.messages.wait(1)
    assert (message.payload, message.qos) == (b"old to new", 1)

    sub = start_mosquitto_sub(broker.host, broker.port, ["to/plc"], qos=2, version=3)
    try:
        modern.publish("to/plc", b"new to old", 2)
        [message] = sub.wait(1)
        assert (message.payload, message.qos) == (b"new to old", 2)
    finally:
        sub.stop()


def test_paho_31_client_round_trip(mqtt) -> None:
    client = mqtt(version=V31, client_id="paho-31")
    assert client.connack.reason_code == V3_ACCEPTED
    assert client.connack.session_present is False
    assert client.subscribe([("paho31/q1", 1), ("paho31/q2", 2)]) == [1, 2]
    client.publish("paho31/q1", b"one", 1)
    client.publish("paho31/q2", b"two", 2)
    got = sorted((m.topic, m.payload, m.qos) for m in client.messages.wait(2))
    assert got == [("paho31/q1", b"one", 1), ("paho31/q2", b"two", 2)]
    client.unsubscribe("paho31/q1")
    client.publish("paho31/q1", b"gone", 1)
    client.publish("paho31/q2", b"three", 2)
    # "gone" was published first: had the unsubscribe not worked, it would come before "three".
    got = client.messages.wait_for(lambda items: any(m.payload == b"three" for m in items))
    assert [m.payload for m in got[2:]] == [b"three"]
    client.disconnect()


def test_will_of_a_31_client(mqtt, raw) -> None:
    watcher = mqtt(version=V5)
    assert watcher.subscribe("plc/status", 1) == [1]
    client, connack = connect31(raw, "plc-will", will=codec.Will("plc/status", b"offline", qos=1))
    assert connack.reason == V3_ACCEPTED
    client.abort()
    [message] = watcher.messages.wait(1)
    assert (message.topic, message.payload) == ("plc/status", b"offline")


# --------------------------------------------------------------------------- #
# CONNECT and CONNACK, byte for byte
# --------------------------------------------------------------------------- #


def test_31_connect_is_answered_with_a_31_connack(raw) -> None:
    client, connack = connect31(raw, "plc-0123456789abcdefghi")  # 23 characters, the most 3.1 allows
    assert connack.raw == b"\x20\x02\x00\x00"
    client.ping()
    client.subscribe("raw31/#", 1)
    client.publish("raw31/x", b"hello", qos=1)
    delivered = client.expect(codec.PUBLISH)
    assert (delivered.topic, delivered.payload, delivered.qos) == ("raw31/x", b"hello", 1)
    client.ack(delivered)
    client.disconnect()


def test_session_present_is_never_set_for_31(raw) -> None:
    first, connack = connect31(raw, "plc-persistent", clean=False)
    assert connack.raw == b"\x20\x02\x00\x00"
    first.subscribe("kept/#", 1)
    first.disconnect()
    # The session exists (3.1.1 would set session present) and keeps the subscription, but the
    # first CONNACK byte is reserved in 3.1.
    again, connack = connect31(raw, "plc-persistent", clean=False)
    assert connack.raw == b"\x20\x02\x00\x00"
    again.publish("kept/x", b"still subscribed", qos=1)
    delivered = again.expect(codec.PUBLISH)
    assert delivered.payload == b"still subscribed"
    again.ack(delivered)
    again.disconnect()


@pytest.mark.wharf_only(
    reason="Mosquitto 2.0.11 accepts 3.1 client identifiers of any length (the 23-character check "
    "exists only in builds WITH_STRICT_PROTOCOL)"
)
def test_client_identifier_of_24_characters_is_rejected(raw, broker: Broker) -> None:
    client = raw(version=codec.MQTT31)
    client.send(codec.connect("plc-0123456789abcdefghij", version=codec.MQTT31))
    packets = client.wait_closed()
    assert [p.raw for p in packets] == [b"\x20\x02\x00\x02"], packets
    assert_serves(broker)


@pytest.mark.parametrize("clean", [True, False], ids=["clean", "persistent"])
def test_empty_client_identifier_is_rejected(raw, broker: Broker, clean: bool) -> None:
    # Unlike 3.1.1, 3.1 has no identifiers assigned by the server, even for a clean session.
    client = raw(version=codec.MQTT31)
    client.send(codec.connect("", version=codec.MQTT31, clean=clean))
    packets = client.wait_closed()
    assert [(p.type, p.reason) for p in packets] == [(codec.CONNACK, V3_IDENTIFIER_REJECTED)], packets
    assert_serves(broker)


@pytest.mark.parametrize(
    "name,level",
    [(b"MQIsdp", 4), (b"MQIsdp", 5), (b"MQIsdp", 2), (b"MQTT", 3)],
    ids=["MQIsdp-4", "MQIsdp-5", "MQIsdp-2", "MQTT-3"],
)
def test_protocol_name_and_level_must_match(raw, broker: Broker, name: bytes, level: int) -> None:
    client = raw(version=codec.MQTT31)
    client.send(codec.connect("bad-level", version=codec.MQTT31, protocol_name=name, protocol_level=level))
    packets = client.wait_closed()
    assert [(p.type, p.reason) for p in packets] == [(codec.CONNACK, V3_UNACCEPTABLE_PROTOCOL_VERSION)], packets
    assert_serves(broker)


def test_password_without_user_name_is_refused(raw, broker: Broker) -> None:
    client = raw(version=codec.MQTT31)
    client.send(codec.connect("plc-pw", version=codec.MQTT31, password=b"secret"))
    packets = client.wait_closed()
    for pkt in packets:
        assert pkt.type == codec.CONNACK and pkt.reason != V3_ACCEPTED, packets
    assert_serves(broker)


def test_user_name_flag_without_a_user_name_is_ignored(raw) -> None:
    # Flags 0x82: user name, clean session; the packet ends after the client identifier.
    body = codec.utf8(b"MQIsdp") + bytes([3, 0x82]) + codec.u16(60) + codec.utf8("plc-noname")
    client = raw(version=codec.MQTT31)
    client.send(codec.packet(0x10, body))
    assert client.expect(codec.CONNACK).raw == b"\x20\x02\x00\x00"
    client.ping()


def test_will_flags_without_a_will_are_ignored(raw) -> None:
    # Flags 0x2A: will retain and will QoS 1 without the will flag, clean session.
    body = codec.utf8(b"MQIsdp") + bytes([3, 0x2A]) + codec.u16(60) + codec.utf8("plc-willbits")
    client = raw(version=codec.MQTT31)
    client.send(codec.packet(0x10, body))
    assert client.expect(codec.CONNACK).raw == b"\x20\x02\x00\x00"
    client.ping()


# --------------------------------------------------------------------------- #
# After CONNECT
# --------------------------------------------------------------------------- #


def test_resent_pubrel_with_dup_is_completed(raw) -> None:
    client, _ = connect31(raw, "plc-pubrel")
    client.send(codec.publish("qos2/x", b"once", qos=2, packet_id=7, version=codec.MQTT31))
    assert client.expect(codec.PUBREC).packet_id == 7
    client.send(codec.ack(codec.PUBREL, 7, version=codec.MQTT31))
    assert client.expect(codec.PUBCOMP).packet_id == 7
    # The PUBCOMP "got lost": a 3.1 client sends PUBREL again with DUP set (0x6A).
    client.send(b"\x6a\x02\x00\x07")
    assert client.expect(codec.PUBCOMP).packet_id == 7
    client.ping()


def test_resent_subscribe_with_dup_is_answered(raw) -> None:
    client, _ = connect31(raw, "plc-resub")
    client.send(codec.subscribe(3, [("dup/#", 1)], version=codec.MQTT31, first_byte=0x8A))
    suback = client.expect(codec.SUBACK)
    assert (suback.packet_id, suback.reasons) == (3, [1])
    client.ping()


@pytest.fixture
def acl_broker(tmp_path: Path) -> Iterator[Broker]:
    """The broker under test with an ACL by which anonymous clients may read and write `open/#`
    but only write `closed/#`."""
    acl = tmp_path / "acl"
    acl.write_text("topic readwrite open/#\ntopic write closed/#\n")
    # Mosquitto started as root drops to 'mosquitto', which cannot read pytest's directory.
    extra = ("user root",) if os.geteuid() == 0 else ()
    workdir = tmp_path / "acl-broker"
    workdir.mkdir()
    instance = Broker(broker_kind(), BrokerOptions(acl_file=str(acl), mosquitto_extra=extra), workdir)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()
    instance.check_clean_exit()


def test_refused_subscription_is_granted_but_delivers_nothing(acl_broker: Broker) -> None:
    # 3.1 has no SUBACK failure code: the subscription the ACL refuses is answered with the QoS
    # asked for (as Mosquitto answers it), and nothing published there reaches the client.
    client = RawClient(acl_broker.host, acl_broker.port, version=codec.MQTT31)
    writer = MqttClient(acl_broker.host, acl_broker.port, version=V5)
    try:
        client.send(codec.connect("plc-acl", version=codec.MQTT31))
        assert client.expect(codec.CONNACK).reason == V3_ACCEPTED
        assert client.subscribe([("closed/#", 1), ("open/#", 1)]).reasons == [1, 1]
        writer.connect()
        # One publisher, one subscriber: had "closed/x" been delivered, it would come first.
        writer.publish("closed/x", b"secret", 1)
        writer.publish("open/x", b"public", 1)
        delivered = client.expect(codec.PUBLISH)
        assert (delivered.topic, delivered.payload) == ("open/x", b"public")
        client.ack(delivered)
        client.ping()
    finally:
        client.close()
        writer.close()


@pytest.mark.wharf_only(reason="the Mosquitto reference runs without persistence")
@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_persistent_31_session_keeps_its_queued_qos1_message_over_a_restart(
    broker: Broker, mqtt, how: str
) -> None:
    subscriber = mqtt(version=V31, client_id="plc-restart", clean=False)
    assert subscriber.subscribe("plant/cmd", 1) == [1]
    subscriber.disconnect()

    publisher = mqtt(version=V5)
    publisher.publish("plant/cmd", b"start line 3", 1)  # returns after PUBACK: the message is stored
    publisher.close()

    if how == "sigterm":
        broker.restart()
    else:
        broker.kill9()
        broker.start()

    again = mqtt(version=V31, client_id="plc-restart", clean=False, connect=False)
    connack = again.connect()
    assert connack.session_present is False  # 3.1 has no such flag
    [message] = again.messages.wait(1)
    assert (message.topic, message.payload, message.qos) == ("plant/cmd", b"start line 3", 1)
