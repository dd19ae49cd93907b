"""CoAP peers for the CoAP adapter suites (test_30..34): the adapter's YAML, free UDP ports,
`coap-client-openssl` runs, a raw UDP socket with a small CoAP codec, and aiocoap devices and
observers running on their own event loop thread."""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import struct
import subprocess
import tempfile
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator, TypeVar

import pytest

from .broker import HOST, Broker, BrokerOptions, broker_kind, free_port
from .client import MqttClient

COAP_CLIENT = os.environ.get("COAP_CLIENT", "coap-client-openssl")
WAIT = 10.0
T = TypeVar("T")

# Content-Format numbers and the MQTT 5 content type the adapter gives each (the contract's table).
CONTENT_TYPES = {
    0: "text/plain;charset=utf-8",
    40: "application/link-format",
    41: "application/xml",
    42: "application/octet-stream",
    47: "application/exi",
    50: "application/json",
    60: "application/cbor",
    110: "application/senml+json",
    112: "application/senml+cbor",
}

wharf_only = pytest.mark.wharf_only(reason="the CoAP adapter exists only in wharfd")


# --------------------------------------------------------------------------------------- #
# Ports
# --------------------------------------------------------------------------------------- #


def free_udp_port() -> int:
    """A UDP port on 127.0.0.1 that nothing is bound to, chosen as ``free_port`` chooses."""
    return free_port(socket.SOCK_DGRAM)


def udp_bound(host: str, port: int) -> bool:
    """True once a UDP socket is bound to host:port (or to 0.0.0.0:port), read from /proc/net/udp."""
    local = f"{socket.htonl(int.from_bytes(socket.inet_aton(host), 'big')):08X}:{port:04X}"
    anywhere = f"00000000:{port:04X}"
    try:
        with open("/proc/net/udp") as table:
            next(table)
            return any(line.split()[1] in (local, anywhere) for line in table)
    except OSError:
        return False


def wait_udp(broker: Broker, port: int, timeout: float = WAIT) -> None:
    """Waits until wharfd has bound its CoAP socket (it listens on TCP first)."""
    deadline = time.monotonic() + timeout
    while not udp_bound(HOST, port):
        broker.assert_alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"wharfd did not bind UDP {HOST}:{port} within {timeout} s:\n{broker.log()[-4000:]}")
        time.sleep(0.02)


# --------------------------------------------------------------------------------------- #
# The adapter's configuration
# --------------------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Psk:
    """One `dtls.psk[]` identity."""

    identity: str
    key: str
    publish: tuple[str, ...] = ("#",)
    read: tuple[str, ...] = ("#",)


@dataclass(frozen=True)
class Device:
    """One `devices[]` entry: a CoAP server that Wharf reads from (and sends commands to)."""

    name: str
    uri: str
    mode: str = "poll"
    interval: str = "1s"
    topic: str = "devices/{device}/value"
    qos: int = 0
    command_topic: str = ""
    method: str = "put"
    result_topic: str = "devices/{device}/result"


