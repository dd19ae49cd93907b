"""45 admin API, history: samples of traffic, queue and clients at /api/v1/history."""

from __future__ import annotations

import pytest

from wharf_e2e.admin import admin_yaml, get, wait_for_admin, wait_until
from wharf_e2e.broker import Broker, free_port

pytestmark = pytest.mark.wharf_only(reason="Wharf's admin HTTP API")

ADMIN_PORT = free_port()
CLOSED_PORT = free_port()
# One sample a second (the shortest history_interval), and an uplink that never connects, so
# that what is published to devices/# stays queued.
FAST = pytest.mark.broker_config(
    wharf_extra_yaml=admin_yaml(ADMIN_PORT, "  history_interval: 1s\n")
    + "uplink:\n  enabled: true\n  host: 127.0.0.1\n"
    + f"  port: {CLOSED_PORT}\n"
    + "  backoff:\n    base: 100ms\n    cap: 200ms\n"
    + '  forward:\n    - filter: "devices/#"\n'
)


def _samples() -> list[dict]:
    return get(ADMIN_PORT, "/api/v1/history").json()["samples"]


@FAST
def test_a_sample_shows_the_traffic_and_the_queue(broker: Broker, mqtt) -> None:
    wait_for_admin(ADMIN_PORT)
    document = get(ADMIN_PORT, "/api/v1/history").json()
    assert document["interval_seconds"] == 1
    publisher = mqtt()
    subscriber = mqtt()
    subscriber.subscribe("devices/#", 1)
    for index in range(20):
        publisher.publish(f"devices/d{index}/t", b"21.5", 1)
    sample = wait_until(
        lambda: next((s for s in _samples() if s["messages_in_per_second"] > 0 and s["queue_depth"] >= 20), None),
        what="a sample with traffic and the queue",
    )
    assert sample["messages_out_per_second"] > 0, "the subscriber got them"
    assert sample["queue_bytes"] > 0
    assert sample["connected_clients"] == 2
    assert sample["time"].endswith("Z")
    # Without traffic the rates fall back to 0; the queue stays.
    quiet = wait_until(
        lambda: (last := _samples()[-1])["messages_in_per_second"] == 0 and last, what="a quiet sample"
    )
    assert quiet["queue_depth"] >= 20
    times = [s["time"] for s in _samples()]
    assert times == sorted(times), "oldest first"


@pytest.mark.broker_config(wharf_extra_yaml=admin_yaml(ADMIN_PORT))
def test_the_default_interval_is_ten_seconds(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    assert get(ADMIN_PORT, "/api/v1/history").json() == {"interval_seconds": 10, "samples": []}
