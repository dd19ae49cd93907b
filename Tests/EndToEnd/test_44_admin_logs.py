"""44 admin API, logs: the last warning-or-worse lines in memory at /api/v1/logs."""

from __future__ import annotations

import pytest

from wharf_e2e.admin import admin_yaml, get, wait_for_admin, wait_until
from wharf_e2e.broker import Broker, free_port

pytestmark = pytest.mark.wharf_only(reason="Wharf's admin HTTP API")

ADMIN_PORT = free_port()
REFUSAL = "refusing client: max_connections (1) reached"


def _refuse_one(raw, name: str) -> None:
    """A CONNECT beyond max_connections: the broker refuses it and logs a warning."""
    client = raw()
    client.connect(name, expect_reason=None)
    client.close()


def _lines() -> list[dict]:
    return get(ADMIN_PORT, "/api/v1/logs").json()["lines"]


@pytest.mark.broker_config(max_connections=1, wharf_extra_yaml=admin_yaml(ADMIN_PORT))
def test_a_warning_is_in_the_log_ring(broker: Broker, raw) -> None:
    wait_for_admin(ADMIN_PORT)
    document = get(ADMIN_PORT, "/api/v1/logs").json()
    assert document["capacity"] == 200
    assert document["dropped"] == 0
    # Notices such as "wharfd ready" are below warning: not kept.
    assert all(line["level"] in ("warning", "error", "critical") for line in document["lines"])
    assert not any("wharfd ready" in line["message"] for line in document["lines"])

    first = raw()
    first.connect("holder")
    _refuse_one(raw, "refused-1")
    line = wait_until(
        lambda: next((line for line in _lines() if line["message"] == REFUSAL), None), what="the refusal in the ring"
    )
    assert line["level"] == "warning"
    assert line["label"] == "wharf.broker"
    assert line["time"].endswith("Z") and line["time"][10] == "T"
    assert isinstance(line["metadata"], dict)
    assert REFUSAL in broker.log(), "the same line went to standard error"


@pytest.mark.broker_config(max_connections=1, wharf_extra_yaml=admin_yaml(ADMIN_PORT, "  log_lines: 2\n"))
def test_the_ring_keeps_the_newest_lines_and_counts_the_rest(broker: Broker, raw) -> None:
    wait_for_admin(ADMIN_PORT)
    before = get(ADMIN_PORT, "/api/v1/logs").json()
    holder = raw()
    holder.connect("holder")
    for index in range(4):
        _refuse_one(raw, f"refused-{index}")
    document = wait_until(
        lambda: (d := get(ADMIN_PORT, "/api/v1/logs").json())["dropped"] >= before["dropped"] + 2 + len(before["lines"])
        and d,
        what="older lines pushed out",
    )
    assert document["capacity"] == 2
    assert [line["message"] for line in document["lines"]] == [REFUSAL, REFUSAL]


@pytest.mark.broker_config(max_connections=1, wharf_extra_yaml=admin_yaml(ADMIN_PORT, "  log_lines: 0\n"))
def test_log_lines_zero_keeps_nothing(broker: Broker, raw) -> None:
    wait_for_admin(ADMIN_PORT)
    holder = raw()
    holder.connect("holder")
    _refuse_one(raw, "refused")
    wait_until(lambda: REFUSAL in broker.log(), what="the refusal on standard error")
    assert get(ADMIN_PORT, "/api/v1/logs").json() == {"capacity": 0, "dropped": 0, "lines": []}
