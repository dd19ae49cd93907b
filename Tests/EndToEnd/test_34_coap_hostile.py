"""Hostile datagrams on the CoAP port: random bytes, truncated headers, bad versions and token
lengths, broken options, unknown critical options, floods. wharfd must neither crash nor hang:
after every case a good confirmable POST is still answered and published. Failures are logged
with the peer's address (`coap.peer`)."""

from __future__ import annotations

import os
import random
import socket
import struct

import pytest

from wharf_e2e.admin import admin_yaml, get, metric, wait_for_admin
from wharf_e2e.broker import free_port
from wharf_e2e.coap import (  # noqa: F401 - fixtures
    coap_factory,
    coap_mqtt,
    wharf_only,
)
from wharf_e2e.coap_cli import (
    assert_coap_serves,
)
from wharf_e2e.coap_raw import (
    CON,
    GET,
    POST,
    URI_PATH,
    RawCoap,
    encode_message,
    path_options,
)

pytestmark = wharf_only


def header(type_: int = CON, tkl: int = 0, code: int = POST, message_id: int = 0x1234, version: int = 1) -> bytes:
    return bytes([(version << 6) | (type_ << 4) | tkl, code]) + struct.pack(">H", message_id)


def uri(path: str = "t/hostile/x") -> bytes:
    """The encoded Uri-Path options of a request header with no token."""
    return encode_message(CON, POST, 0, b"", path_options(path))[4:]


MALFORMED = {
    "empty": b"",
    "one-byte": b"\x40",
    "three-bytes": b"\x40\x02\x12",
    "version-0": header(version=0) + uri(),
    "version-2": header(version=2) + uri(),
    "version-3": header(version=3) + uri(),
    "token-length-9": header(tkl=9) + b"\x01" * 9 + uri(),
    "token-length-15": header(tkl=15) + b"\x01" * 15,
    "token-longer-than-datagram": header(tkl=8) + b"\x01\x02",
    "option-delta-15": header() + b"\xf1a",
    "option-length-15": header() + b"\xbfa",
    "option-length-past-end": header() + b"\xb8ab",
    "extended-delta-missing": header() + b"\xd1",
    "extended-length-missing": header() + b"\xbe\x01",
    "payload-marker-without-payload": header() + uri() + b"\xff",
    "empty-message-with-payload": header(code=0) + b"\xffpayload",
    "empty-message-with-token": header(tkl=4, code=0) + b"abcd",
    "reserved-code-class-1": header(code=0x20) + uri(),
    "response-code-as-request": header(code=0x45) + uri() + b"\xff21",
    "ack-for-nothing": header(type_=2, code=0, message_id=0x7777),
    "rst-for-nothing": header(type_=3, code=0, message_id=0x7778),
    "huge-option-number": header() + b"\xe1\xff\xff" + b"x",
    "uri-path-of-300-bytes": header() + b"\xbd\xff" + b"a" * 268 + b"\xff" + b"data",
}


