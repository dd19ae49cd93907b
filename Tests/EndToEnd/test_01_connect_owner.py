"""Sessions and who may take them: Session Present on a takeover of a clean session, a client
id that belongs to another user's session, and what an ACL reload does to queued messages."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from wharf_e2e import codec
from wharf_e2e.broker import Broker
from wharf_e2e.raw import RawClient

ACL = "user alice\ntopic readwrite plant/#\nuser bob\ntopic readwrite plant/#\n"


def _connect(raw, client_id: str, *, version: int = codec.MQTT5, clean: bool, username: str | None = None, **kw):
    client = raw(version=version)
    properties = [(codec.SESSION_EXPIRY_INTERVAL, 600)] if version == codec.MQTT5 and not clean else None
    client.send(codec.connect(client_id, version=version, clean=clean, username=username, properties=properties))
    connack = client.expect(codec.CONNACK)
    return client, connack


@pytest.mark.parametrize("version", [codec.MQTT311, codec.MQTT5], ids=["v311", "v5"])
def test_taking_over_a_connected_clean_session_presents_no_session(raw, version: int) -> None:
    """A clean-session client's state ends with its connection: a client that takes its id over
    with clean session 0 is told no session was present, so it subscribes again."""
    first, connack = _connect(raw, "takeover", version=version, clean=True)
    assert connack.reason == 0
    first.subscribe([("takeover/#", 1)])
    second, connack = _connect(raw, "takeover", version=version, clean=False)
    assert connack.reason == 0
    assert connack.session_present is False
    first.wait_closed()
    # The first connection's subscription did not carry over.
    publisher = raw(version=codec.MQTT5)
    publisher.connect("takeover-pub")
    publisher.publish("takeover/1", b"x", qos=1)
    second.expect_nothing(0.5)


@pytest.mark.wharf_only(reason="Mosquitto lets any user take over any client id")
@pytest.mark.broker_config(allow_anonymous=True)
def test_another_user_cannot_take_a_session_over(raw) -> None:
    alice, connack = _connect(raw, "plc-7", clean=False, username="alice")
    assert connack.reason == 0
    alice.subscribe([("plant/#", 1)])
    # Bob, an anonymous client and Mallory all name Alice's client id: none may take it.
    for username in ("bob", None, "mallory"):
        intruder, connack = _connect(raw, "plc-7", clean=False, username=username)
        assert connack.reason == 0x87, f"{username!r} took alice's session"
        intruder.wait_closed()
    alice.ping()  # still connected
    alice.disconnect()

    # Nor resume it while she is away: the message queued for her waits for her.
    publisher = raw()
    publisher.connect("pub")
    publisher.publish("plant/line1", b"for alice", qos=1)
    intruder, connack = _connect(raw, "plc-7", clean=False, username="bob")
    assert connack.reason == 0x87
    back, connack = _connect(raw, "plc-7", clean=False, username="alice")
    assert connack.reason == 0 and connack.session_present is True
    message = back.expect(codec.PUBLISH)
    assert message.topic == "plant/line1" and message.payload == b"for alice"


@pytest.mark.wharf_only(reason="Wharf's session_owner_change option")
@pytest.mark.broker_config(wharf_broker_extra=("session_owner_change: new-session",))
def test_another_user_may_start_afresh_when_configured(raw) -> None:
    alice, connack = _connect(raw, "plc-8", clean=False, username="alice")
    alice.subscribe([("plant/#", 1)])
    alice.disconnect()
    bob, connack = _connect(raw, "plc-8", clean=False, username="bob")
    assert connack.reason == 0 and connack.session_present is False


@pytest.mark.wharf_only(reason="restored sessions and their owners; the Mosquitto reference runs without persistence")
def test_a_restored_session_is_judged_as_its_owner(broker: Broker, raw, tmp_path: Path) -> None:
    """After a restart, a persistent session still belongs to its user: messages published while
    the user is away are queued under that user's ACL, not an anonymous client's."""
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    broker.stop()
    broker.options = broker.options.with_changes(acl_file=str(acl))
    broker.start()
    alice, connack = _connect(raw, "plc-9", clean=False, username="alice")
    assert connack.reason == 0
    assert alice.subscribe([("plant/#", 1)]).reasons == [1]
    alice.disconnect()

    broker.restart()
    publisher, connack = _connect(raw, "pub-9", clean=True, username="bob")
    assert publisher.publish("plant/after-restart", b"queued", qos=1).reason == 0
    back, connack = _connect(raw, "plc-9", clean=False, username="alice")
    assert connack.session_present is True
    message = back.expect(codec.PUBLISH)
    assert message.topic == "plant/after-restart"


@pytest.mark.wharf_only(reason="Mosquitto 2.0.11 delivers messages queued before an ACL reload")
def test_an_acl_reload_drops_queued_messages_the_client_may_no_longer_read(broker: Broker, raw, tmp_path: Path) -> None:
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    broker.stop()
    broker.options = broker.options.with_changes(acl_file=str(acl))
    broker.start()
    alice, _ = _connect(raw, "plc-10", clean=False, username="alice")
    alice.subscribe([("plant/#", 1)])
    alice.disconnect()
    publisher, _ = _connect(raw, "pub-10", clean=True, username="bob")
    publisher.publish("plant/secret/1", b"revoked", qos=1)
    publisher.publish("plant/public/1", b"still allowed", qos=1)

    acl.write_text("user alice\ntopic read plant/public/#\nuser bob\ntopic readwrite plant/#\n")
    before = broker.log().count("access control updated")
    assert broker.proc is not None
    broker.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while broker.log().count("access control updated") == before:
        assert time.monotonic() < deadline, "the ACL was not reloaded"
        time.sleep(0.05)

    back, connack = _connect(raw, "plc-10", clean=False, username="alice")
    assert connack.session_present is True
    message = back.expect(codec.PUBLISH)
    assert message.topic == "plant/public/1"
    back.expect_nothing(0.5)


@pytest.mark.wharf_only(reason="persistence across kill -9; the Mosquitto reference runs without persistence")
def test_a_qos2_resend_after_kill9_is_not_routed_twice(broker: Broker, raw) -> None:
    """A QoS 2 message acknowledged with PUBREC is kept with its packet identifier: when the
    publisher did not see the PUBREC and sends the message again after wharfd was killed, the
    resend is acknowledged but not delivered a second time."""
    sink, _ = _connect(raw, "sink-11", clean=False)
    sink.subscribe([("once/#", 1)])
    sink.disconnect()
    publisher, _ = _connect(raw, "pub-11", clean=False)
    publisher.send(codec.publish("once/x", b"exactly once", qos=2, packet_id=5))
    assert publisher.expect(codec.PUBREC).reason == 0

    broker.kill9()
    broker.start()

    publisher, connack = _connect(raw, "pub-11", clean=False)
    assert connack.session_present is True
    publisher.send(codec.publish("once/x", b"exactly once", qos=2, packet_id=5, dup=True))
    assert publisher.expect(codec.PUBREC).reason == 0
    publisher.send(codec.ack(codec.PUBREL, 5))
    assert publisher.expect(codec.PUBCOMP).reason == 0
    publisher.publish("once/marker", b"end", qos=1)

    sink, _ = _connect(raw, "sink-11", clean=False)
    received = []
    while True:
        message = sink.expect(codec.PUBLISH)
        sink.ack(message)
        if message.topic == "once/marker":
            break
        received.append(message.payload)
    assert received == [b"exactly once"]
