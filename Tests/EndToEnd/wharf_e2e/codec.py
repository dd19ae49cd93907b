"""A tiny MQTT 3.1.1 / 5.0 wire encoder and decoder for exact-packet tests.

It is deliberately independent of any MQTT library: the suites use it to send
packets byte for byte (including malformed ones) and to inspect exactly what
the broker sends back.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Iterable, Sequence

# Control packet types.
CONNECT = 1
CONNACK = 2
PUBLISH = 3
PUBACK = 4
PUBREC = 5
PUBREL = 6
PUBCOMP = 7
SUBSCRIBE = 8
SUBACK = 9
UNSUBSCRIBE = 10
UNSUBACK = 11
PINGREQ = 12
PINGRESP = 13
DISCONNECT = 14
AUTH = 15

PACKET_NAMES = {
    CONNECT: "CONNECT",
    CONNACK: "CONNACK",
    PUBLISH: "PUBLISH",
    PUBACK: "PUBACK",
    PUBREC: "PUBREC",
    PUBREL: "PUBREL",
    PUBCOMP: "PUBCOMP",
    SUBSCRIBE: "SUBSCRIBE",
    SUBACK: "SUBACK",
    UNSUBSCRIBE: "UNSUBSCRIBE",
    UNSUBACK: "UNSUBACK",
    PINGREQ: "PINGREQ",
    PINGRESP: "PINGRESP",
    DISCONNECT: "DISCONNECT",
    AUTH: "AUTH",
}

MQTT31 = 3  # protocol name "MQIsdp"; its packets are laid out as 3.1.1's
MQTT311 = 4
MQTT5 = 5

# MQTT 5 property identifiers.
PAYLOAD_FORMAT_INDICATOR = 0x01
MESSAGE_EXPIRY_INTERVAL = 0x02
CONTENT_TYPE = 0x03
RESPONSE_TOPIC = 0x08
CORRELATION_DATA = 0x09
SUBSCRIPTION_IDENTIFIER = 0x0B
SESSION_EXPIRY_INTERVAL = 0x11
ASSIGNED_CLIENT_IDENTIFIER = 0x12
SERVER_KEEP_ALIVE = 0x13
AUTHENTICATION_METHOD = 0x15
AUTHENTICATION_DATA = 0x16
REQUEST_PROBLEM_INFORMATION = 0x17
WILL_DELAY_INTERVAL = 0x18
REQUEST_RESPONSE_INFORMATION = 0x19
RESPONSE_INFORMATION = 0x1A
SERVER_REFERENCE = 0x1C
REASON_STRING = 0x1F
RECEIVE_MAXIMUM = 0x21
TOPIC_ALIAS_MAXIMUM = 0x22
TOPIC_ALIAS = 0x23
MAXIMUM_QOS = 0x24
RETAIN_AVAILABLE = 0x25
USER_PROPERTY = 0x26
MAXIMUM_PACKET_SIZE = 0x27
WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28
SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29
SHARED_SUBSCRIPTION_AVAILABLE = 0x2A

_BYTE, _U16, _U32, _VARINT, _UTF8, _BINARY, _PAIR = range(7)
PROPERTY_TYPES = {
    PAYLOAD_FORMAT_INDICATOR: _BYTE,
    MESSAGE_EXPIRY_INTERVAL: _U32,
    CONTENT_TYPE: _UTF8,
    RESPONSE_TOPIC: _UTF8,
    CORRELATION_DATA: _BINARY,
    SUBSCRIPTION_IDENTIFIER: _VARINT,
    SESSION_EXPIRY_INTERVAL: _U32,
    ASSIGNED_CLIENT_IDENTIFIER: _UTF8,
    SERVER_KEEP_ALIVE: _U16,
    AUTHENTICATION_METHOD: _UTF8,
    AUTHENTICATION_DATA: _BINARY,
    REQUEST_PROBLEM_INFORMATION: _BYTE,
    WILL_DELAY_INTERVAL: _U32,
    REQUEST_RESPONSE_INFORMATION: _BYTE,
    RESPONSE_INFORMATION: _UTF8,
    SERVER_REFERENCE: _UTF8,
    REASON_STRING: _UTF8,
    RECEIVE_MAXIMUM: _U16,
    TOPIC_ALIAS_MAXIMUM: _U16,
    TOPIC_ALIAS: _U16,
    MAXIMUM_QOS: _BYTE,
    RETAIN_AVAILABLE: _BYTE,
    USER_PROPERTY: _PAIR,
    MAXIMUM_PACKET_SIZE: _U32,
    WILDCARD_SUBSCRIPTION_AVAILABLE: _BYTE,
    SUBSCRIPTION_IDENTIFIER_AVAILABLE: _BYTE,
    SHARED_SUBSCRIPTION_AVAILABLE: _BYTE,
}

# Reason codes used by the suites (MQTT 5 section 2.4).
RC_SUCCESS = 0x00
RC_GRANTED_QOS1 = 0x01
RC_GRANTED_QOS2 = 0x02
RC_DISCONNECT_WITH_WILL = 0x04
RC_NO_MATCHING_SUBSCRIBERS = 0x10
RC_NO_SUBSCRIPTION_EXISTED = 0x11
RC_UNSPECIFIED_ERROR = 0x80
RC_MALFORMED_PACKET = 0x81
RC_PROTOCOL_ERROR = 0x82
RC_UNSUPPORTED_PROTOCOL_VERSION = 0x84
RC_CLIENT_IDENTIFIER_NOT_VALID = 0x85
RC_SERVER_BUSY = 0x89
RC_KEEP_ALIVE_TIMEOUT = 0x8D
RC_SESSION_TAKEN_OVER = 0x8E
RC_TOPIC_FILTER_INVALID = 0x8F
RC_TOPIC_NAME_INVALID = 0x90
RC_RECEIVE_MAXIMUM_EXCEEDED = 0x93
RC_TOPIC_ALIAS_INVALID = 0x94
RC_PACKET_TOO_LARGE = 0x95
RC_QUOTA_EXCEEDED = 0x97
RC_RETAIN_NOT_SUPPORTED = 0x9A

# MQTT 3.1.1 CONNACK return codes.
V3_ACCEPTED = 0
V3_UNACCEPTABLE_PROTOCOL_VERSION = 1
V3_IDENTIFIER_REJECTED = 2
V3_SERVER_UNAVAILABLE = 3
V3_SUBACK_FAILURE = 0x80

Properties = list  # list[tuple[int, object]]: order and duplicates matter


class MalformedError(ValueError):
    """Raised when bytes received from the broker do not decode."""


# --------------------------------------------------------------------------- #
# Primitive encoders
# --------------------------------------------------------------------------- #


def varint(value: int) -> bytes:
    """Variable Byte Integer encoding (MQTT 1.5.5)."""
    if value < 0 or value > 268_435_455:
        raise ValueError(f"varint out of range: {value}")
    out = bytearray()
    while True:
        digit = value % 128
        value //= 128
        if value:
            digit |= 0x80
        out.append(digit)
        if not value:
            return bytes(out)


def u16(value: int) -> bytes:
    return struct.pack("!H", value)


def u32(value: int) -> bytes:
    return struct.pack("!I", value)


def utf8(value: str | bytes) -> bytes:
    """Length-prefixed string; bytes are sent unchanged (for invalid UTF-8 tests)."""
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return u16(len(raw)) + raw


binary = utf8


def encode_properties(props: Iterable[tuple[int, object]] | None) -> bytes:
    body = bytearray()
    for ident, value in props or ():
        kind = PROPERTY_TYPES[ident]
        body += varint(ident)
        if kind == _BYTE:
            body.append(int(value))  # type: ignore[arg-type]
        elif kind == _U16:
            body += u16(int(value))  # type: ignore[arg-type]
        elif kind == _U32:
            body += u32(int(value))  # type: ignore[arg-type]
        elif kind == _VARINT:
            body += varint(int(value))  # type: ignore[arg-type]
        elif kind in (_UTF8, _BINARY):
            body += utf8(value)  # type: ignore[arg-type]
        else:
            key, val = value  # type: ignore[misc]
            body += utf8(key) + utf8(val)
    return varint(len(body)) + bytes(body)


def packet(first_byte: int, body: bytes) -> bytes:
    """Fixed header (type and flags byte, remaining length) followed by body."""
    return bytes([first_byte]) + varint(len(body)) + body


# --------------------------------------------------------------------------- #
# Packet encoders
# --------------------------------------------------------------------------- #


@dataclass
class Will:
    topic: str
    payload: bytes = b""
    qos: int = 0
    retain: bool = False
    properties: Properties = field(default_factory=list)


def connect(
    client_id: str | bytes = "",
    *,
    version: int = MQTT5,
    clean: bool = True,
    keepalive: int = 60,
    will: Will | None = None,
    username: str | None = None,
    password: bytes | None = None,
    properties: Properties | None = None,
    protocol_name: bytes | None = None,
    protocol_level: int | None = None,
    reserved_flag: bool = False,
    first_byte: int = 0x10,
) -> bytes:
    flags = 0
    if reserved_flag:
        flags |= 0x01
    if clean:
        flags |= 0x02
    if will is not None:
        flags |= 0x04 | (will.qos << 3) | (0x20 if will.retain else 0)
    if password is not None:
        flags |= 0x40
    if username is not None:
        flags |= 0x80
    level = version if protocol_level is None else protocol_level
    if protocol_name is None:
        protocol_name = b"MQIsdp" if version == MQTT31 else b"MQTT"
    body = bytearray(utf8(protocol_name) + bytes([level, flags]) + u16(keepalive))
    if version == MQTT5:
        body += encode_properties(properties)
    body += utf8(client_id)
    if will is not None:
        if version == MQTT5:
            body += encode_properties(will.properties)
        body += utf8(will.topic) + binary(will.payload)
    if username is not None:
        body += utf8(username)
    if password is not None:
        body += binary(password)
    return packet(first_byte, bytes(body))


def publish(
    topic: str | bytes,
    payload: bytes | str = b"",
    *,
    qos: int = 0,
    retain: bool = False,
    dup: bool = False,
    packet_id: int | None = None,
    properties: Properties | None = None,
    version: int = MQTT5,
) -> bytes:
    if isinstance(payload, str):
        payload = payload.encode()
    first = (PUBLISH << 4) | (0x08 if dup else 0) | ((qos & 0x03) << 1) | (0x01 if retain else 0)
    body = bytearray(utf8(topic))
    if qos > 0:
        body += u16(1 if packet_id is None else packet_id)
    if version == MQTT5:
        body += encode_properties(properties)
    body += payload
    return packet(first, bytes(body))


def ack(
    kind: int,
    packet_id: int,
    *,
    reason: int | None = None,
    properties: Properties | None = None,
    version: int = MQTT5,
) -> bytes:
    """PUBACK, PUBREC, PUBREL or PUBCOMP."""
    first = (kind << 4) | (0x02 if kind == PUBREL else 0)
    body = bytearray(u16(packet_id))
    if version == MQTT5 and (reason not in (None, 0) or properties):
        body.append(reason or 0)
        if properties:
            body += encode_properties(properties)
    return packet(first, bytes(body))


def sub_options(
    qos: int = 0, *, no_local: bool = False, retain_as_published: bool = False, retain_handling: int = 0
) -> int:
    return qos | (0x04 if no_local else 0) | (0x08 if retain_as_published else 0) | (retain_handling << 4)


def subscribe(
    packet_id: int,
    filters: Sequence[tuple[str | bytes, int]],
    *,
    properties: Properties | None = None,
    version: int = MQTT5,
    first_byte: int = 0x82,
) -> bytes:
    body = bytearray(u16(packet_id))
    if version == MQTT5:
        body += encode_properties(properties)
    for topic_filter, options in filters:
        body += utf8(topic_filter) + bytes([options])
    return packet(first_byte, bytes(body))


def unsubscribe(
    packet_id: int,
    filters: Sequence[str | bytes],
    *,
    properties: Properties | None = None,
    version: int = MQTT5,
    first_byte: int = 0xA2,
) -> bytes:
    body = bytearray(u16(packet_id))
    if version == MQTT5:
        body += encode_properties(properties)
    for topic_filter in filters:
        body += utf8(topic_filter)
    return packet(first_byte, bytes(body))


def pingreq() -> bytes:
    return b"\xc0\x00"


def disconnect(reason: int = 0, *, properties: Properties | None = None, version: int = MQTT5) -> bytes:
    if version != MQTT5 or (reason == 0 and not properties):
        return b"\xe0\x00"
    return packet(0xE0, bytes([reason]) + encode_properties(properties))


# --------------------------------------------------------------------------- #
# Decoding
# --------------------------------------------------------------------------- #


@dataclass
class Packet:
    """A decoded control packet; fields not used by a packet type stay at defaults."""

    type: int
    flags: int
    raw: bytes
    session_present: bool = False
    reason: int = 0
    reasons: list[int] = field(default_factory=list)
    packet_id: int = 0
    topic: str = ""
    payload: bytes = b""
    properties: Properties = field(default_factory=list)

    @property
    def name(self) -> str:
        return PACKET_NAMES.get(self.type, f"type{self.type}")

    @property
    def qos(self) -> int:
        return (self.flags >> 1) & 0x03

    @property
    def dup(self) -> bool:
        return bool(self.flags & 0x08)

    @property
    def retain(self) -> bool:
        return bool(self.flags & 0x01)

    def prop(self, ident: int, default: object = None) -> object:
        for key, value in self.properties:
            if key == ident:
                return value
        return default

    def props(self, ident: int) -> list[object]:
        return [value for key, value in self.properties if key == ident]

    def __repr__(self) -> str:
        detail = {
            CONNACK: lambda: f"sp={int(self.session_present)} rc=0x{self.reason:02x}",
            PUBLISH: lambda: f"q{self.qos} d{int(self.dup)} r{int(self.retain)} id={self.packet_id} "
            f"{self.topic!r} {self.payload[:40]!r}",
            SUBACK: lambda: f"id={self.packet_id} {[hex(r) for r in self.reasons]}",
            UNSUBACK: lambda: f"id={self.packet_id} {[hex(r) for r in self.reasons]}",
            DISCONNECT: lambda: f"rc=0x{self.reason:02x}",
        }.get(self.type, lambda: f"id={self.packet_id} rc=0x{self.reason:02x}")()
        props = f" props={self.properties}" if self.properties else ""
        return f"<{self.name} {detail}{props}>"


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise MalformedError("packet shorter than its fields")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack("!H", self.take(2))[0]

    def u32(self) -> int:
        return struct.unpack("!I", self.take(4))[0]

    def varint(self) -> int:
        value, shift = 0, 0
        for _ in range(4):
            digit = self.byte()
            value |= (digit & 0x7F) << shift
            if not digit & 0x80:
                return value
            shift += 7
        raise MalformedError("varint longer than 4 bytes")

    def binary(self) -> bytes:
        return self.take(self.u16())

    def utf8(self) -> str:
        try:
            return self.binary().decode("utf-8")
        except UnicodeDecodeError as error:
            raise MalformedError(str(error)) from error

    def properties(self) -> Properties:
        end = self.varint() + self.pos
        props: Properties = []
        while self.pos < end:
            ident = self.varint()
            kind = PROPERTY_TYPES.get(ident)
            if kind is None:
                raise MalformedError(f"unknown property 0x{ident:02x}")
            value: object
            if kind == _BYTE:
                value = self.byte()
            elif kind == _U16:
                value = self.u16()
            elif kind == _U32:
                value = self.u32()
            elif kind == _VARINT:
                value = self.varint()
            elif kind == _UTF8:
                value = self.utf8()
            elif kind == _BINARY:
                value = self.binary()
            else:
                value = (self.utf8(), self.utf8())
            props.append((ident, value))
        if self.pos != end:
            raise MalformedError("property length mismatch")
        return props


def split_frame(buffer: bytes) -> tuple[int, int] | None:
    """Returns (header length, remaining length) if a full frame is buffered, else None."""
    if len(buffer) < 2:
        return None
    value, shift = 0, 0
    for index in range(1, 5):
        if index >= len(buffer):
            return None
        digit = buffer[index]
        value |= (digit & 0x7F) << shift
        if not digit & 0x80:
            header = index + 1
            return (header, value) if len(buffer) >= header + value else None
        shift += 7
    raise MalformedError("remaining length longer than 4 bytes")


def decode(frame: bytes, version: int) -> Packet:
    """Decodes one complete frame (fixed header included) sent by a server."""
    first = frame[0]
    kind, flags = first >> 4, first & 0x0F
    header = split_frame(frame)
    if header is None:
        raise MalformedError("incomplete frame")
    reader = _Reader(frame[header[0] :])
    pkt = Packet(type=kind, flags=flags, raw=frame)
    v5 = version == MQTT5
    if kind == CONNACK:
        pkt.session_present = bool(reader.byte() & 0x01)
        pkt.reason = reader.byte()
        if v5 and reader.remaining():
            pkt.properties = reader.properties()
    elif kind == PUBLISH:
        pkt.topic = reader.utf8()
        if pkt.qos > 0:
            pkt.packet_id = reader.u16()
        if v5:
            pkt.properties = reader.properties()
        pkt.payload = reader.take(reader.remaining())
    elif kind in (PUBACK, PUBREC, PUBREL, PUBCOMP):
        pkt.packet_id = reader.u16()
        if v5 and reader.remaining():
            pkt.reason = reader.byte()
            if reader.remaining():
                pkt.properties = reader.properties()
    elif kind in (SUBACK, UNSUBACK):
        pkt.packet_id = reader.u16()
        if v5:
            pkt.properties = reader.properties()
        pkt.reasons = list(reader.take(reader.remaining()))
    elif kind in (DISCONNECT, AUTH):
        if reader.remaining():
            pkt.reason = reader.byte()
            if reader.remaining():
                pkt.properties = reader.properties()
    elif kind == PINGRESP:
        pass
    else:
        raise MalformedError(f"server sent packet type {kind}")
    return pkt
