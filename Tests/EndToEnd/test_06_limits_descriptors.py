"""06 limits, descriptors: wharfd under a low open-file limit (`ulimit -n`). More clients than
descriptors must not make the accept loop spin, must not stop the service of connected clients,
clients beyond the limit are told at once (their connection is closed), and no shortage of descriptors may end the daemon with a runtime trap (SIGILL): it keeps a
reserve, and refuses to start with a clear message when the limit is too low to run at all.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from wharf_e2e import codec
from wharf_e2e.admin import admin_yaml, get, metric, wait_for_admin, wait_until
from wharf_e2e.broker import Broker, BrokerOptions, free_port, wharfd_path
from wharf_e2e.client import MqttClient, unique_id

pytestmark = pytest.mark.wharf_only(reason="wharfd's descriptor budget and start-up check")

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def open_descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def round_trip(client: MqttClient, topic: str) -> None:
    payload = unique_id("rt").encode()
    client.publish(topic, payload, 1)
    client.messages.wait_for(lambda got: any(m.payload == payload for m in got))


def bare_connections(broker: Broker, count: int) -> list[socket.socket]:
    """TCP connections that send nothing; the kernel completes them even while wharfd does not accept."""
    sockets = []
    for _ in range(count):
        sockets.append(socket.create_connection(broker.address, timeout=5))
    return sockets


@pytest.mark.timeout(90)
@pytest.mark.broker_config(open_file_limit=128)
def test_more_clients_than_descriptors_leave_the_broker_idle_and_serving(broker: Broker) -> None:
    probe = MqttClient(broker.host, broker.port, client_id=unique_id("probe"))
    probe.connect()
    topic = f"probe/{probe.client_id}"
    assert probe.subscribe(topic, 1) == [1]
    pid = broker.proc.pid
    crowd = bare_connections(broker, 300)
    try:
        time.sleep(1.0)
        before = cpu_seconds(pid)
        time.sleep(2.0)
        spent = cpu_seconds(pid) - before
        # A spinning accept loop spends the whole interval; an idle broker next to nothing.
        assert spent < 0.5, f"wharfd used {spent:.2f} s of CPU in 2 s with clients waiting to be accepted"
        descriptors = open_descriptors(pid)
        assert descriptors <= 128 - 16, f"{descriptors} of 128 descriptors open: no reserve is left"
        round_trip(probe, topic)
    finally:
        for sock in crowd:
            sock.close()
    # Room again: a new client is accepted and served.
    late = MqttClient(broker.host, broker.port)
    late.connect(timeout=20)
    late.close()
    probe.close()
    broker.assert_alive()


@pytest.mark.parametrize("limit", [12, 20, 40])
def test_too_few_descriptors_is_a_clear_start_up_error(tmp_path: Path, limit: int) -> None:
    config = tmp_path / "wharf.yaml"
    config.write_text("admin:\n  enabled: false\n")
    data = tmp_path / "data"
    data.mkdir()

    def lower_limit() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    done = subprocess.run(
        [str(wharfd_path()), "--config", str(config), "--listen", f"127.0.0.1:{free_port()}", "--data-dir", str(data)],
        preexec_fn=lower_limit,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 1, f"status {done.returncode} (a negative status is a signal):\n{done.stderr}"
    assert f"open-file limit (ulimit -n, LimitNOFILE) is {limit}" in done.stderr + done.stdout


@pytest.mark.timeout(120)
@pytest.mark.parametrize("limit", [64, 128, 256])
def test_clients_and_admin_requests_at_a_low_limit_never_exhaust_the_descriptors(
    tmp_path: Path, request: pytest.FixtureRequest, limit: int
) -> None:
    """The hunt for the SIGILL once seen: hundreds of bare connections, MQTT clients coming and going
    with retained QoS 1 messages, admin API requests, all at once under a low limit. A process out
    of descriptors traps in the Swift runtime's thread-pool monitor; wharfd must keep a reserve."""
    admin_port = free_port()
    options = BrokerOptions(open_file_limit=limit, sys_interval=1, wharf_extra_yaml=admin_yaml(admin_port))
    broker = Broker("wharfd", options, tmp_path)
    broker.start()
    request.addfinalizer(lambda: (broker.stop(), broker.check_clean_exit()))
    wait_for_admin(admin_port)
    pid = broker.proc.pid
    stop = time.monotonic() + 6
    peak = [0]
    held: list[socket.socket] = []
    lock = threading.Lock()

    def hold(sock: socket.socket) -> None:
        with lock:
            held.append(sock)
            if len(held) > 400:
                held.pop(0).close()

    def bare() -> None:
        while time.monotonic() < stop:
            try:
                hold(socket.create_connection(broker.address, timeout=1))
            except OSError:
                time.sleep(0.01)

    def mqtt() -> None:
        while time.monotonic() < stop:
            try:
                sock = socket.create_connection(broker.address, timeout=1)
                sock.sendall(codec.connect(unique_id("c"), version=codec.MQTT311))
                sock.sendall(
                    codec.publish("hunt/x", b"y" * 100, qos=1, packet_id=1, retain=random.random() < 0.3,
                                  version=codec.MQTT311)
                )
                sock.settimeout(0.5)
                try:
                    sock.recv(100)
                except OSError:
                    pass
                if random.random() < 0.5:
                    sock.close()
                else:
                    hold(sock)
            except OSError:
                time.sleep(0.01)

    def admin() -> None:
        while time.monotonic() < stop:
            for path in ("/metrics", "/api/v1/status", "/healthz"):
                try:
                    with socket.create_connection(("127.0.0.1", admin_port), timeout=1) as sock:
                        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: wharf\r\nConnection: close\r\n\r\n".encode())
                        sock.settimeout(1)
                        sock.recv(65536)
                except OSError:
                    time.sleep(0.005)

    def watch() -> None:
        while time.monotonic() < stop:
            try:
                peak[0] = max(peak[0], open_descriptors(pid))
            except OSError:
                pass
            time.sleep(0.02)

    workers = [threading.Thread(target=f, daemon=True) for f in (bare, bare, mqtt, mqtt, admin, admin, watch)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    with lock:
        for sock in held:
            sock.close()
    broker.assert_alive()
    assert peak[0] < limit, f"wharfd held all {limit} descriptors (peak {peak[0]})"
    # The sockets just closed are released as wharfd reads their closes; until then a new client
    # may still be refused at the budget (reason 128). It must be let in once they are.
    deadline = time.monotonic() + 30
    while True:
        client = MqttClient(broker.host, broker.port)
        try:
            client.connect(timeout=20)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
        finally:
            client.close()


def mqtt_answer(sock: socket.socket, timeout: float) -> str:
    """What a client that sent CONNECT hears: "connack" (accepted), "refused" (a CONNACK with a
    refusal), "closed" (the connection ends) or "silent" (nothing within `timeout` seconds)."""
    sock.settimeout(timeout)
    try:
        data = sock.recv(4)
    except TimeoutError:
        return "silent"
    except OSError:
        return "closed"
    if not data:
        return "closed"
    if data[0] == 0x20 and len(data) >= 4:
        return "connack" if data[3] == 0 else "refused"
    return f"unexpected {data!r}"


def connect_raw(broker: Broker, name: str) -> socket.socket:
    sock = socket.create_connection(broker.address, timeout=5)
    sock.sendall(codec.connect(name, version=codec.MQTT311, keepalive=0))
    return sock


@pytest.mark.timeout(120)
def test_at_the_descriptor_limit_new_clients_are_refused_at_once_and_accepted_again_later(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """At the open-file limit a new client learns at once that it cannot be served (its connection
    is closed; it does not wait unanswered), the accept loop stays idle, connected clients are
    served, an operator reads why in one log line and a counter, and once clients leave new ones
    are accepted again."""
    admin_port = free_port()
    options = BrokerOptions(open_file_limit=256, max_connections=0, wharf_extra_yaml=admin_yaml(admin_port))
    broker = Broker("wharfd", options, tmp_path)
    broker.start()
    request.addfinalizer(lambda: (broker.stop(), broker.check_clean_exit()))
    wait_for_admin(admin_port)
    pid = broker.proc.pid

    held: list[socket.socket] = []
    request.addfinalizer(lambda: [sock.close() for sock in held])
    first_refusal = None
    for n in range(400):
        sock = connect_raw(broker, f"fill-{n}")
        answer = mqtt_answer(sock, 5.0)
        if answer == "connack":
            held.append(sock)
            continue
        sock.close()
        first_refusal = answer
        break
    assert first_refusal is not None, "256 descriptors held 400 clients"
    assert 100 < len(held) < 256, f"{len(held)} clients accepted under a limit of 256"
    assert first_refusal in ("closed", "refused"), (
        f"the client after {len(held)} connected ones got {first_refusal!r}: it was neither served nor refused"
    )

    # Many more: each is refused at once, and the broker does not spin.
    before = cpu_seconds(pid)
    for n in range(50):
        with connect_raw(broker, f"extra-{n}") as sock:
            answer = mqtt_answer(sock, 5.0)
            assert answer in ("closed", "refused"), f"extra client {n}: {answer}"
    time.sleep(2.0)
    spent = cpu_seconds(pid) - before
    assert spent < 1.0, f"wharfd used {spent:.2f} s of CPU refusing 50 clients and idling 2 s"
    assert open_descriptors(pid) < 256

    # Connected clients are still served: two of them exchange a message.
    subscriber, publisher = held[0], held[1]
    subscriber.sendall(codec.subscribe(1, [("limit/probe", codec.sub_options(0))], version=codec.MQTT311))
    subscriber.settimeout(5)
    assert subscriber.recv(5)[0] == 0x90  # SUBACK
    publisher.sendall(codec.publish("limit/probe", b"still-served", version=codec.MQTT311))
    delivered = b""
    while b"still-served" not in delivered:
        chunk = subscriber.recv(100)
        assert chunk, "the subscriber's connection closed"
        delivered += chunk

    # One log line for the operator, however many were refused; and a counter.
    lines = [line for line in broker.log().splitlines() if "refusing new MQTT connections" in line]
    assert len(lines) == 1, f"{len(lines)} log lines about refused connections:\n" + "\n".join(lines)
    assert "LimitNOFILE" in lines[0]
    refused = metric(get(admin_port, "/metrics").body, "wharf_broker_connections_refused_total")
    assert refused is not None and refused >= 51, f"wharf_broker_connections_refused_total = {refused}"

    # Clients leave: new ones are accepted again.
    for sock in held[10:20]:
        sock.close()
    del held[10:20]

    def accepted() -> bool:
        with connect_raw(broker, unique_id("late")) as sock:
            return mqtt_answer(sock, 5.0) == "connack"

    wait_until(accepted, timeout=20, what="a client accepted after others left")
    broker.assert_alive()
