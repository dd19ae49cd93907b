"""08: TLS and WebSocket listeners on the broker, on wharfd and Mosquitto.

Every broker gets a plain listener (on which the harness waits for start-up) and a TLS listener
with the same certificates, made with openssl for each test: a CA, a server certificate for
127.0.0.1, client certificates, an expired one, and an unrelated CA. Clients are paho-mqtt
and mosquitto_pub/sub. A handshake the broker refuses shows as an SSL error, or (TLS 1.3, where
the server checks the client's certificate after the client has finished) as a connection
closed before CONNACK; both count as refused.
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wharf_e2e.broker import Broker, BrokerOptions, broker_kind, free_port, wharfd_path
from wharf_e2e.certs import Certificates
from wharf_e2e.cli import MOSQUITTO_PUB, mosquitto_pub, start_mosquitto_sub
from wharf_e2e import codec
from wharf_e2e.admin import wharfctl
from wharf_e2e.client import MqttClient, unique_id

QUIET = 0.5  # seconds to wait for a message that must not arrive
STALL_CLOSED_WITHIN = 30.0  # bound on waiting for wharfd to close a stalled handshake (its CONNECT timeout is 10 s)


@dataclass
class TLSListener:
    """What a client needs to reach the TLS listener of a started broker."""

    broker: Broker
    port: int
    certs: Certificates
    ws_port: int = 0  # MQTT over WebSocket, plain (0: none)
    wss_port: int = 0  # MQTT over WebSocket over TLS (0: none)

    @property
    def host(self) -> str:
        return self.broker.host


def listening(port: int) -> bool:
    """Whether a socket listens on `port`, IPv4 or IPv6 (Mosquitto's WebSocket listeners are
    dual-stack IPv6 sockets); read from /proc so that no probe connection reaches the broker."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in rows.readlines()[1:]:
                fields = row.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    return True
    return False


class TLSBroker(Broker):
    """A broker with its plain listener and a TLS listener described by `wharf_listener` (wharfd)
    or `mosquitto_extra` (Mosquitto); wharfd reads both listeners from its file, not --listen."""

    def command(self) -> list[str]:
        command = super().command()
        if self.is_wharfd:
            at = command.index("--listen")
            del command[at : at + 2]
        return command


@pytest.fixture
def tls_broker(tmp_path: Path, certificates: Certificates) -> Iterator[Callable[..., TLSListener]]:
    started: list[Broker] = []

    def start(
        *,
        require_certificate: bool = False,
        use_identity: bool = False,
        acl: str | None = None,
        allow_anonymous: bool = True,
        websocket: bool = False,
    ) -> TLSListener:
        port = free_port()
        ws_port, wss_port = (free_port(), free_port()) if websocket else (0, 0)
        certs = certificates
        options = BrokerOptions(allow_anonymous=allow_anonymous)
        if acl is not None:
            acl_path = tmp_path / "acl"
            acl_path.write_text(acl)
            options = options.with_changes(acl_file=str(acl_path))
        workdir = tmp_path / f"broker-{len(started)}"
        workdir.mkdir()
        kind = broker_kind()
        if kind == "wharfd":
            tls = [
                f"      cert_file: {certs.server_cert}",
                f"      key_file: {certs.server_key}",
                f"      ca_file: {certs.ca_file}",
                f"      require_certificate: {'true' if require_certificate else 'false'}",
            ]
            listeners: tuple[str, ...] = (
                "listeners:",
                "  - name: plain",
                "    port: {plain}",
                "  - name: lan-tls",
                f"    port: {port}",
                f"    use_identity_as_username: {'true' if use_identity else 'false'}",
                "    tls:",
                *tls,
            )
            if websocket:
                listeners += (
                    "  - name: ws",
                    "    protocol: websocket",
                    f"    port: {ws_port}",
                    "  - name: wss",
                    "    protocol: websocket",
                    f"    port: {wss_port}",
                    "    tls:",
                    *tls,
                )
            options = options.with_changes(wharf_broker_extra=listeners)
        else:
            extra = ["user root"] if os.geteuid() == 0 else []
            extra += [
                f"listener {port} 127.0.0.1",
                f"cafile {certs.ca_file}",
                f"certfile {certs.server_cert}",
                f"keyfile {certs.server_key}",
                f"require_certificate {'true' if require_certificate else 'false'}",
                f"use_identity_as_username {'true' if use_identity else 'false'}",
            ]
            if websocket:
                extra += [f"listener {ws_port} 127.0.0.1", "protocol websockets"]
                extra += [
                    f"listener {wss_port} 127.0.0.1",
                    "protocol websockets",
                    f"cafile {certs.ca_file}",
                    f"certfile {certs.server_cert}",
                    f"keyfile {certs.server_key}",
                    f"require_certificate {'true' if require_certificate else 'false'}",
                ]
            options = options.with_changes(mosquitto_extra=tuple(extra))
        broker = TLSBroker(kind, options, workdir)
        # The plain listener's port is only known once the broker object has picked it.
        broker.options = broker.options.with_changes(
            wharf_broker_extra=tuple(line.replace("{plain}", str(broker.port)) for line in options.wharf_broker_extra)
        )
        broker.start()
        started.append(broker)
        # The harness waits for the plain listener; the others are bound right after it.
        deadline = time.monotonic() + 10
        for other in (port, ws_port, wss_port):
            while other and not listening(other):
                assert time.monotonic() < deadline, f"port {other} is not listening:\n{broker.log()}"
                time.sleep(0.02)
        return TLSListener(broker, port, certs, ws_port, wss_port)

    yield start
    for broker in started:
        broker.stop()
    for broker in started:
        broker.check_clean_exit()


