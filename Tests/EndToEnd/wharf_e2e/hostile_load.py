"""Raw-socket loads for the hostile-client suite (test_14): a batch publisher fast enough to
outrun a subscriber, a subscriber that never reads, and a fast MQTT 3.1.1 packet reader.

Everything here has a deadline and a `keep_going` callback (false once the broker died or its
RSS passed the harness's ceiling), so no load can hang a test.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass
from collections.abc import Callable

from . import codec
from .client import unique_id

Address = tuple[str, int]
KeepGoing = Callable[[], bool]
V311 = codec.MQTT311


class PacketStream:
    """Reads whole MQTT packets from a socket as (first byte, body), without copying the buffer per packet."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = bytearray()
        self._pos = 0
        self.eof = False

    def _frame(self) -> tuple[int, bytes] | None:
        buffer, pos = self._buffer, self._pos
        length, multiplier, index = 0, 1, pos + 1
        while True:
            if index >= len(buffer):
                return None
            digit = buffer[index]
            length += (digit & 0x7F) * multiplier
            multiplier *= 128
            index += 1
            if not digit & 0x80:
                break
            if multiplier > 128**4:
                raise codec.MalformedError("remaining length longer than four bytes")
        end = index + length
        if end > len(buffer):
            return None
        self._pos = end
        return buffer[pos], bytes(buffer[index:end])

    def next(self, deadline: float) -> tuple[int, bytes] | None:
        """The next packet; None once the broker closed the connection; TimeoutError after `deadline`."""
        while True:
            frame = self._frame()
            if frame is not None:
                return frame
            if self.eof:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no packet before the deadline")
            self.sock.settimeout(max(0.01, min(left, 1.0)))
            try:
                chunk = self.sock.recv(1 << 18)
            except TimeoutError:
                continue
            except (ConnectionResetError, ConnectionAbortedError):
                chunk = b""
            if not chunk:
                self.eof = True
                continue
            if self._pos > 1 << 20:
                del self._buffer[: self._pos]
                self._pos = 0
            self._buffer += chunk


def raw_connect(
    address: Address,
    client_id: str | None = None,
    *,
    version: int = V311,
    receive_buffer: int | None = None,
    timeout: float = 10.0,
    **connect_args: object,
) -> tuple[socket.socket, PacketStream]:
    """A TCP connection with an accepted CONNECT (asserts CONNACK success)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        # Before connect(), so that the window the broker sees stays this small.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(timeout)
    sock.connect(address)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stream = PacketStream(sock)
    sock.sendall(codec.connect(client_id or unique_id("hostile"), version=version, **connect_args))  # type: ignore[arg-type]
    frame = stream.next(time.monotonic() + timeout)
    if frame is None or frame[0] >> 4 != codec.CONNACK or frame[1][1] != 0:
        sock.close()
        raise AssertionError(f"CONNECT of a load client not accepted: {frame!r}")
    return sock, stream


def reset(sock: socket.socket) -> None:
    """Closes with a TCP RST (no TIME_WAIT left on this side)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def send_until(sock: socket.socket, data: bytes, deadline: float, keep_going: KeepGoing) -> bool:
    """Writes all of `data` unless the deadline passes or `keep_going()` turns false first.

    The socket stays in timeout mode (as PacketStream uses it from another thread): a send
    waits at most that timeout for room and is then retried.
    """
    view = memoryview(data)
    while view:
        if time.monotonic() > deadline or not keep_going():
            return False
        try:
            sent = sock.send(view)
        except TimeoutError:
            continue
        view = view[sent:]
    return True


@dataclass
class FloodResult:
    published: int
    acked: int
    elapsed: float
    stopped: str  # why the flood ended early; "" when it published everything

    @property
    def rate(self) -> float:
        return self.published / self.elapsed if self.elapsed else 0.0