@dataclass(frozen=True)
class CoapConfig:
    """The `adapters:` entry of a CoAP adapter; `None` leaves a key at its default."""

    name: str = "coap"
    port: int = 0  # 0: a free port is picked when the config is rendered
    allow_plain: bool | None = None
    max_payload: int | None = None
    path_prefix: str | None = None
    topic: str | None = None
    qos: int | None = None
    retain: bool | None = None
    observe_confirmable: bool | None = None
    max_observers: int | None = None
    dtls_port: int = 0  # with psk: DTLS on this port (0: a free port)
    psk: tuple[Psk, ...] = ()
    devices: tuple[Device, ...] = ()

    @property
    def dtls(self) -> bool:
        return bool(self.psk)

    def with_ports(self) -> "CoapConfig":
        """The same config with free UDP ports where none is given."""
        import dataclasses

        port = self.port or free_udp_port()
        dtls_port = self.dtls_port or (free_udp_port() if self.dtls else 0)
        return dataclasses.replace(self, port=port, dtls_port=dtls_port)

    def yaml(self) -> str:
        """The `adapters:` section for wharf.yaml (ports must be set: see `with_ports`)."""
        q = json.dumps
        flag = lambda value: "true" if value else "false"  # noqa: E731
        lines = [
            "adapters:",
            f"  - name: {q(self.name)}",
            "    type: coap",
            f"    bind: {HOST}",
            f"    port: {self.port}",
        ]
        if self.allow_plain is not None:
            lines.append(f"    allow_plain: {flag(self.allow_plain)}")
        if self.max_payload is not None:
            lines.append(f"    max_payload: {self.max_payload}")
        ingest = []
        if self.path_prefix is not None:
            ingest.append(f"      path_prefix: {q(self.path_prefix)}")
        if self.topic is not None:
            ingest.append(f"      topic: {q(self.topic)}")
        if self.qos is not None:
            ingest.append(f"      qos: {self.qos}")
        if self.retain is not None:
            ingest.append(f"      retain: {flag(self.retain)}")
        if ingest:
            lines += ["    ingest:", *ingest]
        observe = []
        if self.observe_confirmable is not None:
            observe.append(f"      confirmable: {flag(self.observe_confirmable)}")
        if self.max_observers is not None:
            observe.append(f"      max_observers: {self.max_observers}")
        if observe:
            lines += ["    observe:", *observe]
        if self.dtls:
            lines += ["    dtls:", "      enabled: true", f"      port: {self.dtls_port}", "      psk:"]
            for psk in self.psk:
                lines += [
                    f"        - identity: {q(psk.identity)}",
                    f"          key: {q(psk.key)}",
                    f"          publish: {q(list(psk.publish))}",
                    f"          read: {q(list(psk.read))}",
                ]
        if self.devices:
            lines.append("    devices:")
            for device in self.devices:
                lines += [
                    f"      - name: {q(device.name)}",
                    f"        uri: {q(device.uri)}",
                    f"        mode: {device.mode}",
                    f"        interval: {device.interval}",
                    f"        topic: {q(device.topic)}",
                    f"        qos: {device.qos}",
                    f"        command_topic: {q(device.command_topic)}",
                    f"        method: {device.method}",
                    f"        result_topic: {q(device.result_topic)}",
                ]
        return "\n".join(lines) + "\n"


@dataclass
class CoapGateway:
    """wharfd with a running CoAP adapter: the broker plus the adapter's addresses."""

    broker: Broker
    config: CoapConfig

    @property
    def host(self) -> str:
        return self.broker.host

    @property
    def port(self) -> int:
        return self.broker.port

    def url(self, path: str = "", *, secure: bool = False) -> str:
        """`coap://127.0.0.1:PORT/<path>` (or coaps:// on the DTLS port)."""
        if secure:
            return f"coaps://{HOST}:{self.config.dtls_port}/{path.lstrip('/')}"
        return f"coap://{HOST}:{self.config.port}/{path.lstrip('/')}"

    def wait_ready(self) -> "CoapGateway":
        wait_udp(self.broker, self.config.port)
        if self.config.dtls:
            wait_udp(self.broker, self.config.dtls_port)
        return self


def start_coap_gateway(broker: Broker, config: CoapConfig) -> CoapGateway:
    """Starts a broker whose options already carry `config.yaml()` and waits for its UDP sockets."""
    broker.start()
    return CoapGateway(broker, config).wait_ready()


@pytest.fixture
def coap_factory(tmp_path: Path) -> Iterator[Callable[..., CoapGateway]]:
    """make(CoapConfig(...), **BrokerOptions changes): wharfd with a CoAP adapter on free UDP ports.

    Stopped with SIGTERM at teardown; a crash or an unclean exit fails the test, as with `broker`.
    """
    made: list[Broker] = []

    def make(config: CoapConfig = CoapConfig(), **changes: object) -> CoapGateway:
        config = config.with_ports()
        options = BrokerOptions().with_changes(**changes)
        options = options.with_changes(wharf_extra_yaml=options.wharf_extra_yaml + config.yaml())
        workdir = tmp_path / f"wharfd{len(made)}"
        workdir.mkdir()
        broker = Broker(broker_kind(), options, workdir)
        made.append(broker)
        return start_coap_gateway(broker, config)

    yield make
    for broker in made:
        broker.stop()
    for broker in made:
        broker.check_clean_exit()


