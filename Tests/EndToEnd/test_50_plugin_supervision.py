"""50 Supervision of plugins: a crash at start is restarted with backoff, then quarantined (failed health,
retained `$status`, a metric) until `wharfctl plugin restart`, `POST /api/v1/plugins/NAME/restart` or
a SIGHUP; a reload restarts changed plugins only; a crash mid-stream and a hang are restarted; a
wrong protocol version is quarantined at once, never retried.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from wharf_e2e.admin import wait_until
from wharf_e2e.plugins import (
    PluginWharf,
    log_lines,
    plugin,
    plugin_wharfd,  # noqa: F401 - fixture
    status_documents,
    wait_gone,
    wait_retained_status,
)

pytestmark = pytest.mark.wharf_only(reason="plugins are Wharf's")

Start = Callable[..., PluginWharf]


def quarantined(entry: dict[str, Any]) -> bool:
    return entry["plugin"].get("state") == "quarantined"


def check_quarantined(wharf: PluginWharf, name: str) -> dict[str, Any]:
    """Everything that says `name` is quarantined: status API, metrics, retained $status."""
    entry = wharf.admin.wait_plugin(name, quarantined, 30, f"plugin {name!r} quarantined")
    assert entry["health"] == "failed" and entry.get("detail"), entry
    assert wharf.admin.value("wharf_plugin_quarantined", adapter=name) == 1
    assert wharf.admin.value("wharf_plugin_up", adapter=name) == 0
    document = wait_retained_status(wharf, name, lambda d: d.get("state") == "quarantined")
    assert document["health"] == "failed" and document.get("detail"), document
    wait_gone(wharf.specs[name].token, 10, f"processes of the quarantined plugin {name!r}")
    return entry


def check_running(wharf: PluginWharf, name: str) -> None:
    entry = wharf.admin.wait_running(name)
    assert entry["health"] == "healthy", entry
    assert wharf.admin.value("wharf_plugin_quarantined", adapter=name) == 0
    wait_retained_status(wharf, name, lambda d: d.get("state") == "running" and d.get("health") == "healthy")


def test_a_crash_at_start_is_restarted_then_quarantined_and_stays_so(plugin_wharfd: Start) -> None:
    wharf = plugin_wharfd(plugin("crash", "crash_at_start.py", max_restarts=3, restart_window="10m"))
    entry = check_quarantined(wharf, "crash")
    assert entry["plugin"]["restarts"] >= 2, entry

    def starts() -> list[str]:
        return log_lines(wharf.log(), "crash_at_start: giving up before the handshake")

    lines = starts()
    assert len(lines) in (3, 4), f"{len(lines)} starts for max_restarts 3"
    assert all("wharf.adapter.crash" in line for line in lines), lines
    restarts = wharf.admin.count("wharf_plugin_restarts_total", adapter="crash")
    assert restarts >= 2
    # Many backoff caps (200 ms) later it has not been started again.
    time.sleep(2.0)
    assert len(starts()) == len(lines), "a quarantined plugin was started again"
    assert wharf.admin.count("wharf_plugin_restarts_total", adapter="crash") == restarts
    assert quarantined(wharf.admin.adapter("crash"))
    wharf.broker.assert_alive()


def test_quarantine_goes_through_backoff_and_is_lifted_by_wharfctl_and_the_admin_api(
    plugin_wharfd: Start, tmp_path: Path
) -> None:
    fail = {name: tmp_path / f"fail-{name}" for name in ("flaky-a", "flaky-b")}
    wharf = plugin_wharfd(
        *(plugin(name, "flaky.py", {"fail_file": str(path)}, max_restarts=3) for name, path in fail.items())
    )
    watcher = wharf.client()
    try:
        for name in fail:
            check_running(wharf, name)
        watcher.subscribe("plugins/+/$status", 1)
        watcher.messages.wait_for(lambda got: len({m.topic for m in got}) == 2)

        for path in fail.values():
            path.touch()
        for name in fail:
            check_quarantined(wharf, name)
            states = [d["state"] for d in status_documents(watcher.messages.snapshot(), name)]
            assert states[0] == "running" and states[-1] == "quarantined", states
            assert "backoff" in states, f"no backoff between the crashes: {states}"
            starts = log_lines(wharf.log(), "flaky: failing at start", f"wharf.adapter.{name}")
            assert len(starts) in (2, 3), f"{len(starts)} failed starts after a crash, max_restarts 3"

        for path in fail.values():
            path.unlink()
        result = wharf.admin.wharfctl("plugin", "restart", "flaky-a")
        assert result.returncode == 0, result.stdout + result.stderr
        check_running(wharf, "flaky-a")
        assert quarantined(wharf.admin.adapter("flaky-b")), "restarting one plugin lifted another's quarantine"

        status, body = wharf.admin.post("/api/v1/plugins/flaky-b/restart")
        assert 200 <= status < 300, (status, body)
        check_running(wharf, "flaky-b")

        status, body = wharf.admin.post("/api/v1/plugins/no-such-plugin/restart")
        assert status == 404, (status, body)
        result = wharf.admin.wharfctl("plugin", "restart", "no-such-plugin")
        assert result.returncode != 0 and "no-such-plugin" in result.stdout + result.stderr, result
    finally:
        watcher.close()


def test_sighup_lifts_quarantine_and_restarts_only_changed_plugins(plugin_wharfd: Start, tmp_path: Path) -> None:
    fail = tmp_path / "fail"
    fail.touch()
    flaky = plugin("flaky", "flaky.py", {"fail_file": str(fail)}, max_restarts=2)
    steady = plugin("steady", "echo.py", {"qos": 1})
    changed = plugin("changed", "echo.py", {"qos": 1})
    wharf = plugin_wharfd(flaky, steady, changed)
    check_quarantined(wharf, "flaky")
    pids = {name: wharf.admin.wait_running(name)["plugin"]["pid"] for name in ("steady", "changed")}
    processes = {name: set(wharf.plugin_pids(name)) for name in ("steady", "changed")}
    assert all(processes.values()), processes

    fail.unlink()
    wharf.reconfigure(flaky, steady, dataclasses.replace(changed, config={"qos": 0}))
    wharf.reload("applied")
    check_running(wharf, "flaky")
    wait_gone(processes["changed"], 10, "the changed plugin's old process")
    entry = wharf.admin.wait_running("changed")
    assert entry["plugin"]["pid"] != pids["changed"]
    assert set(wharf.plugin_pids("steady")) == processes["steady"], "the unchanged plugin was restarted"
    assert wharf.admin.plugin("steady")["pid"] == pids["steady"]
    assert wharf.admin.plugin("steady")["restarts"] == 0


def test_a_crash_midstream_is_restarted_and_publishing_goes_on(plugin_wharfd: Start) -> None:
    spec = plugin("mid", "crash_midstream.py", {"count": 10, "acked_before_crash": 5}, max_restarts=1000)
    wharf = plugin_wharfd(spec)
    subscriber = wharf.client()
    try:
        subscriber.subscribe("plugins/mid/seq", 1)
        # Each run publishes 1..10 and dies: the first message seen twice proves a restart publishing again.
        subscriber.messages.wait_for(lambda got: sum(m.payload == b"1" for m in got) >= 2, 20)
        first = wharf.admin.wait_metric("wharf_plugin_restarts_total", lambda v: v >= 2, adapter="mid")
        wharf.admin.wait_metric("wharf_plugin_restarts_total", lambda v: v >= first + 2, adapter="mid")
        assert wharf.admin.plugin("mid")["restarts"] >= first
        assert wharf.admin.value("wharf_plugin_quarantined", adapter="mid") == 0
        wharf.broker.assert_alive()
    finally:
        subscriber.close()


@pytest.mark.timeout(90)
def test_a_plugin_that_stops_answering_health_pings_is_restarted(plugin_wharfd: Start) -> None:
    spec = plugin(
        "hang",
        "hang.py",
        {"ignore_sigterm": True},  # only SIGKILL ends it
        health_interval="300ms",
        health_timeout="1s",
        shutdown_grace="300ms",
        max_restarts=1000,
    )
    wharf = plugin_wharfd(spec)
    first = wharf.wait_plugin_pid("hang")
    wharf.admin.wait_metric("wharf_plugin_restarts_total", lambda v: v >= 1, 60, adapter="hang")
    wait_gone({first}, 10, "the hanging plugin")
    wharf.wait_plugin_pid("hang", exclude={first})
    assert log_lines(wharf.log(), "wharf.adapter.hang"), "the restart of a hanging plugin is not logged"
    wharf.broker.assert_alive()


def test_a_wrong_protocol_version_is_quarantined_at_once(plugin_wharfd: Start) -> None:
    wharf = plugin_wharfd(plugin("old", "wrong_version.py"))
    entry = check_quarantined(wharf, "old")
    assert "protocol" in entry["detail"], entry
    # docs/plugins.md: "plugin 'NAME' speaks protocol 2; this wharfd speaks 1 to 1" (the plugin's own
    # name and version may come between).
    expected = ("plugin 'old'", "speaks protocol 2; this wharfd speaks 1 to 1")
    wait_until(lambda: log_lines(wharf.log(), *expected), what="the log line naming the versions")
    time.sleep(2.0)  # ten backoff caps: a restart loop would have started it again
    assert len(log_lines(wharf.log(), "wharf.adapter.old: plugin started")) == 1, "started more than once"
    assert wharf.admin.count("wharf_plugin_restarts_total", adapter="old") == 0
    assert quarantined(wharf.admin.adapter("old"))
    document = wait_retained_status(wharf, "old", lambda d: d.get("state") == "quarantined")
    assert "protocol" in json.dumps(document.get("detail")), document

