"""03 acknowledgements from a subscriber: the wrong type for a packet identifier closes the connection.

A PUBREC or PUBCOMP for a QoS 1 delivery, a PUBACK for a QoS 2 one, or a PUBCOMP before the
server sent PUBREL breaks the protocol: MQTT 3.1.1 §4.8 closes the connection, MQTT 5 §4.13
too, with DISCONNECT 0x82 (Protocol Error) first where the server sends one. What recovery
sends is no error and keeps the connection: acknowledgements for identifiers the server no
longer has in flight (after a reconnect), a PUBREC repeated while PUBREL is pending, a PUBREL
repeated after PUBCOMP.
"""

from __future__ import annotations

import pytest

from wharf_e2e import codec
from wharf_e2e.checks import assert_serves

VERSIONS = [pytest.param(codec.MQTT311, id="v311"), pytest.param(codec.MQTT5, id="v5")]

# (case, QoS of the delivery, acknowledgements sent for it; a PUBREC is answered by PUBREL first)
WRONG_ACKS = [
    pytest.param(1, [codec.PUBREC], id="pubrec-for-qos1"),
    pytest.param(1, [codec.PUBCOMP], id="pubcomp-for-qos1"),
    pytest.param(2, [codec.PUBACK], id="puback-for-qos2"),
    pytest.param(2, [codec.PUBCOMP], id="pubcomp-without-pubrel"),
    pytest.param(2, [codec.PUBREC, codec.PUBACK], id="puback-after-pubrel"),
]


def _delivery(raw, mqtt, version, qos, client_id, *, clean=True, properties=None):
    """A subscriber holding one QoS `qos` delivery it has not acknowledged yet."""
    subscriber = raw(version=version)
    subscriber.connect(client_id, clean=clean, properties=properties)
    topic = f"acks/{client_id}"
    subscriber.subscribe(topic, 2)
    mqtt().publish(topic, b"payload", qos)
    delivery = subscriber.expect(codec.PUBLISH)
    assert delivery.qos == qos
    return subscriber, delivery


def _send_acks(client, delivery, kinds):
    """Sends `kinds` for `delivery`; a PUBREC for a QoS 2 delivery waits for its PUBREL."""
    for kind in kinds:
        client.send_quietly(codec.ack(kind, delivery.packet_id, version=client.version))
        if kind == codec.PUBREC and delivery.qos == 2:
            pubrel = client.expect(codec.PUBREL)
            assert pubrel.packet_id == delivery.packet_id


def _assert_protocol_error_close(client, version):
    packets = client.wait_closed()
    if version == codec.MQTT311:
        assert packets == [], packets
    for pkt in packets:
        assert (pkt.type, pkt.reason) == (codec.DISCONNECT, codec.RC_PROTOCOL_ERROR), packets
    return packets


@pytest.mark.parametrize(("qos", "acks"), WRONG_ACKS)
@pytest.mark.parametrize("version", VERSIONS)
def test_acknowledgement_of_the_wrong_type_closes_the_connection(raw, mqtt, broker, version, qos, acks):
    subscriber, delivery = _delivery(raw, mqtt, version, qos, "wrong-ack")
    _send_acks(subscriber, delivery, acks)
    _assert_protocol_error_close(subscriber, version)
    assert_serves(broker)


@pytest.mark.wharf_only(reason="Mosquitto 2.0.11 closes without DISCONNECT (which MQTT 5 allows)")
@pytest.mark.parametrize(("qos", "acks"), WRONG_ACKS)
def test_v5_wrong_acknowledgement_is_told_protocol_error(raw, mqtt, qos, acks):
    subscriber, delivery = _delivery(raw, mqtt, codec.MQTT5, qos, "wrong-ack-v5")
    _send_acks(subscriber, delivery, acks)
    packets = _assert_protocol_error_close(subscriber, codec.MQTT5)
    assert len(packets) == 1, packets


@pytest.mark.parametrize("version", VERSIONS)
def test_message_in_a_persistent_session_survives_a_wrong_acknowledgement(raw, mqtt, version):
    properties = [(codec.SESSION_EXPIRY_INTERVAL, 60)] if version == codec.MQTT5 else None
    subscriber, delivery = _delivery(
        raw, mqtt, version, 1, "wrong-ack-kept", clean=False, properties=properties
    )
    _send_acks(subscriber, delivery, [codec.PUBREC])
    _assert_protocol_error_close(subscriber, version)
    again = raw(version=version)
    assert again.connect("wrong-ack-kept", clean=False, properties=properties).session_present
    resent = again.expect(codec.PUBLISH)
    assert (resent.packet_id, resent.payload, resent.dup) == (delivery.packet_id, b"payload", True)
    again.ack(resent)
    again.ping()


# --------------------------------------------------------------------------- #
# What recovery sends keeps the connection
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("version", VERSIONS)
def test_repeated_pubrec_is_answered_by_pubrel_again(raw, mqtt, version):
    subscriber, delivery = _delivery(raw, mqtt, version, 2, "pubrec-twice")
    _send_acks(subscriber, delivery, [codec.PUBREC, codec.PUBREC])
    subscriber.send(codec.ack(codec.PUBCOMP, delivery.packet_id, version=version))
    subscriber.ping()


@pytest.mark.parametrize("version", VERSIONS)
def test_acknowledgements_for_identifiers_not_in_flight_keep_the_connection(raw, version):
    client = raw(version=version)
    client.connect("stale-acks")
    for kind in (codec.PUBACK, codec.PUBCOMP):
        client.send(codec.ack(kind, 4242, version=version))
    client.ping()
    client.send(codec.ack(codec.PUBREC, 4243, version=version))
    pubrel = client.expect(codec.PUBREL)
    assert pubrel.packet_id == 4243
    if version == codec.MQTT5:
        # 0x92 Packet Identifier not found is what MQTT 5 asks for; Mosquitto 2.0.11 answers 0.
        assert pubrel.reason in (codec.RC_SUCCESS, 0x92), pubrel
    client.send(codec.ack(codec.PUBREL, 4244, version=version))
    pubcomp = client.expect(codec.PUBCOMP)
    assert pubcomp.packet_id == 4244
    client.ping()


@pytest.mark.wharf_only(reason="Mosquitto 2.0.11 answers an unknown identifier with reason code 0")
def test_v5_pubrel_for_unknown_pubrec_says_identifier_not_found(raw):
    client = raw()
    client.connect("unknown-pubrec")
    client.send(codec.ack(codec.PUBREC, 77))
    pubrel = client.expect(codec.PUBREL)
    assert (pubrel.packet_id, pubrel.reason) == (77, 0x92)


@pytest.mark.parametrize("version", VERSIONS)
def test_acknowledgement_from_before_a_reconnect_keeps_the_connection(raw, mqtt, version):
    """The client acknowledges on its new connection what the server had resent there, then repeats
    the acknowledgement it had already sent on the old one: the second is for an identifier no
    longer in flight, which is what recovery looks like."""
    properties = [(codec.SESSION_EXPIRY_INTERVAL, 60)] if version == codec.MQTT5 else None
    subscriber, delivery = _delivery(raw, mqtt, version, 1, "ack-after-reconnect", clean=False, properties=properties)
    subscriber.close()
    again = raw(version=version)
    again.connect("ack-after-reconnect", clean=False, properties=properties)
    resent = again.expect(codec.PUBLISH)
    assert resent.packet_id == delivery.packet_id
    again.send(codec.ack(codec.PUBACK, resent.packet_id, version=version))
    again.send(codec.ack(codec.PUBACK, resent.packet_id, version=version))
    again.ping()