@pytest.mark.parametrize("datagram", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_datagram_does_not_stop_the_adapter(datagram: bytes, coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    raw = RawCoap(gateway)
    try:
        raw.send(datagram)
        # Whatever comes back (a RST, 4.00, 4.02 or nothing) must be well-formed CoAP.
        answer = raw.receive(0.5)
        if answer is not None:
            assert answer[0] >> 6 == 1, f"answer is not CoAP version 1: {answer!r}"
    finally:
        raw.close()
    assert_coap_serves(gateway, watcher, "after/malformed")
    assert [m.topic for m in watcher.messages.snapshot()] == ["after/malformed"]


def test_every_malformed_datagram_in_a_row(coap_factory, coap_mqtt) -> None:
    admin_port = free_port()
    gateway = coap_factory(wharf_extra_yaml=admin_yaml(admin_port))
    wait_for_admin(admin_port)
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    malformed = 'adapter="coap",kind="malformed"'
    before = metric(get(admin_port, "/metrics").body, "wharf_coap_errors_total", malformed) or 0
    raw = RawCoap(gateway)
    try:
        for _ in range(3):
            for datagram in MALFORMED.values():
                raw.send(datagram)
    finally:
        raw.close()
    assert_coap_serves(gateway, watcher, "after/all")
    # Datagrams libcoap cannot parse are counted; runts shorter than a CoAP header are not
    # even parsed, so at least one datagram per round counts.
    after = metric(get(admin_port, "/metrics").body, "wharf_coap_errors_total", malformed) or 0
    assert after - before >= 3, get(admin_port, "/metrics").body


def test_unknown_critical_option_is_bad_option(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    raw = RawCoap(gateway)
    try:
        # Option 2049 is odd (critical) and unassigned.
        reply = raw.request(POST, "t/critical/x", b"v", options=[(2049, b"?")])
    finally:
        raw.close()
    assert reply.code_text == "4.02", reply
    assert_coap_serves(gateway, watcher, "after/critical")
    assert [m.topic for m in watcher.messages.snapshot()] == ["after/critical"]


def test_unknown_elective_option_is_ignored(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    raw = RawCoap(gateway)
    try:
        # Option 2050 is even (elective) and unassigned.
        reply = raw.request(POST, "t/elective/x", b"v", options=[(2050, b"?")])
    finally:
        raw.close()
    assert reply.code_text == "2.04", reply
    [message] = watcher.messages.wait(1)
    assert (message.topic, message.payload) == ("elective/x", b"v")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_bytes_flood(seed: int, coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    rng = random.Random(seed)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for index in range(2000):
            size = rng.choice((1, 2, 3, 4, 5, 8, 16, 64, 512, 1400))
            data = bytearray(rng.randbytes(size))
            if index % 2 and size >= 4:
                data[0] = 0x40 | (data[0] & 0x3F)  # version 1: gets past the first check
            sock.sendto(bytes(data), (gateway.host, gateway.config.port))
    assert_coap_serves(gateway, watcher, "after/flood")


def test_mutated_valid_requests(coap_factory, coap_mqtt) -> None:
    """Valid POSTs with a few bytes flipped: every outcome is fine except a crash or a hang."""
    gateway = coap_factory()
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    rng = random.Random(7)
    good = encode_message(
        CON, POST, 1, b"tk", path_options("t/mutant/a") + [(12, b"\x32"), (60, b"\x05")], b"hello"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for index in range(1000):
            data = bytearray(good)
            struct.pack_into(">H", data, 2, index)
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            if rng.random() < 0.2:
                data = data[: rng.randrange(len(data))]
            sock.sendto(bytes(data), (gateway.host, gateway.config.port))
    assert_coap_serves(gateway, watcher, "after/mutants")


def test_many_peers_sending_half_requests(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(200)]
    try:
        for index, sock in enumerate(sockets):
            # Block1 0 with More set and never a second block: state the adapter must not keep forever.
            # Size1 announces the total, as block-wise clients do (libcoap 4.3.1 treats a first block
            # without Size1 from a new peer as a whole body).
            block1 = bytes([0x08])  # NUM 0, M 1, SZX 0 (16 bytes)
            options = path_options(f"t/half/{index}") + [(27, block1), (60, bytes([64]))]
            sock.sendto(encode_message(CON, POST, index, b"b1", options, b"x" * 16), (gateway.host, gateway.config.port))
    finally:
        for sock in sockets:
            sock.close()
    assert_coap_serves(gateway, watcher, "after/half")
    assert [m.topic for m in watcher.messages.snapshot()] == ["after/half"]


def test_get_with_garbage_observe_value(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    publisher = coap_mqtt(gateway)
    publisher.publish("garbage/obs", b"v", 1, retain=True)
    raw = RawCoap(gateway)
    try:
        # Observe is at most 3 bytes: a 4-byte value is malformed.
        raw.send(encode_message(CON, GET, 99, b"ob", [(6, b"\x01\x02\x03\x04")] + path_options("t/garbage/obs")))
        raw.receive(0.5)
    finally:
        raw.close()
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    assert_coap_serves(gateway, watcher, "after/observe")


def test_refused_requests_are_logged_with_the_peer(coap_factory, coap_mqtt) -> None:
    # Refused requests are logged at debug level (a device can send many): switch it on.
    gateway = coap_factory(wharf_extra_yaml="log:\n  components:\n    coap: debug\n")
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    raw = RawCoap(gateway)
    try:
        port = raw.sock.getsockname()[1]
        reply = raw.request(POST, "t/a/+/b", b"x")
        assert reply.code_text == "4.00"
    finally:
        raw.close()
    assert_coap_serves(gateway, watcher, "after/logged")
    log = gateway.broker.log()
    assert f"coap.peer=127.0.0.1:{port}" in log, f"no log line names the peer 127.0.0.1:{port}:\n{log[-3000:]}"


def test_uri_path_with_many_segments(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory()
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    raw = RawCoap(gateway)
    try:
        reply = raw.request(POST, "t", b"deep", options=[(URI_PATH, b"s")] * 200)
    finally:
        raw.close()
    # 200 levels is a legal topic; an adapter may also refuse it with 4.00 or 4.13.
    assert reply.code_text in ("2.04", "4.00", "4.13"), reply
    assert_coap_serves(gateway, watcher, "after/deep")
