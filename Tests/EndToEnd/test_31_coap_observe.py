"""CoAP reads of MQTT topics: GET of a retained message (Content-Format, Max-Age, block-wise,
4.04 without one), Observe of a topic receiving MQTT publishes (aiocoap and coap-client,
confirmable and not), deregistration, and the observer limit (5.03)."""

from __future__ import annotations

import subprocess
import time

import pytest

from wharf_e2e.client import publish_properties
from wharf_e2e.coap import (  # noqa: F401 - fixtures
    CoapConfig,
    coap_factory,
    coap_mqtt,
    wharf_only,
)
from wharf_e2e.coap_aio import (  # noqa: F401 - fixtures
    coap_loop,
    coap_observer,
)
from wharf_e2e.coap_cli import (
    COAP_CLIENT,
    assert_code,
    coap_client,
)
from wharf_e2e.coap_raw import (
    ACK,
    CON,
    CONTENT_FORMAT,
    GET,
    NON,
    OBSERVE,
    RST,
    RawCoap,
    decode_message,
    encode_message,
    uint_option,
)

pytestmark = wharf_only

MAX_AGE = 14


# --------------------------------------------------------------------------------------- #
# GET of retained messages
# --------------------------------------------------------------------------------------- #


def test_get_returns_the_retained_message_with_its_content_format(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    publisher = coap_mqtt(gateway)
    json_type = publish_properties(ContentType="application/json")
    publisher.publish("sensors/hall/temp", b'{"t": 19.5}', 1, retain=True, properties=json_type)
    reply = coap_client(gateway.url("t/sensors/hall/temp"))
    assert_code(reply, "2.05")
    assert reply.payload == b'{"t": 19.5}'
    raw = RawCoap(gateway)
    try:
        response = raw.request(GET, "t/sensors/hall/temp")
    finally:
        raw.close()
    assert response.code_text == "2.05"
    assert response.payload == b'{"t": 19.5}'
    assert response.option(CONTENT_FORMAT) in (b"\x32", b"\x00\x32"), response  # 50 = application/json


def test_get_without_a_retained_message_is_not_found(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    publisher = coap_mqtt(gateway)
    publisher.publish("sensors/transient", b"not kept", 1)
    assert_code(coap_client(gateway.url("t/sensors/transient")), "4.04")
    assert_code(coap_client(gateway.url("t/never/published")), "4.04")


def test_get_after_the_retained_message_is_cleared_is_not_found(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    publisher = coap_mqtt(gateway)
    publisher.publish("sensors/cleared", b"v1", 1, retain=True)
    assert_code(coap_client(gateway.url("t/sensors/cleared")), "2.05")
    publisher.publish("sensors/cleared", b"", 1, retain=True)
    assert_code(coap_client(gateway.url("t/sensors/cleared")), "4.04")


def test_max_age_follows_the_remaining_message_expiry(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    publisher = coap_mqtt(gateway)
    publisher.publish(
        "sensors/expiring", b"soon", 1, retain=True, properties=publish_properties(MessageExpiryInterval=100)
    )
    raw = RawCoap(gateway)
    try:
        response = raw.request(GET, "t/sensors/expiring")
    finally:
        raw.close()
    assert response.code_text == "2.05"
    max_age = response.option(MAX_AGE)
    assert max_age is not None, f"no Max-Age option: {response}"
    assert 0 < int.from_bytes(max_age, "big") <= 100


def test_get_of_a_message_posted_over_coap_with_retain(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(retain=True))
    assert_code(coap_client(gateway.url("t/loop/back"), method="post", data=b"42", content_format=0), "2.04")
    reply = coap_client(gateway.url("t/loop/back"))
    assert_code(reply, "2.05")
    assert reply.payload == b"42"


@pytest.mark.parametrize("block_size", [64, 512])
def test_blockwise_get_of_a_large_retained_message(block_size: int, coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    body = bytes((i * 13) % 251 for i in range(8000))
    coap_mqtt(gateway).publish("files/firmware", body, 1, retain=True)
    reply = coap_client(gateway.url("t/files/firmware"), block_size=block_size)
    assert_code(reply, "2.05")
    assert len(reply.payload) == len(body)
    assert reply.payload == body


# --------------------------------------------------------------------------------------- #
# Observe
# --------------------------------------------------------------------------------------- #


def test_observe_gets_the_retained_value_then_every_publish(coap_factory, coap_mqtt, coap_observer) -> None:
    gateway = coap_factory()
    publisher = coap_mqtt(gateway)
    publisher.publish("sensors/line/speed", b"100", 1, retain=True)
    observer = coap_observer(gateway.url("t/sensors/line/speed"))
    first = observer.start()
    assert first.code == "2.05"
    assert first.payload == b"100"
    assert first.observe is not None, "the response carries no Observe option: not registered"
    for value in (b"101", b"102", b"103"):
        publisher.publish("sensors/line/speed", value, 1)
    observer.notifications.wait(4)
    assert observer.payloads() == [b"100", b"101", b"102", b"103"]


def test_observe_without_a_retained_value_gets_later_publishes(coap_factory, coap_mqtt, coap_observer) -> None:
    gateway = coap_factory()
    publisher = coap_mqtt(gateway)
    observer = coap_observer(gateway.url("t/sensors/fresh"))
    first = observer.start()
    assert first.code.startswith("2."), first
    before = len(observer.notifications.snapshot())
    publisher.publish("sensors/fresh", b"first", 0)
    items = observer.notifications.wait(before + 1)
    assert items[-1].payload == b"first"


def test_observe_notifications_carry_the_content_format(coap_factory, coap_mqtt, coap_observer) -> None:
    gateway = coap_factory()
    publisher = coap_mqtt(gateway)
    cbor_type = publish_properties(ContentType="application/cbor")
    publisher.publish("sensors/cbor", b"\xa1\x01\x02", 1, retain=True, properties=cbor_type)
    observer = coap_observer(gateway.url("t/sensors/cbor"))
    assert observer.start().content_format == 60
    publisher.publish("sensors/cbor", b"{}", 1, properties=publish_properties(ContentType="application/json"))
    items = observer.notifications.wait(2)
    assert (items[-1].payload, items[-1].content_format) == (b"{}", 50)


def test_observe_sees_only_its_exact_topic(coap_factory, coap_mqtt, coap_observer) -> None:
    gateway = coap_factory()
    publisher = coap_mqtt(gateway)
    publisher.publish("room/a", b"a0", 1, retain=True)
    observer = coap_observer(gateway.url("t/room/a"))
    observer.start()
    publisher.publish("room/b", b"b1", 1)
    publisher.publish("room/a/sub", b"a-sub", 1)
    publisher.publish("room/a", b"a1", 1)
    observer.notifications.wait(2)
    time.sleep(0.3)
    assert observer.payloads() == [b"a0", b"a1"]


def test_coap_posts_reach_coap_observers(coap_factory, coap_mqtt, coap_observer) -> None:
    gateway = coap_factory()
    coap_mqtt(gateway).publish("relay/x", b"start", 1, retain=True)
    observer = coap_observer(gateway.url("t/relay/x"))
    observer.start()
    assert_code(coap_client(gateway.url("t/relay/x"), method="post", data=b"via-coap"), "2.04")
    observer.notifications.wait(2)
    assert observer.payloads() == [b"start", b"via-coap"]


def test_several_observers_of_one_topic_each_get_every_publish(coap_factory, coap_mqtt, coap_observer) -> None:
    gateway = coap_factory()
    publisher = coap_mqtt(gateway)
    publisher.publish("shared/t", b"0", 1, retain=True)
    observers = [coap_observer(gateway.url("t/shared/t")) for _ in range(3)]
    for observer in observers:
        observer.start()
    publisher.publish("shared/t", b"1", 1)
    publisher.publish("shared/t", b"2", 1)
    for observer in observers:
        observer.notifications.wait(3)
        assert observer.payloads() == [b"0", b"1", b"2"]


def test_coap_client_observe_for_a_few_seconds(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    publisher = coap_mqtt(gateway)
    text = publish_properties(ContentType="text/plain;charset=utf-8")  # coap-client prints text payloads
    publisher.publish("sensors/cli", b"v0", 1, retain=True, properties=text)
    command = [COAP_CLIENT, "-v", "6", "-B", "6", "-s", "4", "-m", "get", gateway.url("t/sensors/cli")]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        # Published once the registration is in: wait for the first response on stdout.
        assert proc.stdout is not None
        first = b""
        deadline = time.monotonic() + 5
        while b"c:2.05" not in first and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            first += line
        assert b"c:2.05" in first, first
        publisher.publish("sensors/cli", b"v1", 1, properties=text)
        publisher.publish("sensors/cli", b"v2", 1, properties=text)
        rest, errors = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = (first + rest).decode(errors="replace")
    notes = [line for line in output.splitlines() if " c:2.05 " in line]
    assert [n.rsplit("::", 1)[-1].strip() for n in notes][:3] == ["'v0'", "'v1'", "'v2'"], output


# --------------------------------------------------------------------------------------- #
# Notification types, deregistration and limits (raw UDP)
# --------------------------------------------------------------------------------------- #


def register(raw: RawCoap, path: str, token: bytes) -> None:
    reply = raw.request(GET, path, token=token, options=[(OBSERVE, b"")])
    assert reply.code_text == "2.05", reply
    assert reply.option(OBSERVE) is not None, f"not registered: {reply}"


def next_notification(raw: RawCoap, token: bytes, timeout: float = 5.0):  # noqa: ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = raw.receive(max(0.01, deadline - time.monotonic()))
        if data is None:
            break
        message = decode_message(data)
        if message.token == token:
            return message
    return None


@pytest.mark.parametrize("confirmable", [False, True], ids=["non", "con"])
def test_notification_type_follows_observe_confirmable(confirmable: bool, coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(observe_confirmable=confirmable))
    publisher = coap_mqtt(gateway)
    publisher.publish("typed/n", b"0", 1, retain=True)
    raw = RawCoap(gateway)
    try:
        register(raw, "t/typed/n", b"tok1")
        publisher.publish("typed/n", b"1", 1)
        note = next_notification(raw, b"tok1")
        assert note is not None, "no notification"
        assert note.payload == b"1"
        assert note.type == (CON if confirmable else NON), note
        if note.type == CON:
            raw.send(encode_message(ACK, 0, note.message_id))
    finally:
        raw.close()


def test_reset_notification_deregisters_the_observer(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(observe_confirmable=True))
    publisher = coap_mqtt(gateway)
    publisher.publish("reset/n", b"0", 1, retain=True)
    raw = RawCoap(gateway)
    try:
        register(raw, "t/reset/n", b"tok2")
        publisher.publish("reset/n", b"1", 1)
        note = next_notification(raw, b"tok2")
        assert note is not None and note.payload == b"1"
        raw.send(encode_message(RST, 0, note.message_id))
        time.sleep(0.3)
        publisher.publish("reset/n", b"2", 1)
        publisher.publish("reset/n", b"3", 1)
        # Nothing but (at most) retransmissions of the notification already reset.
        later = next_notification(raw, b"tok2", timeout=2.0)
        assert later is None or later.payload == b"1", later
    finally:
        raw.close()


def test_observe_deregistration_by_get_without_observe_1(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    publisher = coap_mqtt(gateway)
    publisher.publish("dereg/n", b"0", 1, retain=True)
    raw = RawCoap(gateway)
    try:
        register(raw, "t/dereg/n", b"tok3")
        reply = raw.request(GET, "t/dereg/n", token=b"tok3", options=[(OBSERVE, uint_option(1))])
        assert reply.code_text == "2.05"
        publisher.publish("dereg/n", b"1", 1)
        assert next_notification(raw, b"tok3", timeout=1.5) is None
    finally:
        raw.close()


def test_observer_limit_gives_service_unavailable(coap_factory, coap_mqtt, coap_observer) -> None:
    gateway = coap_factory(CoapConfig(max_observers=2))
    publisher = coap_mqtt(gateway)
    publisher.publish("limit/o", b"0", 1, retain=True)
    observers = [coap_observer(gateway.url("t/limit/o")) for _ in range(2)]
    for observer in observers:
        assert observer.start().code == "2.05"
    third = RawCoap(gateway)
    try:
        reply = third.request(GET, "t/limit/o", options=[(OBSERVE, b"")])
        assert reply.code_text == "5.03", reply
        # A plain GET is not limited.
        plain = third.request(GET, "t/limit/o")
        assert plain.code_text == "2.05"
    finally:
        third.close()
    publisher.publish("limit/o", b"1", 1)
    for observer in observers:
        observer.notifications.wait(2)
