"""06 limits, flow: what a client that reads too slowly, publishes too fast or floods CONNECTs
with wrong passwords may make the broker hold or do. Throughout, a probe client's round trip
keeps working and the broker's memory stays under a bound the test states.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from wharf_e2e import codec
from wharf_e2e.broker import Broker, BrokerOptions, broker_kind, free_port
from wharf_e2e.client import V311, MqttClient, unique_id
from wharf_e2e.gateway import Forward, UplinkOptions

KIB = 1024
MIB = 1024 * KIB
# Growth of the broker's peak memory (VmHWM) a flood may cause. Mosquitto grows about 1 MiB; a
# debug wharfd about 2 MiB for a subscriber that never reads and 11 MiB for a flood into the store.
GROWTH_BOUND = 32 * MIB


def memory(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in bytes."""
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            fields[key] = value
    return int(fields["VmRSS"].split()[0]) * KIB, int(fields["VmHWM"].split()[0]) * KIB


class Probe:
    """A client doing QoS 1 round trips through the broker; fails the test if one does not come back."""

    def __init__(self, host: str, port: int, timeout: float = 10.0) -> None:
        self.client = MqttClient(host, port, client_id=unique_id("probe"))
        self.client.connect()
        self.topic = f"probe/{self.client.client_id}"
        assert self.client.subscribe(self.topic, 1) == [1]
        self.timeout = timeout
        self.count = 0
        self.slowest = 0.0

    def round_trip(self) -> None:
        self.count += 1
        payload = f"probe-{self.count}".encode()
        started = time.monotonic()
        # The whole round trip, PUBACK and delivery, must be back within the timeout.
        self.client.publish(self.topic, payload, 1, timeout=self.timeout)
        left = max(0.01, started + self.timeout - time.monotonic())
        self.client.messages.wait_for(lambda got: any(m.payload == payload for m in got), left)
        self.slowest = max(self.slowest, time.monotonic() - started)

    def close(self) -> None:
        self.client.close()