@pytest.fixture
def coap_mqtt(request: pytest.FixtureRequest) -> Iterator[Callable[..., MqttClient]]:
    """make(target, version=5, connect=True, **MqttClient kwargs): paho clients for a CoapGateway."""
    made: list[MqttClient] = []

    def make(target: CoapGateway | Broker, *, version: int = 5, connect: bool = True, **kwargs: Any) -> MqttClient:
        client = MqttClient(target.host, target.port, version=version, **kwargs)
        made.append(client)
        if connect:
            client.connect()
        return client

    yield make
    for client in made:
        client.close()


# --------------------------------------------------------------------------------------- #
# coap-client-openssl
# --------------------------------------------------------------------------------------- #

# "v:1 t:ACK c:2.04 i:8eeb {01} [ ... ] :: 'payload'" as coap-client logs each PDU at -v 6.
_PDU = re.compile(r"^v:1 t:(CON|NON|ACK|RST) c:(\S+) i:([0-9a-f]+) \{([0-9a-f]*)\} \[(.*?)\]")
_RESPONSE_CODE = re.compile(r"^\d\.\d\d$")


@dataclass
class Pdu:
    """One PDU that coap-client logged."""

    type: str
    code: str
    options: str

    @property
    def is_response(self) -> bool:
        return bool(_RESPONSE_CODE.match(self.code))


@dataclass
class CoapReply:
    """What one coap-client run saw."""

    command: list[str]
    returncode: int
    pdus: list[Pdu]
    payload: bytes
    stdout: str
    stderr: str

    @property
    def responses(self) -> list[Pdu]:
        return [p for p in self.pdus if p.is_response]

    @property
    def code(self) -> str | None:
        """The code of the last response (e.g. "2.04"), or None when none arrived."""
        responses = self.responses
        if responses:
            return responses[-1].code
        # Error responses are also written to stderr as "4.04 Not Found".
        match = re.search(r"^(\d\.\d\d) ", self.stderr, re.M)
        return match.group(1) if match else None

    def __str__(self) -> str:
        return (
            f"{' '.join(self.command)} -> exit {self.returncode}, code {self.code}\n"
            f"stdout: {self.stdout[-1500:]}\nstderr: {self.stderr[-1500:]}"
        )


def coap_client(
    url: str,
    *,
    method: str = "get",
    data: bytes | None = None,
    content_format: int | str | None = None,
    non_confirmable: bool = False,
    block_size: int | None = None,
    observe_seconds: int | None = None,
    psk: tuple[str, str] | None = None,
    wait: int = 5,
    extra: tuple[str, ...] = (),
    timeout: float = 20.0,
) -> CoapReply:
    """Runs coap-client-openssl once and returns the PDUs it logged and the payload it received.

    `psk` is (identity, key). `wait` is -B (seconds to wait for an answer); the process itself
    is bounded by `timeout`.
    """
    with tempfile.TemporaryDirectory(prefix="coap-client-") as scratch:
        out = Path(scratch) / "payload"
        command = [COAP_CLIENT, "-v", "6", "-m", method, "-B", str(wait), "-o", str(out)]
        if data is not None:
            body = Path(scratch) / "body"
            body.write_bytes(data)
            command += ["-f", str(body)]
        if content_format is not None:
            command += ["-t", str(content_format)]
        if non_confirmable:
            command.append("-N")
        if block_size is not None:
            command += ["-b", str(block_size)]
        if observe_seconds is not None:
            command += ["-s", str(observe_seconds)]
        if psk is not None:
            command += ["-u", psk[0], "-k", psk[1]]
        command += [*extra, url]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as expired:
            raise AssertionError(f"{' '.join(command)} did not finish within {timeout} s") from expired
        stdout = done.stdout.decode(errors="replace")
        pdus = []
        for line in stdout.splitlines():
            match = _PDU.match(line.strip())
            if match:
                pdus.append(Pdu(match.group(1), match.group(2), match.group(5)))
        payload = out.read_bytes() if out.exists() else b""
        return CoapReply(command, done.returncode, pdus, payload, stdout, done.stderr.decode(errors="replace"))


