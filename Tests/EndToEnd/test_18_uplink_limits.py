"""The uplink's per-endpoint limits (`uplink.limits`) against a real Mosquitto as the cloud: a record
that can never fit moves to the dead-letter table with the reason while the records around it
arrive, `max_publish_rate` holds sending to the rate, and `max_qos: 0` keeps QoS 1 records queued
(reported, not lost) until the limit is lifted."""

from __future__ import annotations

import json
import time
from typing import Callable

import pytest

from wharf_e2e.admin import admin_yaml, get, metric, wait_for_admin, wait_until, wharfctl, wharfctl_path
from wharf_e2e.broker import free_port
from wharf_e2e.client import V5, MqttClient
from wharf_e2e.cloud import Cloud, CloudSubscriber
from wharf_e2e.gateway import (
    AckingPublisher,
    DeliveryReport,
    Forward,
    Gateway,
    SysWatcher,
    UplinkOptions,
    log_records,
)

pytestmark = pytest.mark.wharf_only(reason="wharfd's uplink limits towards a Mosquitto cloud")

SITE = "site/gw1/"


def limits(*lines: str) -> tuple[str, ...]:
    """An `uplink.limits` mapping with these `key: value` lines."""
    return ("  limits:", *(f"    {line}" for line in lines))


def arrivals(subscriber: CloudSubscriber, name: str) -> list[int]:
    """Sequences of publisher `name` that reached the cloud subscriber, in arrival order."""
    return DeliveryReport.of(subscriber.snapshot(), SITE).arrivals.get(name, [])


@pytest.mark.skipif(not wharfctl_path().is_file(), reason="wharfctl not built (it is wharfd: swift build --product wharfd)")
def test_records_that_can_never_fit_are_dead_lettered_while_the_rest_arrive(
    cloud: Cloud, gateway_factory: Callable[..., Gateway], clients: Callable[..., MqttClient]
) -> None:
    at_cloud = CloudSubscriber(cloud, [SITE + "#"]).connect()
    admin_port = free_port()
    gateway = gateway_factory(
        UplinkOptions(port=cloud.port, extra=limits("max_payload_bytes: 1KiB", "max_topic_levels: 6")),
        wharf_extra_yaml=admin_yaml(admin_port),
    )
    admin = f"http://127.0.0.1:{admin_port}"
    publisher = AckingPublisher(clients(gateway, version=V5, client_id="pub"), "p", "devices/p/data")
    other = clients(gateway, version=V5, client_id="other")
    publisher.publish(10)
    publisher.wait_acks()
    # 2000 bytes of payload; site/gw1/devices/a/b/c/d has 7 levels. Both are taken by the local
    # broker and queued (the publisher is told so), and neither may ever reach the cloud.
    other.publish("devices/big", b"B" * 2000, 1)
    publisher.publish(10)
    publisher.wait_acks()
    other.publish("devices/a/b/c/d", b"deep", 1)
    publisher.publish(10)
    publisher.wait_acks()
    assert publisher.acked == list(range(1, 31))

    at_cloud.wait_for(lambda got: len(DeliveryReport.of(got, SITE).distinct("p")) == 30, 20)
    assert arrivals(at_cloud, "p") == list(range(1, 31))
    wait_for_admin(admin_port)
    document = wait_until(
        lambda: (d := json.loads(wharfctl("queue", "dead-letters", "--json", "--url", admin).stdout))["count"] == 2
        and d,
        15,
        "two dead letters",
    )
    letters = {letter["topic"]: letter for letter in document["dead_letters"]}
    endpoint = f"127.0.0.1:{cloud.port}"
    big = letters[SITE + "devices/big"]
    assert (big["reason_code"], big["reason"], big["payload_bytes"]) == (0x95, "packet-too-large", 2000)
    assert big["reason_string"] == f"payload 2000 bytes above uplink.limits.max_payload_bytes 1024 of {endpoint}"
    deep = letters[SITE + "devices/a/b/c/d"]
    assert (deep["reason_code"], deep["reason"], deep["payload"]) == (0x90, "topic-name-invalid", "deep")
    assert deep["reason_string"] == f"topic of 7 levels above uplink.limits.max_topic_levels 6 of {endpoint}"

    # The cloud never saw either of them.
    time.sleep(0.5)
    assert not [m.topic for m in at_cloud.snapshot() if not m.topic.startswith(SITE + "devices/p/")]

    text = wait_until(
        lambda: (body := get(admin_port, "/metrics").body)
        and metric(body, "wharf_uplink_refusals_total", 'kind="local",reason="0x90"') == 1
        and body,
        10,
        "the local refusals in /metrics",
    )
    assert metric(text, "wharf_uplink_refusals_total", 'kind="local",reason="0x95"') == 1
    assert metric(text, "wharf_uplink_limit_hits_total", 'limit="max_payload_bytes"') == 1
    assert metric(text, "wharf_uplink_limit_hits_total", 'limit="max_topic_levels"') == 1
    assert metric(text, "wharf_uplink_dead_letters_total", 'reason="0x95"') == 1
    assert metric(text, "wharf_uplink_dead_letters_total", 'reason="0x90"') == 1
    assert metric(text, "wharf_queue_depth") == 0
    watcher = SysWatcher(gateway)
    assert watcher.wait_int("$SYS/broker/uplink/refusals/local", lambda v: v == 2) == 2
    assert watcher.wait_int("$SYS/broker/queue/dead letters", lambda v: v == 2) == 2
    watcher.close()
    logged = [r for r in log_records(gateway.log()) if r.get("uplink.error") == "local-limit"]
    assert sorted(r.get("uplink.limit") for r in logged) == ["max_payload_bytes", "max_topic_levels"]


