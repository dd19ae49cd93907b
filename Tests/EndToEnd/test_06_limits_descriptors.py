"""06 limits, descriptors: wharfd under a low open-file limit (`ulimit -n`). More clients than
descriptors must not make the accept loop spin, must not stop the service of connected clients,
and no shortage of descriptors may end the daemon with a runtime trap (SIGILL): it keeps a
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
from wharf_e2e.admin import admin_yaml, wait_for_admin
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
    client = MqttClient(broker.host, broker.port)
    client.connect(timeout=20)
    client.close()
