"""A raw-socket MQTT client: sends exact bytes, reads and decodes exact packets."""

from __future__ import annotations

import collections
import itertools
import socket
import struct
import time

from . import codec
from .codec import Packet

DEFAULT_TIMEOUT = 5.0


class Closed(Exception):
    """The broker closed the connection."""


class RawClient:
    """One TCP connection to the broker, driven packet by packet by the test."""

    def __init__(self, host: str, port: int, *, version: int = codec.MQTT5, timeout: float = DEFAULT_TIMEOUT):
        self.version = version
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._buffer = b""
        self._pending: collections.deque[Packet] = collections.deque()
        self._closed = False
        self._ids = itertools.count(1)
        self.received: list[Packet] = []

    # -- plumbing ---------------------------------------------------------- #

    def next_id(self) -> int:
        return (next(self._ids) - 1) % 65535 + 1

    def send(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError) as error:
            self._closed = True
            raise Closed(str(error)) from error

    def send_quietly(self, data: bytes) -> None:
        """Sends, ignoring a connection the broker has already closed."""
        try:
            self.send(data)
        except Closed:
            pass

    def recv(self, timeout: float | None = None) -> Packet:
        """Returns the next packet; raises Closed at EOF and TimeoutError when none arrives."""
        if self._pending:
            return self._pending.popleft()
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            frame = codec.split_frame(self._buffer)
            if frame is not None:
                size = frame[0] + frame[1]
                raw, self._buffer = self._buffer[:size], self._buffer[size:]
                pkt = codec.decode(raw, self.version)
                self.received.append(pkt)
                return pkt
            if self._closed:
                raise Closed("connection closed by broker")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no packet from broker")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise TimeoutError("no packet from broker") from None
            except (ConnectionResetError, ConnectionAbortedError):
                chunk = b""
            if not chunk:
                self._closed = True
                if self._buffer:
                    continue
                raise Closed("connection closed by broker")
            self._buffer += chunk

    def expect(self, kind: int, timeout: float | None = None, *, hold: tuple[int, ...] = ()) -> Packet:
        """Receives the next packet and asserts its type.

        Packets whose type is in `hold` (e.g. new PUBLISHes while a QoS 2 flow
        completes) are kept back and returned by later calls, in order.
        """
        held: list[Packet] = []
        try:
            while True:
                try:
                    pkt = self.recv(timeout)
                except Closed:
                    raise AssertionError(
                        f"expected {codec.PACKET_NAMES[kind]}, but the broker closed the connection"
                    ) from None
                except TimeoutError:
                    raise AssertionError(f"expected {codec.PACKET_NAMES[kind]}, but nothing arrived") from None
                if pkt.type != kind and pkt.type in hold:
                    held.append(pkt)
                    continue
                assert pkt.type == kind, f"expected {codec.PACKET_NAMES[kind]}, got {pkt!r}"
                return pkt
        finally:
            self._pending.extendleft(reversed(held))

    def expect_nothing(self, duration: float) -> None:
        """Asserts that no packet arrives (and the connection stays open) for `duration` seconds."""
        try:
            pkt = self.recv(duration)
        except TimeoutError:
            return
        except Closed:
            raise AssertionError("the broker closed the connection unexpectedly") from None
        raise AssertionError(f"expected no packet, got {pkt!r}")

    def drain(self, duration: float) -> list[Packet]:
        """Collects every packet arriving within `duration` seconds."""
        deadline = time.monotonic() + duration
        out: list[Packet] = []
        while (left := deadline - time.monotonic()) > 0:
            try:
                out.append(self.recv(left))
            except TimeoutError:
                break
            except Closed:
                break
        return out

    def wait_closed(self, timeout: float = DEFAULT_TIMEOUT) -> list[Packet]:
        """Asserts that the broker closes the connection in time; returns packets sent before it."""
        deadline = time.monotonic() + timeout
        packets: list[Packet] = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the broker did not close the connection within {timeout} s (got {packets})")
            try:
                packets.append(self.recv(left))
            except Closed:
                return packets
            except TimeoutError:
                continue
            except codec.MalformedError:
                # Whatever it was, the connection is what matters here.
                self._buffer = b""

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Closes the socket without sending DISCONNECT (an abnormal disconnect)."""
        try:
            self.sock.close()
        except OSError:
            pass
        self._closed = True

    def abort(self) -> None:
        """Resets the connection (TCP RST) instead of a graceful close."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def __enter__(self) -> "RawClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- protocol conveniences -------------------------------------------- #

    def connect(self, client_id: str = "", *, expect_reason: int | None = 0, **kwargs: object) -> Packet:
        """Sends CONNECT and returns the CONNACK; asserts its reason code unless expect_reason is None."""
        self.send(codec.connect(client_id, version=self.version, **kwargs))  # type: ignore[arg-type]
        connack = self.expect(codec.CONNACK)
        if expect_reason is not None:
            assert connack.reason == expect_reason, f"CONNACK {connack!r}, expected 0x{expect_reason:02x}"
        return connack

    def subscribe(
        self,
        filters: list[tuple[str, int]] | str,
        qos: int = 0,
        *,
        properties: codec.Properties | None = None,
    ) -> Packet:
        if isinstance(filters, str):
            filters = [(filters, qos)]
        packet_id = self.next_id()
        self.send(codec.subscribe(packet_id, filters, properties=properties, version=self.version))
        # PUBLISHes (retained messages) may come before the SUBACK [MQTT-3.8.4-4].
        suback = self.expect(codec.SUBACK, hold=(codec.PUBLISH,))
        assert suback.packet_id == packet_id
        return suback

    def unsubscribe(self, filters: list[str], *, properties: codec.Properties | None = None) -> Packet:
        packet_id = self.next_id()
        self.send(codec.unsubscribe(packet_id, filters, properties=properties, version=self.version))
        unsuback = self.expect(codec.UNSUBACK, hold=(codec.PUBLISH,))
        assert unsuback.packet_id == packet_id
        return unsuback

    def publish(
        self,
        topic: str,
        payload: bytes | str = b"",
        *,
        qos: int = 0,
        retain: bool = False,
        properties: codec.Properties | None = None,
        packet_id: int | None = None,
    ) -> Packet | None:
        """Publishes and completes the QoS flow; returns the PUBACK or PUBCOMP."""
        if qos and packet_id is None:
            packet_id = self.next_id()
        self.send(
            codec.publish(
                topic, payload, qos=qos, retain=retain, packet_id=packet_id, properties=properties, version=self.version
            )
        )
        # Deliveries to this very client may overtake the acknowledgements.
        if qos == 1:
            return self.expect(codec.PUBACK, hold=(codec.PUBLISH,))
        if qos == 2:
            pubrec = self.expect(codec.PUBREC, hold=(codec.PUBLISH,))
            assert pubrec.packet_id == packet_id
            self.send(codec.ack(codec.PUBREL, packet_id or 0, version=self.version))
            return self.expect(codec.PUBCOMP, hold=(codec.PUBLISH,))
        return None

    def ack(self, pkt: Packet) -> None:
        """Completes the receiver side of a delivered QoS 1 or 2 PUBLISH."""
        if pkt.qos == 1:
            self.send(codec.ack(codec.PUBACK, pkt.packet_id, version=self.version))
        elif pkt.qos == 2:
            self.send(codec.ack(codec.PUBREC, pkt.packet_id, version=self.version))
            pubrel = self.expect(codec.PUBREL, hold=(codec.PUBLISH,))
            assert pubrel.packet_id == pkt.packet_id
            self.send(codec.ack(codec.PUBCOMP, pkt.packet_id, version=self.version))

    def ping(self) -> None:
        self.send(codec.pingreq())
        self.expect(codec.PINGRESP, hold=(codec.PUBLISH,))

    def disconnect(self, reason: int = 0, *, properties: codec.Properties | None = None) -> None:
        """Sends DISCONNECT and waits (bounded) for the broker to close, so that a test's next
        connection cannot overtake the DISCONNECT on another socket."""
        self.send_quietly(codec.disconnect(reason, properties=properties, version=self.version))
        try:
            self.wait_closed(timeout=5)
        except (AssertionError, OSError):
            pass
        self.close()