class Flood:
    """One MQTT 3.1.1 publisher writing pre-encoded PUBLISH packets in batches of `batch` messages.

    At QoS 1 packet identifiers cycle through 1..65535 with at most `window` unacknowledged,
    so none is reused while outstanding; a thread counts the PUBACKs. Every batch may end with a
    QoS 1 tick (`tick_topic`, payload "<seq> <monotonic time>") for a subscriber that reads.
    """

    def __init__(self, address: Address, *, qos: int = 0, window: int = 20_000) -> None:
        self.qos = qos
        self.window = window
        self.sock, self._stream = raw_connect(address, unique_id("hostile-flood"))
        self.acked = 0
        self.ticks = 0
        self._ids = 0
        self._send_failed = False
        self._closed = threading.Event()
        self._reader = threading.Thread(target=self._count_acks, name="flood-acks", daemon=True)
        self._reader.start()

    def _count_acks(self) -> None:
        while not self._closed.is_set():
            try:
                frame = self._stream.next(time.monotonic() + 1)
            except TimeoutError:
                continue
            except (OSError, codec.MalformedError):
                self._stream.eof = True
                return
            if frame is None:
                return
            if frame[0] >> 4 == codec.PUBACK:
                self.acked += 1

    def _next_id(self) -> bytes:
        self._ids += 1
        return ((self._ids - 1) % 65535 + 1).to_bytes(2, "big")

    def _encode(self, topic: str, payload: bytes, qos: int, retain: bool) -> bytes:
        if qos == 0:
            return codec.publish(topic, payload, retain=retain, version=V311)
        return codec.publish(
            topic, payload, qos=qos, retain=retain, packet_id=int.from_bytes(self._next_id(), "big"), version=V311
        )

    def run(
        self,
        count: int,
        *,
        topic: str | Callable[[int], str],
        payload: bytes,
        deadline: float,
        keep_going: KeepGoing,
        retain: bool = False,
        tick_topic: str | None = None,
        batch: int = 1000,
    ) -> FloodResult:
        start = time.monotonic()
        fixed = None
        if isinstance(topic, str):
            body = codec.publish(topic, payload, qos=self.qos, retain=retain, packet_id=1, version=V311)
            # At QoS 1 the packet identifier sits between the topic and the payload.
            split = len(body) - len(payload) - (2 if self.qos else 0)
            fixed = (body[:split], body[len(body) - len(payload) :])
        published, stopped = 0, ""
        while published < count:
            size = min(batch, count - published)
            if self.qos:
                size = min(size, self.window)
            # At most `window` QoS 1 publishes (a tick is one) unacknowledged after this batch.
            room = self.window - size - (1 if tick_topic is not None else 0)
            while self._ids - self.acked > room and not self._stream.eof:
                if time.monotonic() > deadline or not keep_going():
                    break
                time.sleep(0.005)
            if self._stream.eof:
                stopped = "the broker closed the publisher's connection"
                break
            if fixed is not None and self.qos == 0:
                parts = [fixed[0] + fixed[1]] * size
            elif fixed is not None:
                parts = [fixed[0] + self._next_id() + fixed[1] for _ in range(size)]
            else:
                parts = [self._encode(topic(published + i), payload, self.qos, retain) for i in range(size)]  # type: ignore[operator]
            if tick_topic is not None:
                self.ticks += 1
                parts.append(self._encode(tick_topic, f"{self.ticks} {time.monotonic()}".encode(), 1, False))
            try:
                if not send_until(self.sock, b"".join(parts), deadline, keep_going):
                    late = time.monotonic() > deadline
                    stopped = "the deadline passed" if late else "the broker died or passed the RSS ceiling"
                    break
            except OSError as error:
                self._send_failed = True
                stopped = f"the broker closed the publisher's connection ({error!r})"
                break
            published += size
        return FloodResult(published, self.acked, time.monotonic() - start, stopped)

    @property
    def closed_by_broker(self) -> bool:
        """Whether the broker closed the publisher's connection (seen by the reader or the writer)."""
        return self._stream.eof or self._send_failed

    @property
    def identifiers_used(self) -> int:
        """QoS 1 publishes (ticks included) sent so far, each owed a PUBACK."""
        return self._ids

    def wait_acked(self, total: int, timeout: float) -> bool:
        """Waits until `total` PUBACKs arrived (False at once when the connection closed)."""
        end = time.monotonic() + timeout
        while self.acked < total and time.monotonic() < end and not self.closed_by_broker:
            time.sleep(0.01)
        return self.acked >= total

    def close(self, timeout: float = 30) -> bool:
        """DISCONNECT, then waits (bounded) for the broker to close: it has then read everything.
        False when it did not close within `timeout`."""
        try:
            self.sock.sendall(codec.disconnect(version=V311))
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self._reader.join(timeout)
        drained = not self._reader.is_alive()
        self._closed.set()
        reset(self.sock)
        self._reader.join(2)
        return drained


class NonReader:
    """A subscriber that subscribes and then never reads its socket (a 4 KiB receive buffer)."""

    def __init__(self, address: Address, topic_filter: str, qos: int) -> None:
        self.sock, stream = raw_connect(address, unique_id("hostile-deaf"), receive_buffer=4096)
        self.sock.sendall(codec.subscribe(1, [(topic_filter, qos)], version=V311))
        frame = stream.next(time.monotonic() + 10)
        assert frame is not None and frame[0] >> 4 == codec.SUBACK and frame[1][2] == qos, f"SUBACK {frame!r}"

    def close(self) -> None:
        reset(self.sock)
