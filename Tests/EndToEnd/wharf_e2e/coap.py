"""The CoAP adapter under test (suites test_30..35): its YAML, free UDP ports, and wharfd started
with it. Peers live next to it: `coap_cli` (coap-client-openssl), `coap_raw` (hand-made
datagrams) and `coap_aio` (aiocoap devices and observers)."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from .broker import HOST, Broker, BrokerOptions, broker_kind, free_port
from .client import MqttClient

WAIT = 10.0

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
class CertSubject:
    """One `dtls.certificates[]` entry: a client certificate subject CN and what it may do."""

    subject: str
    publish: tuple[str, ...] = ("#",)
    read: tuple[str, ...] = ("#",)


@dataclass(frozen=True)
class ServerCert:
    """`dtls.cert_file`, `key_file` and `ca_file` ("" leaves a key out)."""

    cert_file: str
    key_file: str
    ca_file: str = ""


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
    # The suites publish plain requests to topics of every shape, so they open `plain.publish`
    # unless a test asks for the default (None) or its own filters.
    plain_publish: tuple[str, ...] | None = ("#",)
    plain_read: tuple[str, ...] | None = None
    dtls_port: int = 0  # with psk or a server certificate: DTLS on this port (0: a free port)
    psk: tuple[Psk, ...] = ()
    server_cert: ServerCert | None = None
    certificates: tuple[CertSubject, ...] = ()
    devices: tuple[Device, ...] = ()

    @property
    def dtls(self) -> bool:
        return bool(self.psk) or self.server_cert is not None

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
        plain = []
        if self.plain_publish is not None:
            plain.append(f"      publish: {q(list(self.plain_publish))}")
        if self.plain_read is not None:
            plain.append(f"      read: {q(list(self.plain_read))}")
        if plain:
            lines += ["    plain:", *plain]
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
            lines += ["    dtls:", "      enabled: true", f"      port: {self.dtls_port}"]
            if self.psk:
                lines.append("      psk:")
            for psk in self.psk:
                lines += [
                    f"        - identity: {q(psk.identity)}",
                    f"          key: {q(psk.key)}",
                    f"          publish: {q(list(psk.publish))}",
                    f"          read: {q(list(psk.read))}",
                ]
            if self.server_cert is not None:
                for key in ("cert_file", "key_file", "ca_file"):
                    value = getattr(self.server_cert, key)
                    if value:
                        lines.append(f"      {key}: {q(value)}")
            if self.certificates:
                lines.append("      certificates:")
            for entry in self.certificates:
                lines += [
                    f"        - subject: {q(entry.subject)}",
                    f"          publish: {q(list(entry.publish))}",
                    f"          read: {q(list(entry.read))}",
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
    """make(CoapConfig(...), other_adapters="", **BrokerOptions changes): wharfd with a CoAP adapter
    on free UDP ports (and the `adapters:` entries in `other_adapters` after it).

    Stopped with SIGTERM at teardown; a crash or an unclean exit fails the test, as with `broker`.
    """
    made: list[Broker] = []

    def make(config: CoapConfig = CoapConfig(), *, other_adapters: str = "", **changes: object) -> CoapGateway:
        config = config.with_ports()
        options = BrokerOptions().with_changes(**changes)
        # Entries of other adapters ("  - name: ..." lines) join the same `adapters:` list.
        adapters = config.yaml() + other_adapters
        options = options.with_changes(wharf_extra_yaml=options.wharf_extra_yaml + adapters)
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


def metric_lines(text: str, name: str) -> list[str]:
    """The samples of one Prometheus metric in a /metrics text."""
    return [line for line in text.splitlines() if line.startswith(name + "{") or line.startswith(name + " ")]