def tls_client(
    listener: TLSListener,
    *,
    ca: str | None = None,
    cert: tuple[str, str] | None = None,
    username: str | None = None,
) -> MqttClient:
    client = MqttClient(listener.host, listener.port, client_id=unique_id("tls"), username=username)
    certfile, keyfile = cert if cert is not None else (None, None)
    client.paho.tls_set(ca_certs=ca or listener.certs.ca_file, certfile=certfile, keyfile=keyfile)
    return client


def refused(client: MqttClient) -> bool:
    """Whether the broker refuses the client's TLS session (before or right after the handshake)."""
    try:
        connack = client.connect(expect_success=False, timeout=5)
    except (ssl.SSLError, OSError, AssertionError):
        return True
    finally:
        client.close()
    return connack.reason_code >= 0x80


def tls_args(listener: TLSListener, cert: tuple[str, str] | None = None, ca: str | None = None) -> list[str]:
    args = ["--cafile", ca or listener.certs.ca_file]
    if cert is not None:
        args += ["--cert", cert[0], "--key", cert[1]]
    return args


def test_paho_and_mosquitto_clients_talk_over_tls_without_client_certificates(
    tls_broker: Callable[..., TLSListener],
) -> None:
    listener = tls_broker()
    subscriber = tls_client(listener)
    subscriber.connect()
    topic = f"tls/{unique_id()}"
    subscriber.subscribe(topic, qos=1)
    mosquitto_pub(listener.host, listener.port, topic, "over-tls", qos=1, extra=tls_args(listener))
    assert [m.text for m in subscriber.messages.wait(1)] == ["over-tls"]

    sub = start_mosquitto_sub(listener.host, listener.port, [topic], qos=1, extra=tls_args(listener))
    try:
        assert sub.subscribed.wait(10)
        subscriber.publish(topic, b"from-paho", qos=1)
        assert [m.text for m in sub.wait(1)] == ["from-paho"]
    finally:
        sub.stop()
        subscriber.close()


