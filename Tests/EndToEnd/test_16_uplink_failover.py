"""The uplink with two independent Mosquitto brokers as primary and backup endpoints: failover when
the primary dies under a steady QoS 1 stream, failback when it returns, both down then back, the
status topic on both sides, and kill -9 of wharfd during a failover."""

from __future__ import annotations

import time
from typing import Callable

import pytest

from wharf_e2e.admin import admin_yaml, get, metric, wait_until
from wharf_e2e.broker import free_port
from wharf_e2e.client import V5, MqttClient
from wharf_e2e.cloud import Cloud, CloudSubscriber
from wharf_e2e.gateway import AckingPublisher, DeliveryReport, Gateway, UplinkOptions
from wharf_e2e.remote_config import CloudView, remote_yaml

pytestmark = pytest.mark.wharf_only(reason="wharfd's uplink endpoints and failover")

SITE = "site/gw1/"
STATUS = "wharf/gw1/status"


def endpoint(cloud: Cloud) -> str:
    return f"{cloud.host}:{cloud.port}"


def failover_gateway(
    gateway_factory, primary: Cloud, backup: Cloud, admin_port: int, failback: str = "never", extra_yaml: str = ""
) -> Gateway:
    # Keep alive 2 s: a killed broker's socket closes at once, a frozen one is noticed within 3 s.
    options = UplinkOptions(
        port=0,
        endpoints=(endpoint(primary), endpoint(backup)),
        failback=failback,
        keepalive="2s",
        backoff_base="200ms",
        backoff_cap="1s",
    )
    return gateway_factory(options, wharf_extra_yaml=admin_yaml(admin_port) + extra_yaml)


def uplink_status(admin_port: int) -> dict:
    return get(admin_port, "/api/v1/status").json()["uplink"]


def wait_connected_to(admin_port: int, cloud: Cloud, timeout: float = 15.0) -> dict:
    return wait_until(
        lambda: (u := uplink_status(admin_port))["state"] == "connected" and u["endpoint"] == endpoint(cloud) and u,
        timeout,
        f"the uplink connected to {endpoint(cloud)}",
    )


def retained_status(cloud: Cloud, clients: Callable[..., MqttClient]) -> str | None:
    """The retained status a new subscriber gets at `cloud` (None when there is none)."""
    probe = clients(cloud)
    probe.subscribe(STATUS, 1)
    try:
        [message] = probe.messages.wait(1, timeout=2)
    except AssertionError:
        return None
    finally:
        probe.disconnect()
    return message.text if message.retain else None


