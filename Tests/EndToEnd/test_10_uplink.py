"""The uplink bridge against a real Mosquitto as the cloud broker: forwarding, status and will,
remote subscriptions, outages, kill -9 with a queued or draining backlog, reconnect backoff, TLS."""

from __future__ import annotations

import socket
import threading
import time
from typing import Callable

import pytest

from wharf_e2e import cli
from wharf_e2e.certs import Certificates
from wharf_e2e.client import V311, V5, MqttClient
from wharf_e2e.cloud import Cloud, CloudSubscriber, CloudTLS, stable_port
from wharf_e2e.gateway import (
    AckingPublisher,
    DeliveryReport,
    Forward,
    Gateway,
    RemoteSubscribe,
    SysWatcher,
    TLSOptions,
    UplinkOptions,
    log_records,
)

pytestmark = pytest.mark.wharf_only(reason="wharfd's uplink bridge to a cloud broker")

SITE = "site/gw1/"
STATE = "$SYS/broker/uplink/state"
DEPTH = "$SYS/broker/queue/depth"


def offline_cloud(cloud_factory: Callable[..., Cloud], filters: list[str]) -> tuple[Cloud, CloudSubscriber]:
    """A stopped cloud broker that keeps a persistent subscriber's session (and its queued messages)
    across the restart, so the subscriber cannot miss what wharfd sends the moment it reconnects."""
    cloud = cloud_factory(persistence=True)
    subscriber = CloudSubscriber(cloud, filters).connect()
    subscriber.close()
    cloud.stop()
    return cloud, subscriber


def bring_back(cloud: Cloud, subscriber: CloudSubscriber) -> None:
    cloud.start()
    subscriber.connect()
    assert subscriber.session_present, "the cloud broker lost the subscriber's session over its restart"


def start_publishers(
    gateway: Gateway, clients: Callable[..., MqttClient], versions: tuple[int, ...] = (V5, V5, V311)
) -> list[AckingPublisher]:
    publishers = []
    for index, version in enumerate(versions):
        client = clients(gateway, version=version, client_id=f"pub{index}")
        publishers.append(AckingPublisher(client, f"p{index}", f"devices/p{index}/data"))
    return publishers


def quiescent_count(subscriber: CloudSubscriber, quiet: float = 0.5, bound: float = 15.0) -> int:
    """The number of messages received once none arrived for `quiet` seconds."""
    deadline = time.monotonic() + bound
    count = len(subscriber.snapshot())
    while True:
        time.sleep(quiet)
        now = len(subscriber.snapshot())
        if now == count:
            return count
        assert time.monotonic() < deadline, f"messages still arriving after {bound} s"
        count = now


def check_delivery(
    report: DeliveryReport, expected: dict[str, int], *, duplicates_before: int
) -> dict[str, list[int]]:
    """Every publisher's messages 1..n arrived, first copies in order, and no second copy arrived
    before index `duplicates_before` (the outage); returns the duplicated sequences per publisher,
    for the caller to check they were in flight at the outage."""
    duplicated: dict[str, list[int]] = {}
    for name, count in expected.items():
        firsts = report.first_arrivals(name)
        assert firsts == list(range(1, count + 1)), (
            f"{name}: first arrivals not 1..{count} in order: missing "
            f"{sorted(set(range(1, count + 1)) - set(firsts))[:10]}, head {firsts[:10]}"
        )
    for name, sequence, index in report.duplicates:
        assert index >= duplicates_before, f"{name}:{sequence} arrived twice before the outage"
        duplicated.setdefault(name, []).append(sequence)
    return duplicated


# --------------------------------------------------------------------------------------- #
# Forwarding, status, will and remote subscriptions
# --------------------------------------------------------------------------------------- #


UPLINK_VERSIONS = pytest.mark.parametrize("uplink_version", ["5", "3.1.1"], ids=["uplink-v5", "uplink-v311"])