def test_a_client_that_trusts_another_ca_does_not_connect(tls_broker: Callable[..., TLSListener]) -> None:
    listener = tls_broker()
    assert refused(tls_client(listener, ca=listener.certs.other_ca_file))
    done = subprocess.run(
        [MOSQUITTO_PUB, "-h", listener.host, "-p", str(listener.port), "-t", "x", "-m", "x",
         *tls_args(listener, ca=listener.certs.other_ca_file)],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode != 0


def test_a_required_certificate_admits_only_clients_of_the_ca(tls_broker: Callable[..., TLSListener]) -> None:
    listener = tls_broker(require_certificate=True)
    certs = listener.certs
    good = tls_client(listener, cert=(certs.client_cert, certs.client_key))
    good.connect()
    good.close()
    mosquitto_pub(
        listener.host, listener.port, "t", "with-cert", extra=tls_args(listener, (certs.client_cert, certs.client_key))
    )

    assert refused(tls_client(listener)), "a client without a certificate was admitted"
    done = subprocess.run(
        [MOSQUITTO_PUB, "-h", listener.host, "-p", str(listener.port), "-t", "x", "-m", "x", *tls_args(listener)],
        capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode != 0

    foreign = certs.add_client("foreign", "/CN=foreign", issuer="other-ca")
    assert refused(tls_client(listener, cert=foreign)), "a certificate of another CA was admitted"
    expired = certs.add_expired_client("expired", "/CN=expired")
    assert refused(tls_client(listener, cert=expired)), "an expired certificate was admitted"
    # The broker still serves after refusing them.
    again = tls_client(listener, cert=(certs.client_cert, certs.client_key))
    again.connect()
    again.close()
    if listener.broker.is_wharfd:
        # Logged once for the burst (at most a line a minute per listener), naming the listener.
        log = listener.broker.log()
        lines = [line for line in log.splitlines() if "TLS handshake with a client failed" in line]
        assert len(lines) == 1, log[-3000:]
        assert "lan-tls" in lines[0]


@pytest.mark.wharf_only(
    reason="Mosquitto asks for no client certificate unless require_certificate is true, so it never sees one"
)
def test_optional_certificates_are_still_verified(tls_broker: Callable[..., TLSListener]) -> None:
    listener = tls_broker(require_certificate=False)
    expired = listener.certs.add_expired_client("expired", "/CN=expired")
    plain = tls_client(listener)
    plain.connect()
    plain.close()
    with_good = tls_client(listener, cert=(listener.certs.client_cert, listener.certs.client_key))
    with_good.connect()
    with_good.close()
    assert refused(tls_client(listener, cert=expired)), "an expired certificate was accepted"


ACL = """\
user sensor-7
topic readwrite plant/sensor-7/#

user observer
topic read plant/#
"""


def test_the_certificate_cn_is_the_user_name_the_acl_confines(tls_broker: Callable[..., TLSListener]) -> None:
    listener = tls_broker(require_certificate=True, use_identity=True, acl=ACL, allow_anonymous=False)
    certs = listener.certs
    observer = tls_client(listener, cert=certs.add_client("observer", "/CN=observer"))
    observer.connect()
    observer.subscribe("plant/#", qos=1)

    # The user name a client claims is replaced by its certificate's CN.
    sensor = tls_client(listener, cert=certs.add_client("sensor-7", "/CN=sensor-7"), username="observer")
    sensor.connect()
    own = "plant/sensor-7/temperature"
    sensor.publish(own, b"21.5", qos=1)
    sensor.publish("plant/sensor-8/temperature", b"99", qos=1)
    assert [m.topic for m in observer.messages.wait(1)] == [own]

    # A CN no ACL section names reaches nothing, whatever user name it claims.
    stranger = tls_client(listener, cert=certs.add_client("stranger", "/CN=stranger"), username="sensor-7")
    stranger.connect()
    stranger.publish(own, b"forged", qos=1)
    sensor.publish(own, b"22.0", qos=1)
    observer.messages.wait(2)
    time.sleep(QUIET)
    assert [m.text for m in observer.messages.snapshot()] == ["21.5", "22.0"]
    for client in (stranger, sensor, observer):
        client.close()


def test_a_stalled_handshake_does_not_hold_up_other_clients(tls_broker: Callable[..., TLSListener]) -> None:
    listener = tls_broker()
    stalled = []
    for _ in range(8):
        raw = socket.create_connection((listener.host, listener.port), timeout=5)
        raw.sendall(b"\x16\x03\x01\x00")  # the start of a TLS record, and then nothing
        stalled.append(raw)
    try:
        for _ in range(3):
            client = tls_client(listener)
            client.connect()
            topic = f"tls/{unique_id()}"
            client.subscribe(topic)
            client.publish(topic, b"x")
            assert client.messages.wait(1)
            client.close()
    finally:
        for raw in stalled:
            raw.close()


@pytest.mark.wharf_only(reason="wharfd closes a TLS handshake that is not done within its CONNECT timeout")
def test_a_stalled_handshake_is_closed(tls_broker: Callable[..., TLSListener]) -> None:
    listener = tls_broker()
    raw = socket.create_connection((listener.host, listener.port), timeout=STALL_CLOSED_WITHIN)
    try:
        raw.sendall(b"\x16\x03\x01\x00")
        assert raw.recv(1) == b"", "the broker sent something to a stalled handshake"
    except ConnectionResetError:
        pass
    finally:
        raw.close()


# --- configuration errors (wharfd only) -------------------------------------------------- #


def check(tmp_path: Path, tls: str, use_identity: bool = False) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "wharf.yaml"
    config.write_text(
        "admin:\n  enabled: false\nbroker:\n  listeners:\n    - name: lan-tls\n      port: 8883\n"
        + ("      use_identity_as_username: true\n" if use_identity else "")
        + "      tls:\n"
        + tls
    )
    return subprocess.run(
        [str(wharfd_path()), "--config", str(config), "--check"],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.wharf_only(reason="wharfd --check")
def test_check_names_file_line_and_key_of_unusable_tls_files(tmp_path: Path, certificates: Certificates) -> None:
    config = str(tmp_path / "wharf.yaml")
    missing = tmp_path / "missing.crt"
    done = check(tmp_path, f"        cert_file: {missing}\n        key_file: {certificates.server_key}\n")
    assert done.returncode != 0
    assert f"{config}:8:20: broker.listeners[0].tls.cert_file: cannot read '{missing}'" in done.stderr + done.stdout
    # wharfctl check says the same.
    checked = wharfctl("check", config)
    assert checked.returncode != 0
    assert f"{config}:8:20: broker.listeners[0].tls.cert_file: cannot read '{missing}'" in checked.stdout + checked.stderr

    done = check(tmp_path, f"        cert_file: {certificates.server_cert}\n        key_file: {certificates.client_key}\n")
    assert done.returncode != 0
    assert (
        f"{config}:9:19: broker.listeners[0].tls.key_file: '{certificates.client_key}' does not match the certificate"
        in done.stderr + done.stdout
    )

    done = check(tmp_path, f"        cert_file: {certificates.server_key}\n        key_file: {certificates.server_key}\n")
    assert done.returncode != 0
    assert "broker.listeners[0].tls.cert_file: " in done.stderr + done.stdout
    assert "is not a PEM certificate chain" in done.stderr + done.stdout

    done = check(
        tmp_path,
        f"        cert_file: {certificates.server_cert}\n        key_file: {certificates.server_key}\n",
        use_identity=True,
    )
    assert done.returncode != 0
    assert "broker.listeners[0].use_identity_as_username: use_identity_as_username needs" in done.stderr + done.stdout

    done = check(
        tmp_path,
        f"        cert_file: {certificates.server_cert}\n        key_file: {certificates.server_key}\n"
        f"        ca_file: {certificates.ca_file}\n        require_certificate: true\n",
        use_identity=True,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.wharf_only(reason="wharfd start-up")
def test_wharfd_refuses_to_start_with_a_key_that_does_not_match(tmp_path: Path, certificates: Certificates) -> None:
    config = tmp_path / "wharf.yaml"
    config.write_text(
        "admin:\n  enabled: false\nbroker:\n  listeners:\n"
        f"    - name: lan-tls\n      port: {free_port()}\n      tls:\n"
        f"        cert_file: {certificates.server_cert}\n        key_file: {certificates.client_key}\n"
    )
    (tmp_path / "data").mkdir()
    done = subprocess.run(
        [str(wharfd_path()), "--config", str(config), "--data-dir", str(tmp_path / "data")],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode != 0
    assert "does not match the certificate" in done.stderr + done.stdout


# --- MQTT over WebSocket ------------------------------------------------------------------ #


def ws_client(listener: TLSListener, *, secure: bool = False) -> MqttClient:
    port = listener.wss_port if secure else listener.ws_port
    client = MqttClient(listener.host, port, client_id=unique_id("ws"), transport="websockets")
    if secure:
        client.paho.tls_set(ca_certs=listener.certs.ca_file)
    return client


@pytest.mark.parametrize("secure", [False, True], ids=["ws", "wss"])
def test_paho_websocket_clients_talk_to_tcp_clients(tls_broker: Callable[..., TLSListener], secure: bool) -> None:
    listener = tls_broker(websocket=True)
    web = ws_client(listener, secure=secure)
    web.connect()
    tcp = MqttClient(listener.host, listener.broker.port, client_id=unique_id("tcp"))
    tcp.connect()
    topic = f"ws/{unique_id()}"
    web.subscribe(topic + "/down", qos=1)
    tcp.subscribe(topic + "/up", qos=1)
    # Large enough to need WebSocket's 64-bit length, and several TCP segments.
    big = bytes(range(256)) * 400
    web.publish(topic + "/up", big, qos=1)
    tcp.publish(topic + "/down", b"to-the-browser", qos=1)
    assert [m.payload for m in tcp.messages.wait(1)] == [big]
    assert [m.text for m in web.messages.wait(1)] == ["to-the-browser"]
    web.close()
    tcp.close()


class RawWebSocket:
    """A bare WebSocket client: the upgrade, then masked binary frames cut where the test says."""

    def __init__(self, host: str, port: int, subprotocol: str | None = "mqtt") -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        lines = [
            "GET /mqtt HTTP/1.1",
            f"Host: {host}:{port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version: 13",
        ]
        if subprotocol is not None:
            lines.append(f"Sec-WebSocket-Protocol: {subprotocol}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.response = b""
        while b"\r\n\r\n" not in self.response:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.response += chunk
        self.head, _, self.pending = self.response.partition(b"\r\n\r\n")

    @property
    def status(self) -> int:
        return int(self.head.split(b" ")[1])

    def send_frame(self, payload: bytes, *, opcode: int = 2, fin: bool = True, masked: bool = True) -> None:
        mask = os.urandom(4) if masked else b""
        mask_bit = 0x80 if masked else 0
        header = bytes([(0x80 if fin else 0) | opcode])
        length = len(payload)
        if length < 126:
            header += bytes([mask_bit | length])
        elif length < 65536:
            header += bytes([mask_bit | 126]) + length.to_bytes(2, "big")
        else:
            header += bytes([mask_bit | 127]) + length.to_bytes(8, "big")
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if masked else payload
        self.sock.sendall(header + mask + body)

    def _read(self, count: int) -> bytes:
        while len(self.pending) < count:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.pending += chunk
        data, self.pending = self.pending[:count], self.pending[count:]
        return data

    def read_frame(self) -> tuple[int, bytes]:
        first, second = self._read(2)
        length = second & 0x7F
        if length == 126:
            length = int.from_bytes(self._read(2), "big")
        elif length == 127:
            length = int.from_bytes(self._read(8), "big")
        return first & 0x0F, self._read(length)

    def read_mqtt(self, count: int) -> list[bytes]:
        """`count` MQTT packets from the binary frames, however the broker cut them."""
        stream = b""
        packets: list[bytes] = []
        while len(packets) < count:
            opcode, data = self.read_frame()
            assert opcode in (0, 2), f"unexpected frame opcode {opcode}"
            stream += data
            while True:
                split = codec.split_frame(stream)
                if split is None:
                    break
                size = split[0] + split[1]
                packets.append(stream[:size])
                stream = stream[size:]
        return packets

    def close(self) -> None:
        self.sock.close()


def test_packets_may_span_frames_and_frames_may_hold_several_packets(
    tls_broker: Callable[..., TLSListener],
) -> None:
    listener = tls_broker(websocket=True)
    raw = RawWebSocket(listener.host, listener.ws_port)
    try:
        assert raw.status == 101, raw.head
        assert b"sec-websocket-protocol: mqtt" in raw.head.lower()
        topic = f"ws/{unique_id()}"
        connect = codec.connect(unique_id("raw"), version=codec.MQTT311)
        subscribe = codec.subscribe(1, [(topic, 0)], version=codec.MQTT311)
        publish = codec.publish(topic, b"split-and-joined", qos=0, version=codec.MQTT311)
        # CONNECT and SUBSCRIBE in one frame; the PUBLISH cut over a frame and two continuations.
        raw.send_frame(connect + subscribe)
        raw.send_frame(publish[:3], fin=False)
        raw.send_frame(publish[3:7], opcode=0, fin=False)
        raw.send_frame(publish[7:], opcode=0)
        connack, suback, delivered = raw.read_mqtt(3)
        assert connack[0] == 0x20 and connack[-1] == 0
        assert suback[0] == 0x90
        assert delivered[0] & 0xF0 == 0x30 and delivered.endswith(b"split-and-joined")
    finally:
        raw.close()


@pytest.mark.wharf_only(reason="the answer to an upgrade without the mqtt subprotocol differs between brokers")
def test_a_request_without_the_mqtt_subprotocol_is_refused(tls_broker: Callable[..., TLSListener]) -> None:
    listener = tls_broker(websocket=True)
    for offered in (None, "chat"):
        raw = RawWebSocket(listener.host, listener.ws_port, subprotocol=offered)
        try:
            assert raw.status == 400, raw.head
        finally:
            raw.close()
    # The listener still serves MQTT clients.
    client = ws_client(listener)
    client.connect()
    client.close()


@pytest.mark.wharf_only(reason="MQTT-6.0.0-1 close on a text frame; Mosquitto's answer differs")
def test_a_text_frame_closes_the_connection(tls_broker: Callable[..., TLSListener]) -> None:
    listener = tls_broker(websocket=True)
    raw = RawWebSocket(listener.host, listener.ws_port)
    try:
        raw.send_frame(codec.connect(unique_id("raw"), version=codec.MQTT311))
        assert raw.read_mqtt(1)[0][0] == 0x20
        raw.send_frame(b"{}", opcode=1)
        opcode, data = raw.read_frame()
        assert opcode == 8 and int.from_bytes(data[:2], "big") == 1003
        assert raw.sock.recv(1) == b""
    finally:
        raw.close()


@pytest.mark.wharf_only(reason="Mosquitto 2.0.11 (libwebsockets) does not close on an unmasked frame")
def test_an_unmasked_frame_closes_the_connection(tls_broker: Callable[..., TLSListener]) -> None:
    """RFC 6455 §5.1: the server closes the connection with 1002 on a frame the client did not mask;
    the PUBLISH in it reaches no subscriber."""
    listener = tls_broker(websocket=True)
    watcher = MqttClient(listener.host, listener.broker.port, client_id=unique_id("watcher"))
    watcher.connect()
    topic = f"ws/{unique_id()}"
    watcher.subscribe(topic, qos=0)
    raw = RawWebSocket(listener.host, listener.ws_port)
    try:
        raw.send_frame(codec.connect(unique_id("raw"), version=codec.MQTT311))
        assert raw.read_mqtt(1)[0][0] == 0x20
        raw.send_frame(codec.publish(topic, b"no mask", version=codec.MQTT311), masked=False)
        opcode, data = raw.read_frame()
        assert opcode == 8 and int.from_bytes(data[:2], "big") == 1002
        assert raw.sock.recv(1) == b""
    finally:
        raw.close()
    time.sleep(QUIET)
    assert watcher.messages.snapshot() == []
    watcher.close()


@pytest.mark.wharf_only(reason="wharfd closes a connection that does not finish its WebSocket upgrade in time")
def test_a_stalled_upgrade_is_closed(tls_broker: Callable[..., TLSListener]) -> None:
    listener = tls_broker(websocket=True)
    raw = socket.create_connection((listener.host, listener.ws_port), timeout=STALL_CLOSED_WITHIN)
    try:
        raw.sendall(b"GET /mqtt HTTP/1.1\r\nHost: x\r\n")  # and the rest never comes
        assert raw.recv(1) == b""
    except ConnectionResetError:
        pass
    finally:
        raw.close()