def post(gateway: CoapGateway, path: str, data: bytes, **kwargs: Any) -> CoapReply:
    """POST `data` to coap://gateway/<path> (confirmable unless non_confirmable=True)."""
    return coap_client(gateway.url(path), method="post", data=data, **kwargs)


def assert_code(reply: CoapReply, code: str) -> None:
    assert reply.code == code, f"expected {code}: {reply}"


# --------------------------------------------------------------------------------------- #
# Raw UDP: a small CoAP codec (RFC 7252 section 3)
# --------------------------------------------------------------------------------------- #

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


# --------------------------------------------------------------------------------------- #
# aiocoap on an event loop thread
# --------------------------------------------------------------------------------------- #


class LoopThread:
    """An asyncio event loop on its own daemon thread; `run` executes a coroutine there, bounded."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="aiocoap", daemon=True)
        self.thread.start()

    def run(self, coroutine: Awaitable[T], timeout: float = WAIT) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)  # type: ignore[arg-type]
        return future.result(timeout)

    def call(self, function: Callable[[], Any]) -> None:
        self.loop.call_soon_threadsafe(function)

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


class Events:
    """A thread-safe list with bounded waits (aiocoap callbacks add, tests wait)."""

    def __init__(self) -> None:
        self.items: list[Any] = []
        self._cond = threading.Condition()

    def add(self, item: Any) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Any]], bool], timeout: float = WAIT) -> list[Any]:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.items), timeout):
                raise AssertionError(f"condition not met within {timeout} s; have {self.items[-10:]}")
            return list(self.items)

    def wait(self, count: int, timeout: float = WAIT) -> list[Any]:
        return self.wait_for(lambda items: len(items) >= count, timeout)

    def snapshot(self) -> list[Any]:
        with self._cond:
            return list(self.items)


class CoapDevice:
    """A CoAP server played by aiocoap on 127.0.0.1 and a free port, as a sensor with an actuator.

    - `/temp`: GET returns `value` as text/plain; observable; `set(value)` notifies observers.
      Every GET (plain or Observe registration) is counted in `gets`/`observes`.
    - `/led`: PUT/POST stores the payload in `commands` and answers 2.04 `ok:<payload>`.
    """

    def __init__(self, loop: LoopThread, value: bytes = b"20.0") -> None:
        self.loop = loop
        self.port = free_udp_port()
        self.value = value
        self.gets = 0
        self.observes = 0
        self.commands = Events()
        self._temp: Any = None
        self._context: Any = None

    @property
    def url(self) -> str:
        return f"coap://{HOST}:{self.port}"

    def start(self) -> "CoapDevice":
        self.loop.run(self._start())
        return self

    async def _start(self) -> None:
        import aiocoap
        import aiocoap.resource as resource

        device = self

        class Temp(resource.ObservableResource):
            async def render_get(self, request: aiocoap.Message) -> aiocoap.Message:
                if request.opt.observe is not None:
                    device.observes += 1
                else:
                    device.gets += 1
                return aiocoap.Message(payload=device.value, content_format=0)

        class Led(resource.Resource):
            async def _command(self, request: aiocoap.Message) -> aiocoap.Message:
                device.commands.add(request.payload)
                return aiocoap.Message(code=aiocoap.CHANGED, payload=b"ok:" + request.payload)

            render_put = _command
            render_post = _command

        site = resource.Site()
        self._temp = Temp()
        site.add_resource(["temp"], self._temp)
        site.add_resource(["led"], Led())
        self._context = await aiocoap.Context.create_server_context(site, bind=(HOST, self.port))

    def set(self, value: bytes) -> None:
        """A new reading: observers get a notification."""

        def update() -> None:
            self.value = value
            self._temp.updated_state()

        self.loop.call(update)

    def stop(self) -> None:
        if self._context is not None:
            try:
                self.loop.run(self._context.shutdown(), timeout=5)
            except Exception:  # noqa: BLE001 - teardown must not mask the test's result
                pass
            self._context = None


@dataclass
class Notification:
    """One response of an aiocoap observation (the first response included)."""

    code: str
    payload: bytes
    content_format: int | None
    observe: int | None


class CoapObserver:
    """An aiocoap client observing one URI; every response lands in `notifications`."""

    def __init__(self, loop: LoopThread, url: str) -> None:
        self.loop = loop
        self.url = url
        self.notifications = Events()
        self.ended = threading.Event()
        self._request: Any = None
        self._context: Any = None
        self._task: Any = None

    def start(self, timeout: float = WAIT) -> Notification:
        """Registers; returns the first response (the current value, or an error code)."""
        return self.loop.run(self._start(), timeout)

    async def _start(self) -> Notification:
        import aiocoap

        self._context = await aiocoap.Context.create_client_context()
        self._request = self._context.request(aiocoap.Message(code=aiocoap.GET, uri=self.url, observe=0))
        first = await self._request.response
        self.notifications.add(self._notification(first))
        self._task = asyncio.ensure_future(self._follow())
        return self.notifications.items[0]

    @staticmethod
    def _notification(message: Any) -> Notification:
        cf = message.opt.content_format
        return Notification(
            str(message.code.dotted), bytes(message.payload), None if cf is None else int(cf), message.opt.observe
        )

    async def _follow(self) -> None:
        try:
            async for message in self._request.observation:
                self.notifications.add(self._notification(message))
        except Exception:  # noqa: BLE001 - the observation ended (error response or cancellation)
            pass
        finally:
            self.ended.set()

    def payloads(self) -> list[bytes]:
        return [n.payload for n in self.notifications.snapshot()]

    def stop(self) -> None:
        async def stop() -> None:
            if self._request is not None and not self._request.observation.cancelled:
                self._request.observation.cancel()
            if self._task is not None:
                self._task.cancel()
            if self._context is not None:
                await self._context.shutdown()

        try:
            self.loop.run(stop(), timeout=5)
        except Exception:  # noqa: BLE001 - teardown must not mask the test's result
            pass


async def aiocoap_request(method: str, url: str, payload: bytes = b"", **options: Any) -> Notification:
    """One aiocoap request with its own client context."""
    import aiocoap

    context = await aiocoap.Context.create_client_context()
    try:
        code = getattr(aiocoap, method.upper())
        response = await context.request(aiocoap.Message(code=code, uri=url, payload=payload, **options)).response
        return CoapObserver._notification(response)
    finally:
        await context.shutdown()


@pytest.fixture
def coap_loop() -> Iterator[LoopThread]:
    """An event loop thread for aiocoap devices and observers, stopped at teardown."""
    loop = LoopThread()
    yield loop
    loop.stop()


@pytest.fixture
def coap_device(coap_loop: LoopThread) -> Iterator[Callable[..., CoapDevice]]:
    """make(value=b"20.0"): a started aiocoap device (see CoapDevice)."""
    made: list[CoapDevice] = []

    def make(value: bytes = b"20.0") -> CoapDevice:
        device = CoapDevice(coap_loop, value).start()
        made.append(device)
        return device

    yield make
    for device in made:
        device.stop()


@pytest.fixture
def coap_observer(coap_loop: LoopThread) -> Iterator[Callable[..., CoapObserver]]:
    """make(url): an unstarted aiocoap observer, cancelled at teardown."""
    made: list[CoapObserver] = []

    def make(url: str) -> CoapObserver:
        observer = CoapObserver(coap_loop, url)
        made.append(observer)
        return observer

    yield make
    for observer in made:
        observer.stop()


# --------------------------------------------------------------------------------------- #
# Checks
# --------------------------------------------------------------------------------------- #


def assert_coap_serves(gateway: CoapGateway, subscriber: MqttClient, topic: str = "e2e/coap/alive") -> None:
    """wharfd is alive and a confirmable POST still arrives on MQTT."""
    gateway.broker.assert_alive()
    marker = f"alive-{time.monotonic_ns()}".encode()
    reply = post(gateway, f"t/{topic}", marker)
    assert_code(reply, "2.04")
    subscriber.messages.wait_for(lambda got: any(m.topic == topic and m.payload == marker for m in got))
    gateway.broker.assert_alive()


def metric_lines(text: str, name: str) -> list[str]:
    """The samples of one Prometheus metric in a /metrics text."""
    return [line for line in text.splitlines() if line.startswith(name + "{") or line.startswith(name + " ")]
