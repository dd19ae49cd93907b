"""CoAP over DTLS with pre-shared keys: confirmable and non-confirmable POSTs and GETs with
coap-client-openssl, the identity in the topic template, per-identity publish/read filters (4.03),
plain requests refused when `allow_plain: false` (4.01), and wrong keys or identities that must
not crash or hang wharfd."""

from __future__ import annotations

import os
import socket

import pytest

from wharf_e2e.admin import admin_yaml, get, metric, wait_for_admin, wait_until
from wharf_e2e.broker import free_port
from wharf_e2e.coap import (  # noqa: F401 - fixtures
    CoapConfig,
    Psk,
    coap_factory,
    coap_mqtt,
    wharf_only,
)
from wharf_e2e.coap_cli import (
    assert_coap_serves,
    assert_code,
    coap_client,
)

pytestmark = wharf_only

SENSOR = ("sensor-1", "secret-one")
METER = ("meter-7", "another key")
PSKS = (
    Psk(SENSOR[0], SENSOR[1], publish=("sensors/#", "sensor-1/#"), read=("sensors/#",)),
    Psk(METER[0], METER[1], publish=("meters/#",), read=("meters/#",)),
)
WRONG_PSKS = [(SENSOR[0], "wrong key"), ("nobody", SENSOR[1]), (SENSOR[0], "")]
WRONG_IDS = ["wrong-key", "unknown-identity", "empty-key"]


def secure_post(gateway, path: str, data: bytes, psk: tuple[str, str], **kwargs):  # noqa: ANN001, ANN201
    return coap_client(gateway.url(path, secure=True), method="post", data=data, psk=psk, **kwargs)


def test_confirmable_post_over_dtls_is_published(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(psk=PSKS))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("sensors/#", 1)
    reply = secure_post(gateway, "t/sensors/boiler/temp", b"71.2", SENSOR, content_format=0)
    assert_code(reply, "2.04")
    [message] = watcher.messages.wait(1)
    assert (message.topic, message.payload, message.qos) == ("sensors/boiler/temp", b"71.2", 1)
    assert message.properties.get("ContentType") == "text/plain;charset=utf-8"


def test_non_confirmable_post_over_dtls_is_published(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(psk=PSKS))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("meters/#", 1)
    reply = secure_post(gateway, "t/meters/7/kwh", b"1234.5", METER, non_confirmable=True, wait=2)
    assert reply.code in (None, "2.04"), reply
    [message] = watcher.messages.wait(1)
    assert (message.topic, message.payload, message.qos) == ("meters/7/kwh", b"1234.5", 0)


def test_blockwise_post_over_dtls(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(psk=PSKS))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("sensors/#", 1)
    body = os.urandom(4000)
    assert_code(secure_post(gateway, "t/sensors/dump", body, SENSOR, block_size=256), "2.04")
    [message] = watcher.messages.wait(1)
    assert message.payload == body


def test_identity_in_the_topic_template(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(psk=PSKS, topic="{identity}/{path}"))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    assert_code(secure_post(gateway, "t/status", b"ok", SENSOR), "2.04")
    [message] = watcher.messages.wait(1)
    assert (message.topic, message.payload) == ("sensor-1/status", b"ok")


def test_identity_may_only_publish_to_its_filters(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(psk=PSKS))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    assert_code(secure_post(gateway, "t/meters/7/kwh", b"stolen", SENSOR), "4.03")
    assert_code(secure_post(gateway, "t/sensors/x", b"stolen", METER), "4.03")
    assert_code(secure_post(gateway, "t/sensors/x", b"mine", SENSOR), "2.04")
    [message] = watcher.messages.wait(1)
    assert (message.topic, message.payload) == ("sensors/x", b"mine")
    assert len(watcher.messages.snapshot()) == 1