@UPLINK_VERSIONS
def test_local_publishes_arrive_at_the_cloud_under_the_mapped_topic(
    uplink_version: str, cloud: Cloud, gateway_factory, clients
) -> None:
    watcher = CloudSubscriber(cloud, ["#"], persistent=False).connect()
    rules = (Forward("devices/#"), Forward("plant/#", remote_prefix="factory/{gateway}/", strip_prefix="plant/"))
    gateway = gateway_factory(UplinkOptions(port=cloud.port, forward=rules, mqtt_version=uplink_version))
    v5 = clients(gateway, version=V5)
    v311 = clients(gateway, version=V311)
    v5.publish("devices/a/temp", b"from-v5", 1)
    v311.publish("devices/b/temp", b"from-v311", 1)
    v5.publish("devices/c/qos2", b"from-v5-qos2", 2)
    cli.mosquitto_pub(gateway.host, gateway.port, "devices/d/temp", "from-mosquitto_pub", qos=1)
    cli.mosquitto_pub(gateway.host, gateway.port, "devices/e/temp", "from-mosquitto_pub-311", qos=1, version=4)
    v5.publish("plant/line1/speed", b"stripped", 1)
    v5.publish("other/topic", b"not forwarded", 1)
    v311.publish("devices/z/marker", b"marker", 1)

    items = watcher.wait_for(lambda got: any(m.payload == b"marker" for m in got), 15)
    got = {m.topic: m for m in items if not m.topic.startswith("wharf/")}
    assert {t: m.payload for t, m in got.items()} == {
        SITE + "devices/a/temp": b"from-v5",
        SITE + "devices/b/temp": b"from-v311",
        SITE + "devices/c/qos2": b"from-v5-qos2",
        SITE + "devices/d/temp": b"from-mosquitto_pub",
        SITE + "devices/e/temp": b"from-mosquitto_pub-311",
        "factory/gw1/line1/speed": b"stripped",
        SITE + "devices/z/marker": b"marker",
    }
    # Forward rules send at QoS 1 (a QoS 2 publish is sent at the rule's QoS).
    assert {m.qos for m in got.values()} == {1}


def test_status_topic_is_retained_online_and_the_will_says_offline_after_kill9(
    cloud: Cloud, gateway_factory, clients
) -> None:
    gateway = gateway_factory(UplinkOptions(port=cloud.port, keepalive="2s"))
    status = "wharf/gw1/status"

    def status_seen_by_a_new_subscriber() -> tuple[str, bool]:
        probe = clients(cloud)
        probe.subscribe(status, 1)
        [message] = probe.messages.wait(1, timeout=10)
        probe.disconnect()
        return message.text, message.retain

    def retained_status() -> str:
        text, retained = status_seen_by_a_new_subscriber()
        assert retained
        return text

    # A probe that subscribes before the uplink connects sees "online" live (retain 0):
    # ask again until a new subscriber gets it as the retained message.
    deadline = time.monotonic() + 10
    while status_seen_by_a_new_subscriber() != ("online", True):
        assert time.monotonic() < deadline, "no retained 'online' at the cloud"
        time.sleep(0.2)

    watcher = clients(cloud)
    watcher.subscribe(status, 1)
    watcher.messages.wait(1)
    # A clean stop says goodbye with a retained "offline"; the next start says "online" again.
    gateway.stop()
    watcher.messages.wait_for(lambda got: [m.text for m in got] == ["online", "offline"], 10)
    assert retained_status() == "offline"
    gateway.start()
    watcher.messages.wait_for(lambda got: [m.text for m in got][-1:] == ["online"], 10)
    watcher.messages.clear()
    gateway.kill9()
    # The cloud notices the dead connection at once (closed socket) or after 1.5 x 2 s keep alive.
    offline = watcher.messages.wait_for(lambda got: any(m.text == "offline" for m in got), 8)
    assert [m.text for m in offline] == ["offline"]
    assert retained_status() == "offline"


@UPLINK_VERSIONS
def test_a_cloud_publish_on_a_remote_subscription_arrives_locally(
    uplink_version: str, cloud: Cloud, gateway_factory, clients
) -> None:
    gateway = gateway_factory(
        UplinkOptions(port=cloud.port, subscribe=(RemoteSubscribe(),), mqtt_version=uplink_version)
    )
    local = clients(gateway)
    local.subscribe("commands/#", 1)
    remote = clients(cloud)
    # The uplink subscribes right after connecting: repeat the first command until it gets through.
    deadline = time.monotonic() + 15
    while not local.messages.snapshot():
        assert time.monotonic() < deadline, "no cloud command arrived locally"
        remote.publish("cmd/gw1/x", b"first", 1)
        time.sleep(0.3)
    local.messages.clear()
    remote.publish("cmd/gw2/x", b"for another gateway", 1)
    remote.publish("cmd/gw1/valve/open", b"deep", 1)
    remote.publish("cmd/gw1/x", b"last", 1)
    items = local.messages.wait_for(lambda got: any(m.payload == b"last" for m in got), 10)
    assert [(m.topic, m.payload) for m in items] == [("commands/valve/open", b"deep"), ("commands/x", b"last")]
    assert {m.qos for m in items} == {1}


