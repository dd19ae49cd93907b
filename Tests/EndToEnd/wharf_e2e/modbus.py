"""Modbus devices for the Modbus suites (test_20..23): simulators, a serial pair, encoders.

The simulators are small Modbus TCP and RTU servers in plain Python, so that a test controls
everything a real device might do: its register values, which unit ids it answers, whether it
answers at all, and the log of every request it served (function, address, count, values).
test_20_modbus_tcp.py checks them against pymodbus' own client and encoder, so the tests do
not share a misunderstanding with the adapter.

Addresses are 0-based protocol addresses, as in wharf.yaml.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from .broker import HOST, free_port
from .client import MqttClient, Received

TABLES = ("coil", "discrete", "holding", "input")
READ_FUNCTION = {"coil": 1, "discrete": 2, "holding": 3, "input": 4}
WRITE_FUNCTIONS = (5, 6, 15, 16)

# --------------------------------------------------------------------------------------------- #
# Encoding values into registers, in every byte and word order of the contract.

_STRUCT = {
    "int16": "h",
    "uint16": "H",
    "int32": "i",
    "uint32": "I",
    "int64": "q",
    "uint64": "Q",
    "float32": "f",
    "float64": "d",
}
ORDERS_32 = ("ABCD", "BADC", "CDAB", "DCBA")
ORDERS_64 = ("ABCDEFGH", "BADCFEHG", "GHEFCDAB", "HGFEDCBA")


def width(type_name: str) -> int:
    """Registers taken by a numeric type."""
    return struct.calcsize(">" + _STRUCT[type_name]) // 2


def reorder(data: bytes, order: str) -> bytes:
    """Big-endian bytes (A first) rearranged as `order` says they travel on the wire."""
    if not order:
        return data
    letters = "ABCDEFGH"[: len(data)]
    if len(order) == 4 and len(data) == 8:  # the 4-letter names follow the same pattern on 64 bits
        order = {"ABCD": "ABCDEFGH", "BADC": "BADCFEHG", "CDAB": "GHEFCDAB", "DCBA": "HGFEDCBA"}[order]
    assert sorted(order) == sorted(letters), f"order {order} does not fit {len(data)} bytes"
    return bytes(data[letters.index(letter)] for letter in order)


def registers_of(data: bytes) -> list[int]:
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def encode(type_name: str, value: float | int, order: str = "") -> list[int]:
    """The registers a device holds for `value` of `type_name` in `order` (default ABCD...)."""
    data = struct.pack(">" + _STRUCT[type_name], value)
    return registers_of(reorder(data, order))


def decode(type_name: str, registers: list[int], order: str = "") -> float | int:
    """The inverse of encode()."""
    data = b"".join(r.to_bytes(2, "big") for r in registers)
    if order:
        letters = "ABCDEFGH"[: len(data)]
        full = order
        if len(order) == 4 and len(data) == 8:
            full = {"ABCD": "ABCDEFGH", "BADC": "BADCFEHG", "CDAB": "GHEFCDAB", "DCBA": "HGFEDCBA"}[order]
        plain = bytearray(len(data))
        for position, letter in enumerate(full):
            plain[letters.index(letter)] = data[position]
        data = bytes(plain)
    return struct.unpack(">" + _STRUCT[type_name], data)[0]


def encode_string(text: str, length: int, swap_bytes: bool = False) -> list[int]:
    """ASCII, 2 bytes per register, high byte first, NUL-padded to `length` registers."""
    data = text.encode("ascii").ljust(2 * length, b"\0")
    if swap_bytes:
        data = bytes(b for i in range(0, len(data), 2) for b in (data[i + 1], data[i]))
    return registers_of(data)


# --------------------------------------------------------------------------------------------- #
# The device model and the protocol, shared by the TCP and RTU servers.


@dataclass
class Request:
    """One request a simulator received (and whether it answered it normally)."""

    unit: int
    function: int
    address: int
    count: int
    values: list[int] | list[bool] | None
    at: float
    exception: int | None = None

    @property
    def is_write(self) -> bool:
        return self.function in WRITE_FUNCTIONS

    def covers(self, address: int) -> bool:
        return self.address <= address < self.address + self.count


@dataclass
class Device:
    """The four tables of one unit, 65536 entries each; `invalid` addresses answer exception 2."""

    coil: list[bool] = field(default_factory=lambda: [False] * 65536)
    discrete: list[bool] = field(default_factory=lambda: [False] * 65536)
    holding: list[int] = field(default_factory=lambda: [0] * 65536)
    input: list[int] = field(default_factory=lambda: [0] * 65536)
    invalid: dict[str, set[int]] = field(default_factory=lambda: {t: set() for t in TABLES})

    def set(self, table: str, address: int, values: list[int] | list[bool] | int | bool) -> None:
        items = values if isinstance(values, list) else [values]
        getattr(self, table)[address : address + len(items)] = items

    def get(self, table: str, address: int, count: int = 1) -> list:
        return list(getattr(self, table)[address : address + count])


class ModbusSimulator:
    """State and protocol logic shared by the TCP and RTU servers; thread-safe."""

    def __init__(self, units: dict[int, Device] | None = None, *, any_unit: bool = False) -> None:
        self.units: dict[int, Device] = units if units is not None else {1: Device()}
        self.any_unit = any_unit  # answer every unit id with the first device (a TCP gateway-less device)
        self.requests: list[Request] = []
        self.silent = False  # receive requests but never answer (a hung device)
        self._cond = threading.Condition()

    @property
    def device(self) -> Device:
        return next(iter(self.units.values()))

    def set(self, table: str, address: int, values: list[int] | list[bool] | int | bool, unit: int | None = None) -> None:
        with self._cond:
            (self.units[unit] if unit is not None else self.device).set(table, address, values)

    def get(self, table: str, address: int, count: int = 1, unit: int | None = None) -> list:
        with self._cond:
            return (self.units[unit] if unit is not None else self.device).get(table, address, count)

    def log(self) -> list[Request]:
        with self._cond:
            return list(self.requests)

    def writes(self) -> list[Request]:
        return [r for r in self.log() if r.is_write]

    def wait_for(self, predicate: Callable[[list[Request]], bool], timeout: float = 10.0, what: str = "") -> list[Request]:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.requests), timeout):
                tail = self.requests[-10:]
                raise AssertionError(f"simulator: {what or 'condition'} not met within {timeout} s; last requests {tail}")
            return list(self.requests)

    def wait_reads(self, address: int, count: int, *, table: str = "holding", after: int = 0, timeout: float = 10.0) -> None:
        """Waits until `count` read requests covering `address` of `table` arrived after request index `after`."""
        function = READ_FUNCTION[table]

        def enough(requests: list[Request]) -> bool:
            hits = [r for r in requests[after:] if r.function == function and r.covers(address) and r.exception is None]
            return len(hits) >= count

        self.wait_for(enough, timeout, f"{count} reads of {table} {address}")

    def handle(self, unit: int, pdu: bytes) -> bytes | None:
        """The response PDU for a request PDU, or None when the device does not answer."""
        if self.silent or not pdu:
            self._record(Request(unit, pdu[0] if pdu else 0, 0, 0, None, time.monotonic()))
            return None
        device = self.units.get(unit) or (self.device if self.any_unit else None)
        function = pdu[0]
        try:
            address, count, values, response = self._execute(device, function, pdu)
            exception = None
        except _ModbusException as error:
            address, count, values = error.address, error.count, None
            exception = error.code
            response = bytes([function | 0x80, error.code])
        if device is None and not self.any_unit:
            # An RTU unit that is not on the line stays silent; so does a TCP unit we do not serve.
            self._record(Request(unit, function, address, count, values, time.monotonic(), exception=11))
            return None
        self._record(Request(unit, function, address, count, values, time.monotonic(), exception))
        return response

    def _record(self, request: Request) -> None:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()

    def _execute(self, device: Device | None, function: int, pdu: bytes) -> tuple[int, int, list | None, bytes]:
        if len(pdu) < 5:
            raise _ModbusException(3, 0, 0)
        address, quantity = struct.unpack(">HH", pdu[1:5])
        with self._cond:
            if function in (1, 2):
                table = "coil" if function == 1 else "discrete"
                if not 1 <= quantity <= 2000:
                    raise _ModbusException(3, address, quantity)
                self._check(device, table, address, quantity)
                assert device is not None
                bits = device.get(table, address, quantity)
                packed = bytearray((quantity + 7) // 8)
                for i, bit in enumerate(bits):
                    if bit:
                        packed[i // 8] |= 1 << (i % 8)
                return address, quantity, None, bytes([function, len(packed)]) + bytes(packed)
            if function in (3, 4):
                table = "holding" if function == 3 else "input"
                if not 1 <= quantity <= 125:
                    raise _ModbusException(3, address, quantity)
                self._check(device, table, address, quantity)
                assert device is not None
                words = device.get(table, address, quantity)
                return address, quantity, None, bytes([function, 2 * quantity]) + b"".join(w.to_bytes(2, "big") for w in words)
            if function == 5:
                if quantity not in (0x0000, 0xFF00):
                    raise _ModbusException(3, address, 1)
                self._check(device, "coil", address, 1)
                assert device is not None
                device.set("coil", address, quantity == 0xFF00)
                return address, 1, [quantity == 0xFF00], pdu[:5]
            if function == 6:
                self._check(device, "holding", address, 1)
                assert device is not None
                device.set("holding", address, quantity)
                return address, 1, [quantity], pdu[:5]
            if function == 15:
                data = pdu[6 : 6 + pdu[5]] if len(pdu) > 5 else b""
                if not 1 <= quantity <= 1968 or len(data) != (quantity + 7) // 8:
                    raise _ModbusException(3, address, quantity)
                self._check(device, "coil", address, quantity)
                assert device is not None
                bits = [bool(data[i // 8] >> (i % 8) & 1) for i in range(quantity)]
                device.set("coil", address, bits)
                return address, quantity, bits, pdu[:5]
            if function == 16:
                data = pdu[6 : 6 + pdu[5]] if len(pdu) > 5 else b""
                if not 1 <= quantity <= 123 or len(data) != 2 * quantity:
                    raise _ModbusException(3, address, quantity)
                self._check(device, "holding", address, quantity)
                assert device is not None
                words = registers_of(data)
                device.set("holding", address, words)
                return address, quantity, words, pdu[:5]
        raise _ModbusException(1, address, quantity)

    @staticmethod
    def _check(device: Device | None, table: str, address: int, count: int) -> None:
        if device is None:
            raise _ModbusException(11, address, count)
        if address + count > 65536 or any(a in device.invalid[table] for a in range(address, address + count)):
            raise _ModbusException(2, address, count)


class _ModbusException(Exception):
    def __init__(self, code: int, address: int, count: int) -> None:
        super().__init__(code)
        self.code, self.address, self.count = code, address, count


# --------------------------------------------------------------------------------------------- #
# Modbus TCP


class TcpServer:
    """A Modbus TCP device on 127.0.0.1: one thread accepts, one thread per connection.

    stop() closes the listener and every connection (the device goes away: connection refused);
    start() opens the same port again. `accepts` holds the monotonic time of every connection.
    """

    def __init__(self, simulator: ModbusSimulator | None = None, port: int | None = None) -> None:
        self.sim = simulator or ModbusSimulator()
        self.host = HOST
        self.port = port or free_port()
        self.accepts: list[float] = []
        self.close_on_accept = False  # accept, then close at once (a device that drops every connection)
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> "TcpServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 10
        while True:
            try:
                listener.bind((self.host, self.port))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        listener.listen(16)
        self._listener = listener
        thread = threading.Thread(target=self._accept_loop, args=(listener,), daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, []
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            connection.close()
        for thread in self._threads:
            thread.join(5)
        self._threads = []

    def connection_count(self) -> int:
        with self._lock:
            return len(self._connections)

    def _accept_loop(self, listener: socket.socket) -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with self._lock:
                self.accepts.append(time.monotonic())
                if self._listener is not listener or self.close_on_accept:
                    connection.close()
                    continue
                self._connections.append(connection)
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, connection: socket.socket) -> None:
        buffer = b""
        try:
            while True:
                data = connection.recv(4096)
                if not data:
                    return
                buffer += data
                while len(buffer) >= 7:
                    transaction, protocol, length = struct.unpack(">HHH", buffer[:6])
                    if len(buffer) < 6 + length:
                        break
                    unit, pdu = buffer[6], buffer[7 : 6 + length]
                    buffer = buffer[6 + length :]
                    if protocol != 0:
                        return
                    response = self.sim.handle(unit, pdu)
                    if response is not None:
                        connection.sendall(struct.pack(">HHHB", transaction, 0, len(response) + 1, unit) + response)
        except OSError:
            return
        finally:
            with self._lock:
                if connection in self._connections:
                    self._connections.remove(connection)
            connection.close()


# --------------------------------------------------------------------------------------------- #
# Modbus RTU over a serial pair


def crc16(data: bytes) -> int:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _rtu_request_length(frame: bytes) -> int | None:
    """The length of the request frame at the start of `frame`, once enough of it is known."""
    if len(frame) < 2:
        return None
    function = frame[1]
    if function in (1, 2, 3, 4, 5, 6):
        return 8
    if function in (15, 16):
        return 9 + frame[6] if len(frame) >= 7 else None
    return 4  # unknown function: unit, function, CRC (answered with exception 1 if the CRC fits)


class RtuServer:
    """Modbus RTU devices (one per unit id of the simulator) on one end of a serial line."""

    def __init__(self, path: Path, simulator: ModbusSimulator | None = None) -> None:
        self.path = path
        self.sim = simulator or ModbusSimulator()
        self.bad_frames = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "RtuServer":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        import termios
        import tty

        fd = os.open(self.path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(fd)
        attrs = termios.tcgetattr(fd)
        attrs[3] &= ~termios.ECHO
        termios.tcsetattr(fd, termios.TCSANOW, attrs)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, args=(fd,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _run(self, fd: int) -> None:
        buffer, last = b"", 0.0
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([fd], [], [], 0.05)
                now = time.monotonic()
                if buffer and now - last > 0.5:
                    self.bad_frames += 1  # an incomplete frame followed by silence is dropped
                    buffer = b""
                if not ready:
                    continue
                try:
                    data = os.read(fd, 4096)
                except BlockingIOError:
                    continue
                if not data:
                    continue
                buffer, last = buffer + data, now
                while (length := _rtu_request_length(buffer)) is not None and len(buffer) >= length:
                    frame, buffer = buffer[:length], buffer[length:]
                    if crc16(frame[:-2]) != int.from_bytes(frame[-2:], "little"):
                        self.bad_frames += 1
                        buffer = b""
                        break
                    unit = frame[0]
                    response = self.sim.handle(unit, frame[1:-2])
                    if response is not None and unit != 0:
                        reply = bytes([unit]) + response
                        os.write(fd, reply + crc16(reply).to_bytes(2, "little"))
        finally:
            os.close(fd)


class SerialPair:
    """Two linked pseudo-terminals made by socat: `a` for the device, `b` for wharfd."""

    def __init__(self, directory: Path) -> None:
        self.a = directory / "tty-device"
        self.b = directory / "tty-wharfd"
        self._log = directory / "socat.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "SerialPair":
        socat = shutil.which("socat")
        assert socat, "socat is missing (scripts/install-deps.sh test installs it)"
        with open(self._log, "wb") as log:
            self.proc = subprocess.Popen(
                [socat, "-d", "-d", f"pty,raw,echo=0,link={self.a}", f"pty,raw,echo=0,link={self.b}"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while not (self.a.exists() and self.b.exists() and "starting data transfer loop" in self._log.read_text()):
            assert self.proc.poll() is None, f"socat exited: {self._log.read_text()}"
            assert time.monotonic() < deadline, f"socat made no pty pair: {self._log.read_text()}"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --------------------------------------------------------------------------------------------- #
# wharf.yaml sections and the MQTT side


def adapter_yaml(devices: str, *, name: str = "plant", **settings: object) -> str:
    """An `adapters:` section with one Modbus instance; `devices` is the YAML list under `devices:`
    indented by 6 spaces (as written by device_yaml); settings are adapter-level keys."""
    lines = ["adapters:", f"  - name: {name}", "    type: modbus"]
    for key, value in settings.items():
        lines.append(f"    {key}: {value}")
    lines.append("    devices:")
    return "\n".join(lines) + "\n" + devices.rstrip("\n") + "\n"


def device_yaml(name: str, connection: str, points: list[str], **settings: object) -> str:
    """One entry of `devices:`; `connection` is e.g. "tcp: {host: 127.0.0.1, port: 5020}" and each
    point a flow mapping such as "{name: v, table: holding, address: 0, type: float32}"."""
    lines = [f"      - name: {name}", f"        {connection}"]
    for key, value in settings.items():
        lines.append(f"        {key}: {value}")
    lines.append("        points:")
    lines.extend(f"          - {point}" for point in points)
    return "\n".join(lines) + "\n"


def tcp(server: TcpServer | int) -> str:
    port = server if isinstance(server, int) else server.port
    return f"tcp: {{host: {HOST}, port: {port}}}"


def payload(message: Received) -> dict:
    return json.loads(message.payload)


class Telemetry:
    """An MQTT 5 subscriber to the adapter's topics, with JSON helpers."""

    def __init__(self, client: MqttClient, topic_filter: str = "devices/#") -> None:
        self.client = client
        client.subscribe(topic_filter, 1)

    def messages(self, topic: str) -> list[Received]:
        return [m for m in self.client.messages.snapshot() if m.topic == topic]

    def values(self, topic: str) -> list[dict]:
        return [payload(m) for m in self.messages(topic)]

    def summary(self, limit: int = 12) -> str:
        """The last messages received, one line each, for failure messages."""
        items = self.client.messages.snapshot()
        lines = [f"  {m.topic} {m.text[:160]}" for m in items[-limit:]]
        return f"{len(items)} messages, the last {len(lines)}:\n" + "\n".join(lines)

    def _wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float, what: str) -> list[Received]:
        try:
            return self.client.messages.wait_for(predicate, timeout)
        except AssertionError:
            raise AssertionError(f"no {what} within {timeout} s; {self.summary()}") from None

    def wait(self, topic: str, predicate: Callable[[dict], bool] = lambda _: True, timeout: float = 10.0) -> dict:
        """The first message on `topic` whose JSON payload satisfies `predicate`."""

        def found(items: list[Received]) -> bool:
            return any(m.topic == topic and predicate(payload(m)) for m in items)

        items = self._wait_for(found, timeout, f"matching message on {topic}")
        return next(payload(m) for m in items if m.topic == topic and predicate(payload(m)))

    def wait_count(self, topic: str, count: int, timeout: float = 10.0) -> list[dict]:
        """The JSON payloads on `topic` once there are at least `count`."""
        self._wait_for(lambda items: sum(m.topic == topic for m in items) >= count, timeout, f"{count} messages on {topic}")
        return self.values(topic)

    def wait_all(self, topics: list[str], timeout: float = 10.0) -> dict[str, dict]:
        """The first message on each topic."""
        missing = lambda items: set(topics) - {m.topic for m in items}  # noqa: E731
        try:
            self.client.messages.wait_for(lambda items: not missing(items), timeout)
        except AssertionError:
            absent = sorted(missing(self.client.messages.snapshot()))
            raise AssertionError(f"nothing on {absent[:10]} within {timeout} s; {self.summary()}") from None
        first: dict[str, dict] = {}
        for message in self.client.messages.snapshot():
            if message.topic in topics and message.topic not in first:
                first[message.topic] = payload(message)
        return first

    def count(self) -> int:
        return len(self.client.messages.snapshot())


def iter_gaps(times: list[float]) -> Iterator[float]:
    for earlier, later in zip(times, times[1:]):
        yield later - earlier


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line number of the `occurrence`-th line containing `needle`."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in the text")