def raw_connect(broker: Broker, client_id: str, *, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer is not None:
        # Set before connecting, so the TCP window never grows past it.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(10)
    sock.connect(broker.address)
    sock.sendall(codec.connect(client_id, version=codec.MQTT311))
    assert sock.recv(4)[:1] == b"\x20", "no CONNACK"
    return sock


class AckDrain(threading.Thread):
    """Reads and discards everything the broker sends to a raw publisher (its PUBACKs)."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__(daemon=True)
        self.sock = sock

    def run(self) -> None:
        try:
            while self.sock.recv(65536):
                pass
        except OSError:
            pass


def flood(broker: Broker, topic: str, messages: int, qos: int, probe: Probe) -> int:
    """Publishes `messages` 1 KiB messages as fast as the broker takes them, with a probe round trip
    every 20,000; returns the broker's peak memory growth in bytes."""
    _, peak_before = memory(broker.proc.pid)
    publisher = raw_connect(broker, unique_id("flood"))
    AckDrain(publisher).start()
    payload = b"x" * KIB
    identifiers = iter(range(messages))
    try:
        for batch in range(messages // 1000):
            packets = [
                codec.publish(
                    topic, payload, qos=qos, packet_id=next(identifiers) % 65535 + 1 if qos else None,
                    version=codec.MQTT311,
                )
                for _ in range(1000)
            ]
            publisher.sendall(b"".join(packets))
            if batch % 20 == 19:
                probe.round_trip()
    finally:
        publisher.close()
    probe.round_trip()
    _, peak_after = memory(broker.proc.pid)
    print(f"peak memory growth: {(peak_after - peak_before) / MIB:.1f} MiB")
    return peak_after - peak_before


@pytest.mark.timeout(240)
@pytest.mark.parametrize("qos", [0, 1], ids=["qos0", "qos1"])
def test_a_subscriber_that_never_reads_holds_bounded_memory(broker: Broker, qos: int) -> None:
    probe = Probe(broker.host, broker.port)
    subscriber = raw_connect(broker, unique_id("deaf"), receive_buffer=4 * KIB)
    subscriber.sendall(codec.subscribe(1, [("flood/#", qos)], version=codec.MQTT311))
    time.sleep(0.5)  # the SUBACK arrives; the subscriber reads nothing from here on
    try:
        growth = flood(broker, "flood/deaf", 200_000, qos, probe)
        assert growth < GROWTH_BOUND, f"{growth / MIB:.0f} MiB more at peak for a subscriber that never reads"
        # Another subscriber on the same topic is not slowed down by the deaf one.
        other = MqttClient(broker.host, broker.port, version=V311)
        other.connect()
        assert other.subscribe("flood/#", qos) == [qos]
        probe.client.publish("flood/after", b"after", 1)
        other.messages.wait_for(lambda got: any(m.payload == b"after" for m in got))
        other.close()
    finally:
        subscriber.close()
        probe.close()
    broker.assert_alive()


@pytest.mark.timeout(240)
@pytest.mark.wharf_only(reason="wharfd's store-and-forward queue")
def test_a_qos0_flood_on_a_forward_rule_holds_bounded_memory(gateway_factory) -> None:
    # The cloud is down: every message goes to the store on its way to the queue.
    gateway = gateway_factory(UplinkOptions(port=free_port(), forward=(Forward("devices/#", policy="drop-oldest"),)))
    probe = Probe(gateway.host, gateway.port)
    try:
        growth = flood(gateway, "devices/flood", 200_000, 0, probe)
        assert growth < GROWTH_BOUND, f"{growth / MIB:.0f} MiB more at peak for a QoS 0 flood into the store"
    finally:
        probe.close()
    gateway.assert_alive()


RATE = 50


@pytest.mark.timeout(60)
@pytest.mark.wharf_only(reason="Mosquitto has no publish rate limit")
@pytest.mark.broker_config(wharf_broker_extra=(f"max_publish_rate: {RATE}",))
def test_a_client_over_its_publish_rate_is_slowed_down_not_disconnected(broker: Broker, mqtt) -> None:
    watcher = mqtt()
    assert watcher.subscribe("rate/#", 0) == [0]
    publisher = raw_connect(broker, unique_id("fast"))
    AckDrain(publisher).start()
    started = time.monotonic()
    publisher.sendall(b"".join(codec.publish(f"rate/{n}", b"r", version=codec.MQTT311) for n in range(200)))
    # However fast the machine, no more than the bucket plus the rate can have passed by now.
    time.sleep(1.0)
    elapsed = time.monotonic() - started
    arrived = len(watcher.messages.snapshot())
    assert arrived <= RATE * (elapsed + 1) + 1, f"{arrived} messages in {elapsed:.1f} s at {RATE}/s"
    # The rest arrives: the client was slowed down, not dropped.
    items = watcher.messages.wait_for(lambda got: len(got) >= 200, timeout=30)
    assert [m.topic for m in items] == [f"rate/{n}" for n in range(200)]
    publisher.sendall(codec.pingreq())
    broker.assert_alive()
    publisher.close()


def pbkdf2_line(user: str, password: str, iterations: int) -> str:
    """A password-file line in Mosquitto's $7$ format."""
    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    return f"{user}:$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}\n"


def _password_file(tmp_path: Path) -> str:
    path = tmp_path / "passwd"
    # A costly hash: each wrong guess makes the broker compute about a second of PBKDF2.
    path.write_text(pbkdf2_line("alice", "secret", 1_000_000))
    return str(path)


@pytest.mark.timeout(120)
@pytest.mark.wharf_only(reason="Mosquitto checks passwords on its only thread, so its probe stalls too")
def test_a_flood_of_wrong_passwords_does_not_stall_other_clients(tmp_path: Path, request) -> None:
    broker = Broker(broker_kind(), BrokerOptions(password_file=_password_file(tmp_path)), tmp_path)
    broker.start()
    request.addfinalizer(lambda: (broker.stop(), broker.check_clean_exit()))
    probe = Probe(broker.host, broker.port, timeout=2.0)
    stop = time.monotonic() + 6
    refusals: list[int] = []

    def guesser() -> None:
        while time.monotonic() < stop:
            try:
                with socket.create_connection(broker.address, timeout=30) as sock:
                    sock.sendall(
                        codec.connect(unique_id("guess"), version=codec.MQTT311, username="alice", password=b"guess")
                    )
                    answer = sock.recv(4)
                    if len(answer) == 4:
                        refusals.append(answer[3])
            except OSError:
                pass

    guessers = [threading.Thread(target=guesser, daemon=True) for _ in range(16)]
    for thread in guessers:
        thread.start()
    while time.monotonic() < stop:
        probe.round_trip()  # fails the test when a round trip takes over 2 s
        time.sleep(0.1)
    for thread in guessers:
        thread.join(40)
    print(f"slowest probe round trip {probe.slowest:.2f} s over {probe.count}; {len(refusals)} refusals")
    probe.close()
    assert refusals and set(refusals) <= {3, 4}, f"CONNACK return codes to wrong passwords: {set(refusals)}"
    good = MqttClient(broker.host, broker.port, username="alice", password="secret")
    good.connect()
    good.close()
    broker.assert_alive()