# --------------------------------------------------------------------------------------- #
# Outages and kill -9
# --------------------------------------------------------------------------------------- #


@pytest.mark.timeout(60)
def test_outage_every_publish_is_acknowledged_and_everything_arrives_in_order_later(
    cloud_factory, gateway_factory, clients, e2e_report
) -> None:
    cloud = cloud_factory(persistence=True)
    subscriber = CloudSubscriber(cloud, [SITE + "devices/#"]).connect()
    gateway = gateway_factory(UplinkOptions(port=cloud.port))
    sys = SysWatcher(gateway)
    sys.wait(STATE, lambda state: state == "connected")
    publishers = start_publishers(gateway, clients)

    # Some traffic while the cloud is up; the cloud then goes away with some of it in flight.
    warm_up, during = 20, 100
    for publisher in publishers:
        publisher.publish(warm_up)
    for publisher in publishers:
        publisher.wait_acks()
    cloud.stop()
    outage_boundary = len(subscriber.snapshot())
    subscriber.close()

    for publisher in publishers:
        publisher.publish(during)
    for publisher in publishers:
        publisher.wait_acks()
        assert publisher.refused == []
    assert not cloud.alive(), "the publishes were to be acknowledged while the cloud was down"
    sys.wait_int(DEPTH, lambda depth: depth >= len(publishers) * during)

    bring_back(cloud, subscriber)
    total = warm_up + during
    expected = {p.name: total for p in publishers}
    subscriber.wait_for(
        lambda got: all(len(DeliveryReport.of(got).distinct(n)) == total for n in expected), 30
    )
    report = DeliveryReport.of(subscriber.snapshot())
    duplicated = check_delivery(report, expected, duplicates_before=outage_boundary)
    for name, sequences in duplicated.items():
        assert all(s <= warm_up for s in sequences), f"{name}: duplicates of messages sent during the outage"
    sys.wait_int(DEPTH, lambda depth: depth == 0)
    resent = sys.wait_int("$SYS/broker/uplink/messages/resent", lambda n: True, fresh=False)
    e2e_report(
        f"outage: {len(publishers) * total} messages, {outage_boundary} arrived before the outage, "
        f"{len(report.duplicates)} duplicates ({report.redelivered} with the DUP flag; wharfd resent {resent}) "
        f"of {sum(len(set(v)) for v in duplicated.values())} messages"
    )
    assert sys.wait_int("$SYS/broker/queue/appended", lambda n: True, fresh=False) == len(publishers) * total
    assert sys.wait_int("$SYS/broker/uplink/reconnects", lambda n: True, fresh=False) >= 1
    assert sys.wait_int("$SYS/broker/uplink/messages/acknowledged", lambda n: True, fresh=False) >= len(
        publishers
    ) * total
    assert sys.latest(STATE) == "connected"


@pytest.mark.timeout(60)
def test_kill9_with_a_queued_backlog_loses_nothing(cloud_factory, gateway_factory, clients, e2e_report) -> None:
    cloud, subscriber = offline_cloud(cloud_factory, [SITE + "devices/#"])
    gateway = gateway_factory(UplinkOptions(port=cloud.port))
    publishers = start_publishers(gateway, clients)
    per_publisher = 100
    for publisher in publishers:
        publisher.publish(per_publisher)
    for publisher in publishers:
        publisher.wait_acks()
        assert publisher.acked == list(range(1, per_publisher + 1))
    for publisher in publishers:
        publisher.client.close()

    gateway.kill9()
    gateway.start()
    sys = SysWatcher(gateway)
    assert sys.wait_int(DEPTH, lambda depth: depth > 0) == len(publishers) * per_publisher
    assert sys.wait(STATE, lambda state: state in ("backing-off", "connecting"))

    bring_back(cloud, subscriber)
    expected = {p.name: per_publisher for p in publishers}
    subscriber.wait_for(
        lambda got: all(len(DeliveryReport.of(got).distinct(n)) == per_publisher for n in expected), 30
    )
    report = DeliveryReport.of(subscriber.snapshot())
    check_delivery(report, expected, duplicates_before=0)
    e2e_report(f"kill -9 while queued: {sum(expected.values())} messages, {len(report.duplicates)} duplicates")
    # Nothing was in flight when wharfd died: the cloud was down the whole time.
    assert report.duplicates == []


