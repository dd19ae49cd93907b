"""Hand-made CoAP datagrams for the CoAP suites: a small codec (RFC 7252 section 3) and a UDP
socket that sends requests to the adapter and reads what comes back."""

from __future__ import annotations

import os
import socket
import struct
import time
from dataclasses import dataclass, field

from .broker import HOST
from .coap import CoapGateway

CON, NON, ACK, RST = 0, 1, 2, 3
GET, POST, PUT, DELETE = 1, 2, 3, 4
URI_PATH, CONTENT_FORMAT, OBSERVE, URI_QUERY, BLOCK1, BLOCK2, SIZE1 = 11, 12, 6, 15, 27, 23, 60


def code_of(text: str) -> int:
    """'2.04' -> 0x44."""
    major, minor = text.split(".")
    return (int(major) << 5) | int(minor)


def code_text(code: int) -> str:
    return f"{code >> 5}.{code & 0x1F:02d}"


def encode_option_number(value: int) -> tuple[int, bytes]:
    if value < 13:
        return value, b""
    if value < 269:
        return 13, bytes([value - 13])
    return 14, struct.pack(">H", value - 269)


def encode_message(
    type_: int,
    code: int,
    message_id: int,
    token: bytes = b"",
    options: list[tuple[int, bytes]] | None = None,
    payload: bytes = b"",
) -> bytes:
    """A CoAP datagram; options are (number, value) pairs in any order."""
    out = bytearray([0x40 | (type_ << 4) | len(token), code]) + struct.pack(">H", message_id) + token
    previous = 0
    for number, value in sorted(options or [], key=lambda option: option[0]):
        delta, delta_ext = encode_option_number(number - previous)
        length, length_ext = encode_option_number(len(value))
        out += bytes([(delta << 4) | length]) + delta_ext + length_ext + value
        previous = number
    if payload:
        out += b"\xff" + payload
    return bytes(out)


def uint_option(value: int) -> bytes:
    return value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""


def path_options(path: str) -> list[tuple[int, bytes]]:
    return [(URI_PATH, segment.encode()) for segment in path.strip("/").split("/") if segment]


@dataclass
class Datagram:
    """A decoded CoAP message."""

    type: int
    code: int
    message_id: int
    token: bytes
    options: list[tuple[int, bytes]] = field(default_factory=list)
    payload: bytes = b""

    @property
    def code_text(self) -> str:
        return code_text(self.code)

    def option(self, number: int) -> bytes | None:
        return next((value for n, value in self.options if n == number), None)


def decode_message(data: bytes) -> Datagram:
    """Decodes a well-formed CoAP datagram (what wharfd sends); raises ValueError otherwise."""
    if len(data) < 4 or data[0] >> 6 != 1:
        raise ValueError(f"not a CoAP message: {data!r}")
    tkl = data[0] & 0x0F
    message = Datagram((data[0] >> 4) & 3, data[1], struct.unpack(">H", data[2:4])[0], data[4 : 4 + tkl])
    pos, number = 4 + tkl, 0
    while pos < len(data):
        if data[pos] == 0xFF:
            message.payload = data[pos + 1 :]
            break
        delta, length = data[pos] >> 4, data[pos] & 0x0F
        pos += 1
        values = []
        for nibble in (delta, length):
            if nibble == 13:
                values.append(data[pos] + 13)
                pos += 1
            elif nibble == 14:
                values.append(struct.unpack(">H", data[pos : pos + 2])[0] + 269)
                pos += 2
            elif nibble == 15:
                raise ValueError("reserved option nibble")
            else:
                values.append(nibble)
        number += values[0]
        message.options.append((number, data[pos : pos + values[1]]))
        pos += values[1]
    return message


class RawCoap:
    """A UDP socket that sends hand-made datagrams to the adapter and reads what comes back."""

    def __init__(self, gateway: CoapGateway, timeout: float = 3.0) -> None:
        self.address = (HOST, gateway.config.port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((HOST, 0))
        self.sock.settimeout(timeout)
        self._next_id = int.from_bytes(os.urandom(2), "big")

    def message_id(self) -> int:
        self._next_id = (self._next_id + 1) & 0xFFFF
        return self._next_id

    def send(self, datagram: bytes) -> None:
        self.sock.sendto(datagram, self.address)

    def receive(self, timeout: float | None = None) -> bytes | None:
        """The next datagram, or None when nothing arrives within the timeout."""
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            data, _ = self.sock.recvfrom(65535)
            return data
        except (socket.timeout, ConnectionRefusedError):
            return None

    def request(
        self,
        code: int,
        path: str,
        payload: bytes = b"",
        *,
        type_: int = CON,
        options: list[tuple[int, bytes]] | None = None,
        token: bytes | None = None,
        timeout: float = 3.0,
    ) -> Datagram:
        """Sends one request and returns its response (piggybacked, or separate after an empty ACK)."""
        token = os.urandom(4) if token is None else token
        message_id = self.message_id()
        self.send(encode_message(type_, code, message_id, token, path_options(path) + list(options or []), payload))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            data = self.receive(max(0.01, left)) if left > 0 else None
            if data is None:
                raise AssertionError(f"no response to {code_text(code)} {path} within {timeout} s")
            reply = decode_message(data)
            if reply.type == ACK and reply.code == 0:
                continue  # empty ACK: the response follows separately
            if reply.token == token:
                if reply.type == CON:
                    self.send(encode_message(ACK, 0, reply.message_id))
                return reply

    def close(self) -> None:
        self.sock.close()