def test_identity_may_only_read_its_filters(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(psk=PSKS))
    publisher = coap_mqtt(gateway)
    publisher.publish("meters/7/kwh", b"1000", 1, retain=True)
    publisher.publish("sensors/hall", b"19", 1, retain=True)
    reply = coap_client(gateway.url("t/meters/7/kwh", secure=True), psk=METER)
    assert_code(reply, "2.05")
    assert reply.payload == b"1000"
    assert_code(coap_client(gateway.url("t/meters/7/kwh", secure=True), psk=SENSOR), "4.03")
    assert_code(coap_client(gateway.url("t/sensors/hall", secure=True), psk=METER), "4.03")


def test_plain_requests_are_unauthorized_when_allow_plain_is_false(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(psk=PSKS, allow_plain=False))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    watcher.publish("sensors/hall", b"19", 1, retain=True)
    watcher.messages.wait(1)
    assert_code(coap_client(gateway.url("t/sensors/plain"), method="post", data=b"x"), "4.01")
    assert_code(coap_client(gateway.url("t/sensors/hall")), "4.01")
    assert_code(secure_post(gateway, "t/sensors/secure", b"y", SENSOR), "2.04")
    items = watcher.messages.wait(2)
    assert [(m.topic, m.payload) for m in items] == [("sensors/hall", b"19"), ("sensors/secure", b"y")]


def test_plain_and_dtls_side_by_side(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(psk=PSKS))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("sensors/#", 1)
    assert_code(coap_client(gateway.url("t/sensors/a"), method="post", data=b"plain"), "2.04")
    assert_code(secure_post(gateway, "t/sensors/b", b"dtls", SENSOR), "2.04")
    items = watcher.messages.wait(2)
    assert sorted((m.topic, m.payload) for m in items) == [("sensors/a", b"plain"), ("sensors/b", b"dtls")]


@pytest.mark.parametrize("psk", WRONG_PSKS, ids=WRONG_IDS)
def test_wrong_psk_is_refused_and_wharfd_keeps_serving(psk: tuple[str, str], coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(psk=PSKS))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    for _ in range(2):
        reply = secure_post(gateway, "t/sensors/intruder", b"bad", psk, wait=3)
        assert reply.code != "2.04", reply
    assert_code(secure_post(gateway, "t/sensors/good", b"good", SENSOR), "2.04")
    assert_coap_serves(gateway, watcher, "after/psk")
    assert [m.topic for m in watcher.messages.snapshot()] == ["sensors/good", "after/psk"]


# coap-client-openssl refuses an empty key itself and sends nothing, so there is no handshake to log.
@pytest.mark.parametrize("psk", WRONG_PSKS[:2], ids=WRONG_IDS[:2])
def test_failed_handshakes_are_logged_with_the_peer_and_counted(psk: tuple[str, str], coap_factory) -> None:
    admin_port = free_port()
    gateway = coap_factory(CoapConfig(psk=PSKS), wharf_extra_yaml=admin_yaml(admin_port))
    wait_for_admin(admin_port)
    reply = secure_post(gateway, "t/sensors/intruder", b"bad", psk, wait=3)
    assert reply.code != "2.04", reply
    log = gateway.broker.log()
    assert "coap.peer=127.0.0.1:" in log, f"no log line names the peer of the failed handshake:\n{log[-3000:]}"
    # The count goes with the log line (a wrong key is noticed when the handshake does not complete).
    counted = wait_until(
        lambda: metric(get(admin_port, "/metrics").body, "wharf_coap_errors_total", 'adapter="coap",kind="dtls"'),
        timeout=10,
        what="wharf_coap_errors_total{kind=dtls}",
    )
    assert counted >= 1


def test_garbage_on_the_dtls_port_does_not_stop_it(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(psk=PSKS))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        target = (gateway.host, gateway.config.dtls_port)
        # Random bytes, a truncated DTLS record header, and a ClientHello-looking record cut short.
        for size in (1, 5, 13, 40, 300, 1200):
            sock.sendto(os.urandom(size), target)
        sock.sendto(bytes([22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x00]), target)
        sock.sendto(bytes([22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x40, 1, 0, 0, 0x3C]), target)
    assert_code(secure_post(gateway, "t/sensors/still", b"ok", SENSOR), "2.04")
    assert_coap_serves(gateway, watcher, "after/garbage")