@pytest.mark.timeout(90)
def test_kill9_while_draining_delivers_every_acknowledged_message(
    cloud_factory, gateway_factory, clients, e2e_report
) -> None:
    cloud, subscriber = offline_cloud(cloud_factory, [SITE + "devices/#"])
    gateway = gateway_factory(UplinkOptions(port=cloud.port, max_inflight=100))
    publishers = start_publishers(gateway, clients)
    per_publisher = 1000
    for publisher in publishers:
        publisher.publish(per_publisher)
    for publisher in publishers:
        publisher.wait_acks(timeout=60)
        assert len(publisher.acked) == per_publisher
    for publisher in publishers:
        publisher.client.close()
    total = len(publishers) * per_publisher

    bring_back(cloud, subscriber)
    # Kill as soon as a tenth of the backlog is through.
    arrived = len(subscriber.wait_for(lambda got: len(got) >= total // 10, 30))
    gateway.kill9()
    at_kill = len(subscriber.snapshot())
    assert at_kill < total, f"the drain finished ({at_kill} arrived) before wharfd could be killed"
    # Let the cloud hand over everything it already has (the subscriber lags behind it).
    boundary = quiescent_count(subscriber)
    gateway.start()

    expected = {p.name: per_publisher for p in publishers}
    subscriber.wait_for(
        lambda got: all(len(DeliveryReport.of(got).distinct(n)) == per_publisher for n in expected), 45
    )
    report = DeliveryReport.of(subscriber.snapshot())
    duplicated = check_delivery(report, expected, duplicates_before=boundary)
    # Per publisher, the duplicates are the newest messages it had through before the kill: the
    # records not yet deleted as acknowledged (in flight, or acknowledged but not yet committed).
    before = DeliveryReport.of(subscriber.snapshot()[:boundary])
    for name, sequences in duplicated.items():
        through = before.first_arrivals(name)
        assert sorted(sequences) == through[len(through) - len(sequences) :], (
            f"{name}: duplicates {sorted(sequences)[:10]}... are not the newest of {len(through)} sent before the kill"
        )
    e2e_report(
        f"kill -9 while draining: {total} messages, {arrived}..{at_kill} arrived at the kill, "
        f"{boundary} before the restart, {len(report.duplicates)} duplicates "
        f"({report.redelivered} with the DUP flag)"
    )


# --------------------------------------------------------------------------------------- #
# Reconnect backoff
# --------------------------------------------------------------------------------------- #


class SlammingServer:
    """A TCP server that accepts and at once closes every connection, noting when."""

    def __init__(self) -> None:
        self.port = stable_port()
        self.accepts: list[float] = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.accepts.append(time.monotonic())
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def ceiling_ms(attempt: int, base: int = 100, cap: int = 800) -> int:
    return min(cap, base * 2**attempt)


@pytest.mark.timeout(45)
@pytest.mark.parametrize("peer", ["accept-and-close", "closed-port"])
def test_reconnect_backoff_grows_to_the_cap_with_jitter_and_never_gives_up(peer: str, gateway_factory) -> None:
    server = SlammingServer() if peer == "accept-and-close" else None
    port = server.port if server else stable_port()
    try:
        gateway = gateway_factory(
            UplinkOptions(port=port, backoff_base="100ms", backoff_cap="800ms", stable_after="30s")
        )
        wanted = 10
        deadline = time.monotonic() + 25
        while True:
            delays = [r for r in log_records(gateway.log()) if "uplink.delay_ms" in r]
            if len(delays) >= wanted and (server is None or len(server.accepts) >= wanted):
                break
            assert time.monotonic() < deadline, f"only {len(delays)} backoff delays within 25 s"
            time.sleep(0.1)
        gateway.assert_alive()
    finally:
        if server is not None:
            server.close()

    for index, record in enumerate(delays):
        attempt, ceiling, delay = (int(record[k]) for k in ("uplink.attempt", "uplink.ceiling_ms", "uplink.delay_ms"))
        assert record["uplink.state"] == "backing-off"
        assert attempt == index, f"attempt numbers {[r['uplink.attempt'] for r in delays]}"
        assert ceiling == ceiling_ms(attempt), f"attempt {attempt}: ceiling {ceiling} ms"
        assert 0 <= delay <= ceiling, f"attempt {attempt}: delay {delay} ms outside [0, {ceiling}]"
    # Full jitter: the delays are not all at the ceiling.
    assert len({int(r["uplink.delay_ms"]) for r in delays}) > 1

    if server is not None:
        tolerance = 0.3
        gaps = [b - a for a, b in zip(server.accepts, server.accepts[1:])]
        for attempt, gap in enumerate(gaps[: wanted - 1]):
            logged = int(delays[attempt]["uplink.delay_ms"]) / 1000
            assert gap <= ceiling_ms(attempt) / 1000 + tolerance, f"attempt {attempt}: waited {gap:.3f} s"
            assert gap >= logged - 0.02, f"attempt {attempt}: waited {gap:.3f} s, less than the {logged} s logged"


# --------------------------------------------------------------------------------------- #
# TLS
# --------------------------------------------------------------------------------------- #


def tls_cloud(cloud_factory, certificates: Certificates) -> Cloud:  # noqa: ANN001
    return cloud_factory(
        tls=CloudTLS(certificates.ca_file, certificates.server_cert, certificates.server_key, require_certificate=True)
    )


@pytest.mark.parametrize("server_name", ["", "localhost"])
def test_tls_with_ca_and_client_certificate_forwards(
    server_name: str, certificates: Certificates, cloud_factory, gateway_factory, clients
) -> None:
    cloud = tls_cloud(cloud_factory, certificates)
    watcher = CloudSubscriber(cloud, [SITE + "#"], persistent=False).connect()
    tls = TLSOptions(certificates.ca_file, certificates.client_cert, certificates.client_key, server_name=server_name)
    gateway = gateway_factory(UplinkOptions(port=cloud.port, tls=tls))
    clients(gateway).publish("devices/tls/x", b"over tls", 1)
    [message] = watcher.messages.wait(1, timeout=15)
    assert (message.topic, message.payload) == (SITE + "devices/tls/x", b"over tls")


@pytest.mark.timeout(45)
def test_tls_with_the_wrong_ca_queues_durably_names_the_failure_and_delivers_after_a_fix(
    certificates: Certificates, cloud_factory, gateway_factory, clients
) -> None:
    cloud = tls_cloud(cloud_factory, certificates)
    watcher = CloudSubscriber(cloud, [SITE + "#"]).connect()
    wrong = TLSOptions(certificates.other_ca_file, certificates.client_cert, certificates.client_key)
    gateway = gateway_factory(UplinkOptions(port=cloud.port, tls=wrong))
    sys = SysWatcher(gateway)
    error = sys.wait("$SYS/broker/uplink/last error", lambda text: text != "", 15)
    assert "certificate" in error.lower() and "verif" in error.lower(), error
    assert sys.latest(STATE) != "connected"

    publisher = clients(gateway)
    publisher.publish("devices/tls/queued", b"waits for the right CA", 1)  # PUBACK: stored durably
    assert sys.wait_int(DEPTH, lambda depth: depth == 1) == 1
    failures = [r for r in log_records(gateway.log()) if "uplink.error" in r]
    assert failures, "no uplink.error in the log"
    assert any(
        "certificate" in line.lower() and "verif" in line.lower()
        for line in gateway.log().splitlines()
        if "uplink.error" in line
    ), "the log does not name the certificate verification failure"
    time.sleep(1.0)
    assert watcher.messages.snapshot() == [], "something reached the cloud through an unverified link"
    publisher.close()

    gateway.stop()
    gateway.reconfigure(
        uplink=UplinkOptions(
            port=cloud.port, tls=TLSOptions(certificates.ca_file, certificates.client_cert, certificates.client_key)
        )
    )
    gateway.start()
    [message] = watcher.messages.wait(1, timeout=15)
    assert (message.topic, message.payload) == (SITE + "devices/tls/queued", b"waits for the right CA")
