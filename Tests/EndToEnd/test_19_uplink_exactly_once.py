"""QoS 2 towards the cloud where a forward rule asks for it and the cloud grants it, against a real
Mosquitto: each message once at the cloud, nothing lost across kill -9 of wharfd (a QoS 2 packet
identifier left open at the cloud by the killed run must not swallow a new message), QoS 1 where the
cloud grants only QoS 1, and the status and the will on a cloud whose Maximum QoS is 0."""

from __future__ import annotations

import time
from typing import Callable

import pytest

from wharf_e2e.admin import admin_yaml, get, metric, wait_until
from wharf_e2e.broker import free_port
from wharf_e2e.client import V5, MqttClient
from wharf_e2e.cloud import Cloud, CloudSubscriber
from wharf_e2e.gateway import AckingPublisher, DeliveryReport, Forward, Gateway, SysWatcher, UplinkOptions

pytestmark = pytest.mark.wharf_only(reason="wharfd's uplink towards a cloud broker")

SITE = "site/gw1/"
STATUS = "wharf/gw1/status"


def gateway_for(gateway_factory, cloud: Cloud, admin_port: int, rule_qos: int = 2, version: str = "5") -> Gateway:
    options = UplinkOptions(port=cloud.port, mqtt_version=version, max_inflight=50, forward=(Forward(qos=rule_qos),))
    return gateway_factory(options, wharf_extra_yaml=admin_yaml(admin_port))


def wait_for_all(subscriber: CloudSubscriber, publisher: AckingPublisher, timeout: float = 30) -> DeliveryReport:
    acked = set(publisher.acked)
    subscriber.wait_for(lambda got: acked <= DeliveryReport.of(got, SITE).distinct(publisher.name), timeout)
    return DeliveryReport.of(subscriber.snapshot(), SITE)


@pytest.mark.timeout(90)
def test_a_qos2_forward_rule_delivers_each_message_exactly_once_at_qos2(
    cloud_factory, gateway_factory, clients: Callable[..., MqttClient], e2e_report
) -> None:
    cloud = cloud_factory()
    at_cloud = CloudSubscriber(cloud, [SITE + "#", STATUS], qos=2).connect()
    admin_port = free_port()
    gateway = gateway_for(gateway_factory, cloud, admin_port)
    publisher = AckingPublisher(clients(gateway, version=V5, client_id="pub"), "p", "devices/p/data", qos=2)
    publisher.publish(1000)
    publisher.wait_acks(timeout=30)
    assert len(publisher.acked) == 1000

    report = wait_for_all(at_cloud, publisher)
    assert report.duplicates == []
    records = [m for m in at_cloud.snapshot() if m.topic.startswith(SITE)]
    assert len(records) == 1000 and {m.qos for m in records} == {2}
    text = wait_until(
        lambda: (t := get(admin_port, "/metrics").body)
        and (metric(t, "wharf_uplink_exactly_once_completed_total") or 0) >= 1000
        and t,
        15,
        "every QoS 2 flow completed with PUBCOMP",
    )
    assert metric(text, "wharf_uplink_messages_acknowledged_total") >= 1000
    # The "online" status names the endpoint in use (MQTT 5 user property).
    [online] = [m for m in at_cloud.snapshot() if m.topic == STATUS and m.text == "online"]
    assert ("endpoint", f"{cloud.host}:{cloud.port}") in online.properties.get("UserProperty", [])
    e2e_report(f"QoS 2 forward rule: 1000 acknowledged, 1000 at the cloud at QoS 2, no duplicate")


@pytest.mark.timeout(180)
def test_kill9_of_wharfd_mid_stream_at_qos2_loses_no_acknowledged_message(
    cloud_factory, gateway_factory, clients: Callable[..., MqttClient], e2e_report
) -> None:
    cloud = cloud_factory()
    at_cloud = CloudSubscriber(cloud, [SITE + "#"], qos=2).connect()
    admin_port = free_port()
    gateway = gateway_for(gateway_factory, cloud, admin_port)
    acknowledged: set[int] = set()
    base = 0
    for round_ in range(4):
        publisher = AckingPublisher(clients(gateway, version=V5, client_id=f"pub{round_}"), "p", "devices/p/data", 2)
        publisher.sequence = base
        publisher.publish(600)
        publisher.wait_acks(timeout=30)
        acknowledged |= set(publisher.acked)
        base = publisher.sequence
        # Killed while the uplink drains: QoS 2 flows are open at the cloud (PUBREC sent, no PUBREL yet).
        at_cloud.wait_for(lambda got: len(got) >= base - 300, 30)
        gateway.kill9()
        gateway.start()

    def complete(got: list) -> bool:  # noqa: ANN001
        return acknowledged <= DeliveryReport.of(got, SITE).distinct("p")

    try:
        at_cloud.wait_for(complete, 45)
    except AssertionError:
        missing = sorted(acknowledged - DeliveryReport.of(at_cloud.snapshot(), SITE).distinct("p"))
        raise AssertionError(f"{len(missing)} acknowledged messages never reached the cloud: {missing[:20]}")
    # A strict server would have discarded a new message sent under an identifier the killed run left
    # open; Mosquitto instead logs the reuse and takes the message. Either way: no reuse may happen.
    assert "Reused message ID" not in cloud.log()
    report = DeliveryReport.of(at_cloud.snapshot(), SITE)
    e2e_report(
        f"QoS 2 with 4 kill -9 of wharfd: {len(acknowledged)} acknowledged, all at the cloud, "
        f"{len(report.duplicates)} duplicates (in flight at a kill, sent again after the restart)"
    )