def test_max_publish_rate_holds_the_uplink_to_the_rate(
    cloud: Cloud, gateway_factory: Callable[..., Gateway], clients: Callable[..., MqttClient]
) -> None:
    rate, burst, total = 20, 2, 80
    at_cloud = CloudSubscriber(cloud, [SITE + "#"]).connect()
    admin_port = free_port()
    gateway = gateway_factory(
        UplinkOptions(port=cloud.port, extra=limits(f"max_publish_rate: {rate}")),
        wharf_extra_yaml=admin_yaml(admin_port),
    )
    publisher = AckingPublisher(clients(gateway, version=V5, client_id="pub"), "p", "devices/p/data")
    # Nothing can reach the cloud before this moment, so no count after it may exceed what the
    # rate allows since then (the daemon's own clock started later, which only lowers its allowance).
    started = time.monotonic()
    publisher.publish(total)
    publisher.wait_acks()
    samples: list[tuple[float, int]] = []
    while len(arrivals(at_cloud, "p")) < total:
        elapsed = time.monotonic() - started
        samples.append((elapsed, len(arrivals(at_cloud, "p"))))
        assert elapsed < 60, f"only {samples[-1][1]} of {total} arrived in 60 s"
        time.sleep(0.2)
    finished = time.monotonic() - started
    assert arrivals(at_cloud, "p") == list(range(1, total + 1))
    # Generous slack: half as much again as the rate, plus a few for the sampling.
    for elapsed, count in samples:
        assert count <= burst + rate * elapsed * 1.5 + 3, f"{count} arrived within {elapsed:.2f} s at {rate}/s"
    # At the rate, the last record cannot arrive before (total - burst) / rate seconds.
    assert finished >= (total - burst) / rate / 1.5, f"{total} records arrived within {finished:.2f} s"
    waits = metric(get(admin_port, "/metrics").body, "wharf_uplink_limit_hits_total", 'limit="max_publish_rate"')
    assert waits is not None and waits > 0
    watcher = SysWatcher(gateway)
    assert watcher.wait_int("$SYS/broker/uplink/limits/rate waits", lambda v: v > 0) > 0
    assert watcher.wait_int("$SYS/broker/queue/depth", lambda v: v == 0) == 0
    watcher.close()


def test_max_qos_0_keeps_qos1_records_queued_until_the_limit_is_lifted(
    cloud: Cloud, gateway_factory: Callable[..., Gateway], clients: Callable[..., MqttClient]
) -> None:
    at_cloud = CloudSubscriber(cloud, [SITE + "#"]).connect()
    admin_port = free_port()
    forward = (Forward(filter="devices/#"), Forward(filter="telemetry/#", qos=0, name="best-effort"))
    limited = UplinkOptions(port=cloud.port, forward=forward, extra=limits("max_qos: 0"))
    gateway = gateway_factory(limited, wharf_extra_yaml=admin_yaml(admin_port))
    watcher = SysWatcher(gateway)
    client = clients(gateway, version=V5, client_id="pub")
    client.publish("telemetry/t", b"fire-and-forget", 1)
    for index in range(3):
        client.publish("devices/d", f"keep-{index}".encode(), 1)

    assert watcher.wait_int("$SYS/broker/uplink/maximum qos blocked", lambda v: v == 1) == 1
    assert watcher.wait_int("$SYS/broker/queue/depth", lambda v: v == 3) == 3
    at_cloud.wait_for(lambda got: any(m.topic == SITE + "telemetry/t" for m in got), 10)
    time.sleep(1.0)
    assert watcher.wait_int("$SYS/broker/queue/depth", lambda v: True) == 3
    assert [(m.payload, m.qos) for m in at_cloud.snapshot()] == [(b"fire-and-forget", 0)]
    status = get(admin_port, "/api/v1/status").json()["uplink"]
    assert "uplink.limits.max_qos" in (status["last_error"] or ""), status
    errors = [r for r in log_records(gateway.log()) if r.get("uplink.error") == "maximum-qos"]
    assert len(errors) == 1
    watcher.close()

    # Without the limit (uplink changes take effect at a restart) the held records drain, in order.
    gateway.stop()
    gateway.reconfigure(uplink=UplinkOptions(port=cloud.port, forward=forward))
    gateway.start()
    at_cloud.wait_for(lambda got: len(got) >= 4, 15)
    assert [m.payload for m in at_cloud.snapshot()] == [b"fire-and-forget", b"keep-0", b"keep-1", b"keep-2"]
    watcher = SysWatcher(gateway)
    assert watcher.wait_int("$SYS/broker/queue/depth", lambda v: v == 0) == 0
    assert watcher.wait_int("$SYS/broker/uplink/maximum qos blocked", lambda v: v == 0) == 0
    watcher.close()
