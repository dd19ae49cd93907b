"""The uplink against a real 3-node RabbitMQ cluster as the cloud (wharf_e2e/rabbitmq.py).

wharfd's uplink speaks MQTT 3.1.1 (all RabbitMQ 3.10 has) to node 1; a subscriber with a
persistent session (clean session false, a quorum queue replicated on the three nodes) reads on
node 2. Every message a local publisher had acknowledged by wharfd must reach that subscriber,
through a backlog built while the node was down, a restart of the node during a stream, and a
`kill -9` of wharfd during a stream; then, with the three nodes as the uplink's endpoints, through a
`kill -9` of the node in use (failover), a rolling restart of the cluster, and the whole cluster down
and back. Duplicates are allowed (QoS 1), counted and reported.

The cluster starts once per run (`rabbit_cluster`, 25-35 s); each test gets it with every node
up (`healthy_rabbit_cluster`) and restarts what it stopped.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Callable, Iterator

import pytest

from wharf_e2e.admin import admin_yaml, get, wait_for_admin, wait_until
from wharf_e2e.broker import free_port
from wharf_e2e.client import V311, V5, MqttClient
from wharf_e2e.cloud import CloudSubscriber
from wharf_e2e.gateway import AckingPublisher, DeliveryReport, Gateway, SysWatcher, UplinkOptions
from wharf_e2e.rabbitmq import RabbitCluster

pytestmark = [
    pytest.mark.wharf_only(reason="wharfd's uplink to a RabbitMQ cluster"),
    # The first test also pays for the cluster's cold start.
    pytest.mark.timeout(240),
]

GATEWAY_NODE = 1  # the node wharfd's uplink connects to
SUBSCRIBER_NODE = 2  # another node: messages cross the cluster to reach the subscriber
STATE = "$SYS/broker/uplink/state"
DEPTH = "$SYS/broker/queue/depth"


def uplink_to(cluster: RabbitCluster, number: int) -> UplinkOptions:
    """MQTT 3.1.1 with a session kept at the cloud (clean session false), to one node."""
    return UplinkOptions(port=cluster.mqtt_port(number), mqtt_version="3.1.1", clean_start=False, keepalive="5s")


class Session:
    """A test's topics (`devices/<tag>/...` locally, `site/gw1/devices/<tag>/...` at the cloud) and its
    persistent QoS 1 subscriber on another node, dropped (queue and all) at the end."""

    def __init__(self, cluster: RabbitCluster, number: int = SUBSCRIBER_NODE) -> None:
        self.cluster = cluster
        self.number = number
        self.tag = f"t{random.randrange(1 << 30)}"
        self.subscriber = CloudSubscriber(
            cluster.endpoint(number), [f"site/gw1/devices/{self.tag}/#"], version=V311, persistent=True
        )
        self.subscriber.connect()

    def topic(self, name: str) -> str:
        return f"devices/{self.tag}/{name}/data"

    def wait_for_all(self, expected: dict[str, set[int]], timeout: float) -> DeliveryReport:
        """Waits until every expected (publisher, sequence) arrived, resuming the subscriber's session if its
        connection drops; the report of everything received."""
        deadline = time.monotonic() + timeout

        def missing() -> dict[str, list[int]]:
            report = DeliveryReport.of(self.subscriber.snapshot())
            gaps = {name: sorted(wanted - report.distinct(name)) for name, wanted in expected.items()}
            return {name: gap for name, gap in gaps.items() if gap}

        while True:
            gaps = missing()
            if not gaps:
                return DeliveryReport.of(self.subscriber.snapshot())
            if time.monotonic() > deadline:
                counts = {name: len(gap) for name, gap in gaps.items()}
                heads = {name: gap[:10] for name, gap in gaps.items()}
                raise AssertionError(f"acknowledged messages never arrived: {counts} missing, first {heads}")
            client = self.subscriber.client
            if client is None or client.disconnected.is_set():
                self.subscriber.connect()
                assert self.subscriber.session_present, "the cluster lost the subscriber's session"
            time.sleep(0.2)

    def drop(self) -> None:
        """Closes the subscriber and ends its session (a clean-session connect deletes its queue)."""
        self.subscriber.close()
        try:
            cleaner = self.cluster.endpoint(self.number).client(
                version=V311, client_id=self.subscriber.client_id, clean=True
            )
            cleaner.connect()
            cleaner.close()
        except AssertionError:
            pass  # a node still settling: the queue stays behind in this run's throwaway cluster


@pytest.fixture
def session(healthy_rabbit_cluster: RabbitCluster) -> Iterator[Session]:
    made = Session(healthy_rabbit_cluster)
    yield made
    made.drop()


class Stream:
    """Local publishers sending numbered QoS 1 messages to wharfd, `batch` every `pause` seconds each with at
    most `window` unacknowledged, in a thread, until stopped or until their connection ends (wharfd killed)."""

    def __init__(
        self, publishers: list[AckingPublisher], batch: int = 5, pause: float = 0.1, window: int = 1000
    ) -> None:
        self.publishers = publishers
        self.batch = batch
        self.pause = pause
        self.window = window
        self._stop = threading.Event()
        self.failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                for publisher in self.publishers:
                    if publisher.client.disconnected.is_set():
                        return
                    outstanding = sum(1 for reason in publisher.outcomes().values() if reason is None)
                    count = min(self.batch, self.window - outstanding)
                    if count <= 0:
                        continue
                    try:
                        publisher.publish(count)
                    except AssertionError:
                        # paho refuses a publish on a connection that just ended.
                        if publisher.client.disconnected.is_set():
                            return
                        raise
                time.sleep(self.pause)
        except BaseException as error:  # noqa: BLE001 - handed to the test
            self.failure = error

    def start(self) -> "Stream":
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        assert not self._thread.is_alive(), "the stream did not stop"
        if self.failure is not None:
            raise self.failure


def publishers_on(gateway: Gateway, clients: Callable[..., MqttClient], session: Session) -> list[AckingPublisher]:
    """One MQTT 5 and one MQTT 3.1.1 publisher on wharfd."""
    made = []
    for index, version in enumerate((V5, V311)):
        client = clients(gateway, version=version, client_id=f"{session.tag}-pub{index}")
        made.append(AckingPublisher(client, f"p{index}", session.topic(f"p{index}")))
    return made


def acked(publishers: list[AckingPublisher]) -> dict[str, set[int]]:
    return {p.name: set(p.acked) for p in publishers}


def summary(report: DeliveryReport, expected: dict[str, set[int]]) -> str:
    total = sum(len(v) for v in expected.values())
    copies = sum(len(v) for v in report.arrivals.values())
    return (
        f"{total} acknowledged, {copies} copies received, {len(report.duplicates)} duplicates "
        f"({report.redelivered} with the DUP flag)"
    )


def test_a_backlog_built_while_the_node_is_down_drains_to_a_subscriber_on_another_node(
    healthy_rabbit_cluster: RabbitCluster, session: Session, gateway_factory, clients, e2e_report
) -> None:
    cluster = healthy_rabbit_cluster
    cluster.stop(GATEWAY_NODE)
    gateway = gateway_factory(uplink_to(cluster, GATEWAY_NODE))
    sys = SysWatcher(gateway)
    publishers = publishers_on(gateway, clients, session)
    per_publisher = 1000
    for publisher in publishers:
        publisher.publish(per_publisher)
    for publisher in publishers:
        publisher.wait_acks(timeout=60)
        assert publisher.acked == list(range(1, per_publisher + 1))
    assert sys.wait_int(DEPTH, lambda depth: depth > 0) == len(publishers) * per_publisher
    assert sys.wait(STATE, lambda state: state != "connected", fresh=False) in ("connecting", "backing-off")
    assert session.subscriber.snapshot() == [], "messages reached the cluster while its node was down"

    cluster.start(GATEWAY_NODE)
    expected = acked(publishers)
    report = session.wait_for_all(expected, timeout=90)
    # One connection, never lost once up: every publisher's messages arrive in their order.
    for publisher in publishers:
        firsts = report.first_arrivals(publisher.name)
        assert firsts == list(range(1, per_publisher + 1)), f"{publisher.name}: out of order, head {firsts[:10]}"
    assert set(report.arrivals) == set(expected), f"unexpected publishers {set(report.arrivals) - set(expected)}"
    sys.wait_int(DEPTH, lambda depth: depth == 0, timeout=30)
    assert sys.wait(STATE, lambda state: state == "connected", fresh=False) == "connected"
    e2e_report(f"backlog to node {GATEWAY_NODE}, read on node {SUBSCRIBER_NODE}: {summary(report, expected)}")


def test_a_stream_through_a_restart_of_the_node_loses_no_acknowledged_message(
    healthy_rabbit_cluster: RabbitCluster, session: Session, gateway_factory, clients, e2e_report
) -> None:
    cluster = healthy_rabbit_cluster
    gateway = gateway_factory(uplink_to(cluster, GATEWAY_NODE))
    sys = SysWatcher(gateway)
    sys.wait(STATE, lambda state: state == "connected", timeout=20, fresh=False)
    publishers = publishers_on(gateway, clients, session)
    stream = Stream(publishers).start()
    try:
        session.subscriber.wait_for(lambda got: len(got) >= 200, 30)
        cluster.stop(GATEWAY_NODE)
        at_stop = len(session.subscriber.snapshot())
        cluster.start(GATEWAY_NODE)
        # The stream goes on until messages sent after the restart come through.
        session.subscriber.wait_for(lambda got: len(got) >= at_stop + 300, 60)
        assert stream.running, "the stream ended during the restart"
    finally:
        stream.stop()
    for publisher in publishers:
        publisher.wait_acks(timeout=30)
        assert publisher.refused == []
    expected = acked(publishers)
    report = session.wait_for_all(expected, timeout=90)
    assert set(report.arrivals) == set(expected)
    for name, sequences in expected.items():
        assert report.distinct(name) == sequences, f"{name}: received messages never acknowledged"
    assert sys.wait_int("$SYS/broker/uplink/reconnects", lambda n: n >= 1, fresh=False) >= 1
    e2e_report(
        f"stream through a restart of node {GATEWAY_NODE} ({at_stop} received at the stop): "
        f"{summary(report, expected)}"
    )


def test_a_kill9_of_wharfd_during_a_stream_loses_no_acknowledged_message(
    healthy_rabbit_cluster: RabbitCluster, session: Session, gateway_factory, clients, e2e_report
) -> None:
    cluster = healthy_rabbit_cluster
    gateway = gateway_factory(uplink_to(cluster, GATEWAY_NODE))
    SysWatcher(gateway).wait(STATE, lambda state: state == "connected", timeout=20, fresh=False)
    publishers = publishers_on(gateway, clients, session)
    # As fast as wharfd acknowledges: it has messages in hand (stored, in flight to the cloud) throughout.
    stream = Stream(publishers, batch=10, pause=0.005, window=50).start()
    try:
        session.subscriber.wait_for(lambda got: len(got) >= 100, 30)
        deadline = time.monotonic() + 30
        while sum(len(p.acked) for p in publishers) < 1500:
            assert time.monotonic() < deadline and stream.running, "the stream stalled"
            time.sleep(0.05)
        gateway.kill9()
        at_kill = len(session.subscriber.snapshot())
    finally:
        stream.stop()
    # What wharfd acknowledged before it died is what it promised to deliver.
    expected = acked(publishers)
    published = {p.name: set(p.outcomes()) for p in publishers}
    gateway.start()
    report = session.wait_for_all(expected, timeout=90)
    for name in expected:
        assert report.distinct(name) <= published[name], f"{name}: received messages never published"
    unacknowledged = sum(len(published[n]) - len(expected[n]) for n in expected)
    # The kill caught wharfd with work in hand: acknowledged messages the subscriber did not have
    # yet, or records sent but not yet deleted (sent again after the restart).
    total = sum(len(v) for v in expected.values())
    assert total > at_kill or report.duplicates, "wharfd held nothing when it died: the test proved nothing"
    e2e_report(
        f"kill -9 of wharfd during a stream ({at_kill} received at the kill, {unacknowledged} publishes "
        f"unacknowledged): {summary(report, expected)}"
    )


# --- the three nodes as endpoints: failover ------------------------------------------------ #


def uplink_to_all(cluster: RabbitCluster) -> UplinkOptions:
    """MQTT 3.1.1, the cloud session kept, every node an endpoint (node 1 preferred), no failback."""
    endpoints = tuple(f"127.0.0.1:{cluster.mqtt_port(number)}" for number in cluster.numbers)
    return UplinkOptions(
        port=0, mqtt_version="3.1.1", clean_start=False, keepalive="5s", endpoints=endpoints, failback="never"
    )


def uplink_status(admin_port: int) -> dict:
    return get(admin_port, "/api/v1/status").json()["uplink"]


def test_kill9_of_the_node_in_use_fails_over_and_loses_no_acknowledged_message(
    healthy_rabbit_cluster: RabbitCluster, session: Session, gateway_factory, clients, e2e_report
) -> None:
    cluster = healthy_rabbit_cluster
    admin_port = free_port()
    gateway = gateway_factory(uplink_to_all(cluster), wharf_extra_yaml=admin_yaml(admin_port))
    wait_for_admin(admin_port)
    first = wait_until(
        lambda: (status := uplink_status(admin_port))["state"] == "connected" and status["endpoint"],
        timeout=30, what="the uplink connected")
    assert first == f"127.0.0.1:{cluster.mqtt_port(GATEWAY_NODE)}"
    publishers = publishers_on(gateway, clients, session)
    stream = Stream(publishers).start()
    try:
        session.subscriber.wait_for(lambda got: len(got) >= 200, 30)
        cluster.kill9(GATEWAY_NODE)
        at_kill = len(session.subscriber.snapshot())
        # The uplink moves to another node and the stream goes on through it.
        moved = wait_until(
            lambda: (status := uplink_status(admin_port))["state"] == "connected"
            and status["endpoint"] != first
            and status,
            timeout=60, what="the uplink on another node")
        # ...and the stream flows through it: the cloud acknowledges hundreds more.
        after_move = moved["acknowledged"]
        wait_until(
            lambda: uplink_status(admin_port)["acknowledged"] >= after_move + 300,
            timeout=90, what="records acknowledged by the new node")
        assert stream.running, "the stream ended during the failover"
    finally:
        stream.stop()
    for publisher in publishers:
        publisher.wait_acks(timeout=60)
        assert publisher.refused == []
    expected = acked(publishers)
    report = session.wait_for_all(expected, timeout=120)
    for name, sequences in expected.items():
        assert report.distinct(name) == sequences, f"{name}: received messages never acknowledged"
    assert moved["failovers"] >= 1
    e2e_report(
        f"kill -9 of node {GATEWAY_NODE} under a stream, failover to {moved['endpoint']} "
        f"({at_kill} received at the kill): {summary(report, expected)}"
    )


def test_a_rolling_restart_of_the_cluster_during_a_stream_loses_no_acknowledged_message(
    healthy_rabbit_cluster: RabbitCluster, session: Session, gateway_factory, clients, e2e_report
) -> None:
    cluster = healthy_rabbit_cluster
    admin_port = free_port()
    gateway = gateway_factory(uplink_to_all(cluster), wharf_extra_yaml=admin_yaml(admin_port))
    wait_for_admin(admin_port)
    wait_until(lambda: uplink_status(admin_port)["state"] == "connected", timeout=30, what="the uplink connected")
    publishers = publishers_on(gateway, clients, session)
    stream = Stream(publishers).start()
    try:
        session.subscriber.wait_for(lambda got: len(got) >= 100, 30)
        # Every node in turn, each waiting for its quorum queues to be safe before it stops; the
        # subscriber's own node restarts too (its session is resumed below).
        cluster.rolling_restart()
        assert stream.running, "the stream ended during the rolling restart"
        time.sleep(2)
    finally:
        stream.stop()
    for publisher in publishers:
        publisher.wait_acks(timeout=60)
        assert publisher.refused == []
    expected = acked(publishers)
    report = session.wait_for_all(expected, timeout=120)
    for name, sequences in expected.items():
        assert report.distinct(name) == sequences, f"{name}: received messages never acknowledged"
    status = uplink_status(admin_port)
    assert status["failovers"] >= 1
    e2e_report(f"rolling restart under a stream, {status['failovers']} failovers: {summary(report, expected)}")


@pytest.mark.timeout(480)
def test_the_whole_cluster_down_then_back_drains_the_backlog(
    healthy_rabbit_cluster: RabbitCluster, session: Session, gateway_factory, clients, e2e_report
) -> None:
    cluster = healthy_rabbit_cluster
    admin_port = free_port()
    gateway = gateway_factory(uplink_to_all(cluster), wharf_extra_yaml=admin_yaml(admin_port))
    wait_for_admin(admin_port)
    wait_until(lambda: uplink_status(admin_port)["state"] == "connected", timeout=30, what="the uplink connected")
    session.subscriber.close()
    for number in reversed(cluster.numbers):
        cluster.stop(number)
    publishers = publishers_on(gateway, clients, session)
    per_publisher = 500
    for publisher in publishers:
        publisher.publish(per_publisher)
        publisher.wait_acks(timeout=60)
        assert publisher.acked == list(range(1, per_publisher + 1))
    assert uplink_status(admin_port)["state"] != "connected"

    # Back in the reverse order of the stop (the last node down first), as RabbitMQ wants.
    for number in cluster.numbers:
        cluster.start(number, wait=False)
    for number in cluster.numbers:
        cluster.wait_ready(number, 300)
    session.subscriber.connect()
    expected = acked(publishers)
    report = session.wait_for_all(expected, timeout=300)
    for name, sequences in expected.items():
        assert report.distinct(name) == sequences, f"{name}: received messages never acknowledged"
    e2e_report(f"the whole cluster down then back: {summary(report, expected)}")