@pytest.mark.timeout(60)
@pytest.mark.parametrize("version", ["5", "3.1.1"])
def test_a_cloud_granting_qos1_gets_qos2_records_at_qos1(
    cloud_factory, gateway_factory, clients: Callable[..., MqttClient], version: str
) -> None:
    # MQTT 5: the CONNACK says Maximum QoS 1. MQTT 3.1.1 cannot say it: QoS 1 is all the uplink uses.
    cloud = cloud_factory(extra=("max_qos 1",) if version == "5" else ())
    # At QoS 2 where the cloud allows it, so that what arrives shows the QoS the uplink published at.
    at_cloud = CloudSubscriber(cloud, [SITE + "#"], qos=1 if version == "5" else 2).connect()
    admin_port = free_port()
    gateway = gateway_for(gateway_factory, cloud, admin_port, version=version)
    publisher = AckingPublisher(clients(gateway, version=V5, client_id="pub"), "p", "devices/p/data", qos=2)
    publisher.publish(200)
    publisher.wait_acks()
    wait_for_all(at_cloud, publisher)
    assert {m.qos for m in at_cloud.snapshot() if m.topic.startswith(SITE)} == {1}
    text = get(admin_port, "/metrics").body
    assert metric(text, "wharf_uplink_exactly_once_completed_total") == 0
    assert "maximum-qos" not in gateway.log()


@pytest.mark.timeout(60)
def test_max_qos_2_enables_qos2_towards_an_mqtt_311_cloud(
    cloud_factory, gateway_factory, clients: Callable[..., MqttClient]
) -> None:
    cloud = cloud_factory()
    at_cloud = CloudSubscriber(cloud, [SITE + "#"], qos=2).connect()
    admin_port = free_port()
    options = UplinkOptions(
        port=cloud.port, mqtt_version="3.1.1", forward=(Forward(qos=2),), extra=("  limits:", "    max_qos: 2")
    )
    gateway = gateway_factory(options, wharf_extra_yaml=admin_yaml(admin_port))
    publisher = AckingPublisher(clients(gateway, version=V5, client_id="pub"), "p", "devices/p/data", qos=2)
    publisher.publish(200)
    publisher.wait_acks()
    report = wait_for_all(at_cloud, publisher)
    assert report.duplicates == []
    assert {m.qos for m in at_cloud.snapshot() if m.topic.startswith(SITE)} == {2}


@pytest.mark.timeout(60)
def test_a_cloud_with_maximum_qos_0_gets_the_status_and_the_will_at_qos0(
    cloud_factory, gateway_factory, clients: Callable[..., MqttClient]
) -> None:
    cloud = cloud_factory(extra=("max_qos 0",))
    admin_port = free_port()
    gateway = gateway_for(gateway_factory, cloud, admin_port, rule_qos=1)
    # Mosquitto refuses a QoS 1 will (CONNACK 0x9B); the next attempt sends it at QoS 0 and is accepted.
    wait_until(
        lambda: get(admin_port, "/api/v1/status").json()["uplink"]["state"] == "connected",
        15,
        "the uplink connected with a QoS 0 will",
    )
    assert "takes no QoS 1 will" in gateway.log(), "the will's refusal was not logged"

    def retained() -> str | None:
        probe = clients(cloud)
        probe.subscribe(STATUS, 0)
        try:
            [message] = probe.messages.wait(1, timeout=2)
        except AssertionError:
            return None
        finally:
            probe.disconnect()
        return message.text if message.retain else None

    wait_until(lambda: retained() == "online", 10, "retained online at the cloud")
    # QoS 1 records stay queued (reported), the link stays up: nothing was sent at a QoS the cloud refuses.
    publisher = AckingPublisher(clients(gateway, version=V5, client_id="pub"), "p", "devices/p/data")
    publisher.publish(5)
    publisher.wait_acks()
    watcher = SysWatcher(gateway)
    assert watcher.wait_int("$SYS/broker/uplink/maximum qos blocked", lambda v: v == 1) == 1
    assert watcher.wait_int("$SYS/broker/queue/depth", lambda v: v == 5) == 5
    watcher.close()
    assert get(admin_port, "/api/v1/status").json()["uplink"]["state"] == "connected"
    gateway.kill9()
    wait_until(lambda: retained() == "offline", 15, "the will's retained offline at the cloud")
    gateway.start()