def wait_retained(cloud: Cloud, clients: Callable[..., MqttClient], text: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while (seen := retained_status(cloud, clients)) != text:
        assert time.monotonic() < deadline, f"retained status at {endpoint(cloud)} is {seen!r}, not {text!r}"
        time.sleep(0.2)


def stream(publisher: AckingPublisher, count: int, pause: float = 0.005) -> None:
    """A steady stream: `count` QoS 1 publishes, a few at a time."""
    for _ in range(count // 10):
        publisher.publish(10)
        time.sleep(pause)


def union_report(*subscribers: CloudSubscriber) -> DeliveryReport:
    messages = [m for s in subscribers for m in s.snapshot()]
    return DeliveryReport.of(messages, SITE)


def assert_every_acknowledged_arrived(publisher: AckingPublisher, *subscribers: CloudSubscriber) -> DeliveryReport:
    acked = set(publisher.acked)

    def complete(_: object = None) -> bool:
        return acked <= union_report(*subscribers).distinct(publisher.name)

    deadline = time.monotonic() + 30
    while not complete():
        assert time.monotonic() < deadline, (
            f"{len(acked - union_report(*subscribers).distinct(publisher.name))} acknowledged messages never "
            f"arrived, first {sorted(acked - union_report(*subscribers).distinct(publisher.name))[:10]}"
        )
        time.sleep(0.2)
    return union_report(*subscribers)


@pytest.mark.timeout(90)
def test_killing_the_primary_mid_stream_fails_over_and_loses_no_acknowledged_message(
    cloud_factory, gateway_factory, clients, e2e_report
) -> None:
    primary, backup = cloud_factory(), cloud_factory()
    at_primary = CloudSubscriber(primary, [SITE + "#"]).connect()
    at_backup = CloudSubscriber(backup, [SITE + "#", STATUS]).connect()
    admin_port = free_port()
    gateway = failover_gateway(gateway_factory, primary, backup, admin_port)
    wait_connected_to(admin_port, primary)
    assert uplink_status(admin_port)["failovers"] == 0
    wait_retained(primary, clients, "online")

    publisher = AckingPublisher(clients(gateway, version=V5, client_id="pub"), "p", "devices/p/data")
    stream(publisher, 1000)
    at_primary.wait_for(lambda got: len(got) >= 300, 20)
    primary.kill9()
    stream(publisher, 1000)
    publisher.wait_acks(timeout=30)
    assert len(publisher.acked) == 2000

    status = wait_connected_to(admin_port, backup)
    assert status["failovers"] == 1
    assert status["remote"] == endpoint(backup)
    text = get(admin_port, "/metrics").body
    assert metric(text, "wharf_uplink_failovers_total") == 1
    report = assert_every_acknowledged_arrived(publisher, at_primary, at_backup)
    # What the backup got arrived in order (each record once first, resends of the primary's in-flight first).
    backup_firsts = DeliveryReport.of(at_backup.snapshot(), SITE).first_arrivals("p")
    assert backup_firsts == sorted(backup_firsts)
    assert backup_firsts[-1] == 2000
    # The same session identity was offered to the backup, with the will and the "online" status.
    wait_retained(backup, clients, "online")
    e2e_report(
        f"primary killed mid-stream: 2000 acknowledged, {len(at_primary.snapshot())} at the primary, "
        f"{len(backup_firsts)} at the backup, {len(report.duplicates)} duplicates (in flight at the kill)"
    )


@pytest.mark.timeout(90)
def test_the_uplink_fails_back_to_the_primary_after_the_configured_time(
    cloud_factory, gateway_factory, clients
) -> None:
    primary, backup = cloud_factory(), cloud_factory()
    at_primary = CloudSubscriber(primary, [SITE + "#"]).connect()
    at_backup = CloudSubscriber(backup, [SITE + "#"]).connect()
    admin_port = free_port()
    gateway = failover_gateway(gateway_factory, primary, backup, admin_port, failback="2s")
    wait_connected_to(admin_port, primary)
    primary.stop()
    wait_connected_to(admin_port, backup)
    publisher = AckingPublisher(clients(gateway, version=V5, client_id="pub"), "p", "devices/p/data")
    publisher.publish(100)
    publisher.wait_acks()
    at_backup.wait_for(lambda got: len(DeliveryReport.of(got, SITE).distinct("p")) == 100, 15)

    # Still down after the failback time: the uplink stays on the backup.
    time.sleep(3)
    assert uplink_status(admin_port)["endpoint"] == endpoint(backup)
    primary.start()
    at_primary.connect()
    status = wait_connected_to(admin_port, primary, timeout=20)
    # A planned return is not a failover.
    assert status["failovers"] == 1
    publisher.publish(100)
    publisher.wait_acks()
    got = at_primary.wait_for(lambda got: len(DeliveryReport.of(got, SITE).distinct("p")) >= 100, 15)
    assert max(DeliveryReport.of(got, SITE).distinct("p")) == 200
    assert set(publisher.acked) <= union_report(at_primary, at_backup).distinct("p")
    # The backup was left with a goodbye: its retained status says offline, the primary's online.
    wait_retained(backup, clients, "offline")
    wait_retained(primary, clients, "online")


@pytest.mark.timeout(120)
def test_both_endpoints_down_then_back_drains_the_backlog(cloud_factory, gateway_factory, clients) -> None:
    primary, backup = cloud_factory(persistence=True), cloud_factory(persistence=True)
    at_primary = CloudSubscriber(primary, [SITE + "#"]).connect()
    at_backup = CloudSubscriber(backup, [SITE + "#"]).connect()
    admin_port = free_port()
    gateway = failover_gateway(gateway_factory, primary, backup, admin_port)
    wait_connected_to(admin_port, primary)
    at_primary.close()
    at_backup.close()
    primary.stop()
    backup.stop()
    publisher = AckingPublisher(clients(gateway, version=V5, client_id="pub"), "p", "devices/p/data")
    stream(publisher, 2000)
    publisher.wait_acks(timeout=30)
    assert len(publisher.acked) == 2000
    wait_until(
        lambda: uplink_status(admin_port)["reconnects"] >= 4, 15, "reconnect attempts to both endpoints"
    )
    assert uplink_status(admin_port)["state"] != "connected"

    backup.start()
    at_backup.connect()
    wait_connected_to(admin_port, backup)
    primary.start()
    at_primary.connect()
    report = assert_every_acknowledged_arrived(publisher, at_primary, at_backup)
    assert report.first_arrivals("p")[:1] == [1]


@pytest.mark.timeout(120)
def test_kill9_of_wharfd_during_a_failover_loses_no_acknowledged_message(
    cloud_factory, gateway_factory, clients, e2e_report
) -> None:
    primary, backup = cloud_factory(), cloud_factory()
    at_primary = CloudSubscriber(primary, [SITE + "#"]).connect()
    at_backup = CloudSubscriber(backup, [SITE + "#"]).connect()
    admin_port = free_port()
    gateway = failover_gateway(gateway_factory, primary, backup, admin_port)
    wait_connected_to(admin_port, primary)
    publisher = AckingPublisher(clients(gateway, version=V5, client_id="pub"), "p", "devices/p/data")
    stream(publisher, 1000)
    publisher.wait_acks(timeout=30)
    # The primary dies while the backlog drains, and wharfd right after it.
    at_primary.wait_for(lambda got: len(got) >= 100, 20)
    primary.kill9()
    gateway.kill9()
    gateway.start()
    wait_connected_to(admin_port, backup)
    report = assert_every_acknowledged_arrived(publisher, at_primary, at_backup)
    e2e_report(
        f"kill -9 of the primary then of wharfd: 1000 acknowledged, {len(at_primary.snapshot())} at the primary, "
        f"{len(report.distinct('p'))} distinct in all, {len(report.duplicates)} duplicates"
    )


@pytest.mark.timeout(90)
def test_the_status_and_the_reported_state_name_the_endpoint_in_use_across_a_failover(
    cloud_factory, gateway_factory, clients, tmp_path
) -> None:
    primary, backup = cloud_factory(), cloud_factory()
    views = {endpoint(c): CloudView(clients(c)) for c in (primary, backup)}
    statuses = {endpoint(c): CloudSubscriber(c, [STATUS]).connect() for c in (primary, backup)}
    trusted = tmp_path / "trusted-keys"
    trusted.mkdir()
    admin_port = free_port()
    failover_gateway(gateway_factory, primary, backup, admin_port, extra_yaml=remote_yaml(trusted))
    wait_connected_to(admin_port, primary)
    views[endpoint(primary)].wait(lambda r: r.get("uplink_endpoint") == endpoint(primary), 15)

    primary.kill9()
    wait_connected_to(admin_port, backup)
    # The cloud side learns where the gateway is now: the retained report names the backup there.
    report = views[endpoint(backup)].wait(lambda r: r.get("uplink_endpoint") == endpoint(backup), 15)
    assert report["running_version"] is None
    # Each side's "online" (MQTT 5) names that side.
    for cloud in (primary, backup):
        online = [m for m in statuses[endpoint(cloud)].snapshot() if m.text == "online"]
        assert online and ("endpoint", endpoint(cloud)) in online[-1].properties.get("UserProperty", [])
