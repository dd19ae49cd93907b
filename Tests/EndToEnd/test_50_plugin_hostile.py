"""50 Plugins that misbehave cannot crash, stall or grow wharfd: garbage lines are counted by kind and
answered with nacks where they have an id; QoS 0 and QoS 1 floods (beyond the credit) keep wharfd's
memory bounded and its MQTT clients served, credit stalls are counted and a plugin that keeps
exceeding its credit is restarted; commands to a plugin that does not read them are dropped and
counted beyond `max_queued_commands` / `max_queued_command_bytes`.

Memory bound: wharfd's resident set may grow by at most GROWTH_BOUND (64 MiB) over what it had once
it listened; in the QoS 0 flood and the command tests at least four times that much data (DATA,
256 MiB) goes through the plugin pipes meanwhile, so a per-message leak or an unbounded buffer
cannot hide under the bound.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from wharf_e2e.broker import BrokerOptions, free_port
from wharf_e2e.gateway import AckingPublisher, Forward, Gateway, UplinkOptions
from wharf_e2e.plugins import (
    MIB,
    PluginWharf,
    log_lines,
    plugin,
    plugin_wharfd,  # noqa: F401 - fixture
    round_trip,
    rss_bytes,
    wait_gone,
)

pytestmark = pytest.mark.wharf_only(reason="plugins are Wharf's")

Start = Callable[..., PluginWharf]
GROWTH_BOUND = 64 * MIB
DATA = 4 * GROWTH_BOUND  # what must go through the pipes while the bound holds


class RssWatch:
    """Samples wharfd's resident set every 50 ms in a thread; `peak` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.baseline = rss_bytes(pid)
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self.peak = max(self.peak, rss_bytes(self.pid))
            except (OSError, AssertionError):
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def check(self) -> None:
        growth = self.peak - self.baseline
        assert growth <= GROWTH_BOUND, (
            f"wharfd's RSS grew by {growth / MIB:.1f} MiB (from {self.baseline / MIB:.1f} MiB), "
            f"more than the bound of {GROWTH_BOUND / MIB:.0f} MiB"
        )


@contextmanager
def rss_watch(wharf: PluginWharf) -> Iterator[RssWatch]:
    assert wharf.broker.proc is not None
    watch = RssWatch(wharf.broker.proc.pid)
    try:
        yield watch
    finally:
        watch.stop()


# --- garbage --------------------------------------------------------------------------------------- #

GARBAGE_KINDS = {  # kind: at least this many lines of garbage.py
    "before-ready": 1,
    "invalid-json": 2,
    "invalid-utf8": 1,
    "not-an-object": 2,
    "missing-type": 2,
    "oversized": 1,
    "unknown-type": 2,
    "invalid": 1,
}
ANSWERS = {
    "unknown-type": "unknown-type",
    "plus": "topic-invalid",
    "hash": "topic-invalid",
    "empty-topic": "topic-invalid",
    "nul": "topic-invalid",
    "sys": "not-authorized",
    "topic-not-string": "invalid",
    "both-payloads": "invalid",
    "bad-base64": "invalid",
    "qos3": "invalid",
    "alive": "ack",
}


def test_garbage_is_counted_nacked_by_id_and_survived(plugin_wharfd: Start) -> None:
    wharf = plugin_wharfd(plugin("garbage", "garbage.py", {"wait_s": 10}, max_line_bytes="64KiB"))
    first_pid = wharf.wait_plugin_pid("garbage")
    client = wharf.client()
    try:
        client.subscribe("plugins/garbage/#", 1)
        # Published after all the garbage: the plugin kept working. Checked last, after the counts.
        [answers] = client.messages.wait(1, 20, topic="plugins/garbage/answers")
        assert wharf.admin.count("wharf_plugin_publishes_total", adapter="garbage", result="ack") >= 1

        for kind, least in GARBAGE_KINDS.items():
            counted = wharf.admin.count("wharf_plugin_garbage_lines_total", adapter="garbage", kind=kind)
            assert counted >= least, f"garbage kind {kind}: {counted} counted, at least {least} sent"
        got = json.loads(answers.payload)
        for reason in set(got.values()) - {"ack"}:
            wanted = sum(value == reason for value in got.values())
            counted = wharf.admin.count("wharf_plugin_nacks_total", adapter="garbage", reason=reason)
            assert counted >= wanted, f"nacks {reason}: {counted} counted, {wanted} sent to the plugin"
        assert wharf.admin.plugin("garbage")["garbage_lines"] >= sum(GARBAGE_KINDS.values())
        assert log_lines(wharf.log(), "wharf.adapter.garbage"), "garbage is not logged with the plugin's name"

        # Nothing of it was fatal: the same process runs, healthy, and wharfd serves clients.
        assert wharf.plugin_pids("garbage") == [first_pid]
        assert wharf.admin.count("wharf_plugin_restarts_total", adapter="garbage") == 0
        assert wharf.admin.value("wharf_plugin_up", adapter="garbage") == 1
        round_trip(client)
        wharf.broker.assert_alive()
        assert got.get("alive") == "ack", "the good publish after the garbage was not acknowledged"
        wrong = {k: (got.get(k), want) for k, want in ANSWERS.items() if got.get(k) != want}
        assert not wrong, f"answers (got, docs/plugins.md): {wrong}"
    finally:
        client.close()


# --- floods ---------------------------------------------------------------------------------------- #


def lines_written(progress: Path) -> int:
    try:
        return int(progress.read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


@pytest.mark.timeout(120)
def test_a_qos0_flood_keeps_memory_bounded_and_clients_served(plugin_wharfd: Start, tmp_path: Path) -> None:
    progress = tmp_path / "progress"
    payload = 8192
    spec = plugin("flood", "flood.py", {"qos": 0, "payload_bytes": payload, "progress_file": str(progress)})
    wharf = plugin_wharfd(spec)
    probe = wharf.client()
    try:
        with rss_watch(wharf) as watch:
            wanted = DATA // payload
            deadline = time.monotonic() + 90
            while lines_written(progress) < wanted:
                assert time.monotonic() < deadline, (
                    f"only {lines_written(progress)} of {wanted} flood lines went through in 90 s"
                )
                round_trip(probe)
                time.sleep(0.2)
        watch.check()
        # A QoS 0 flood breaks no rule: it is slowed down by the pipe, never restarted.
        assert wharf.admin.count("wharf_plugin_restarts_total", adapter="flood") == 0
        assert len(wharf.plugin_pids("flood")) == 1
        wharf.broker.assert_alive()
    finally:
        probe.close()


def durable_gateway(options: BrokerOptions, workdir: Path) -> Gateway:
    """wharfd with a forward rule for `plugins/#` and its cloud away: each QoS 1 publish waits for
    the durable append, so answers come later than the publishes and a flood outruns its credit."""
    uplink = UplinkOptions(port=free_port(), forward=(Forward("plugins/#"),))
    return Gateway(options, workdir, uplink)


@pytest.mark.timeout(120)
def test_a_qos1_flood_beyond_credit_is_throttled_counted_and_restarted(plugin_wharfd: Start) -> None:
    spec = plugin(
        "flood1",
        "flood.py",
        {"qos": 1, "payload_bytes": 1024},
        credit=8,
        max_credit_violations=50,
        max_restarts=1000,
    )
    wharf = plugin_wharfd(spec, broker_factory=durable_gateway)
    probe = wharf.client()
    try:
        with rss_watch(wharf) as watch:
            first = wharf.wait_plugin_pid("flood1")
            deadline = time.monotonic() + 60
            while wharf.admin.count("wharf_plugin_restarts_total", adapter="flood1") < 1:
                assert time.monotonic() < deadline, "a plugin far beyond its credit was not restarted"
                round_trip(probe)
                time.sleep(0.2)
            stalls = wharf.admin.count("wharf_plugin_credit_stalls_total", adapter="flood1")
            assert stalls > 50, f"{stalls} credit stalls counted before the restart, max_credit_violations 50"
            assert wharf.admin.plugin("flood1")["credit_stalls"] >= 1
            assert log_lines(wharf.log(), "wharf.adapter.flood1", "credit"), "credit violations are not logged"
            wait_gone({first}, 10, "the plugin restarted for exceeding its credit")
            wharf.wait_plugin_pid("flood1", exclude={first})
            round_trip(probe)
        watch.check()
        wharf.broker.assert_alive()
    finally:
        probe.close()


@pytest.mark.timeout(120)
def test_a_qos1_flood_that_never_reads_its_answers_is_stopped_with_memory_bounded(plugin_wharfd: Start) -> None:
    """Without a forward rule every publish is answered at once; a plugin that never reads those
    answers still has more publishes outstanding than its credit. The answers it does not read must
    not pile up in wharfd: the host stops reading it (the pipe to the plugin is full), the plugin then
    writes nothing more and is restarted as hanging, or for exceeding its credit."""
    spec = plugin(
        "flood1",
        "flood.py",
        {"qos": 1, "payload_bytes": 1024},
        credit=8,
        max_credit_violations=50,
        max_restarts=1000,
        health_interval="500ms",
        health_timeout="2s",
    )
    wharf = plugin_wharfd(spec)
    probe = wharf.client()
    try:
        with rss_watch(wharf) as watch:
            first = wharf.wait_plugin_pid("flood1")
            deadline = time.monotonic() + 30
            while first in wharf.plugin_pids("flood1"):
                answers = wharf.admin.count("wharf_plugin_publishes_total", adapter="flood1", result="ack")
                assert time.monotonic() < deadline, (
                    f"the plugin was neither throttled nor restarted: {answers:.0f} answers written to a "
                    f"plugin that read none (credit 8); wharfd's RSS grew by "
                    f"{(rss_bytes(watch.pid) - watch.baseline) / MIB:.1f} MiB"
                )
                round_trip(probe)
                time.sleep(0.2)
            wharf.wait_plugin_pid("flood1", exclude={first})
        watch.check()
        wharf.broker.assert_alive()
    finally:
        probe.close()


# --- commands to a plugin that does not read them ---------------------------------------------------- #


@pytest.mark.timeout(120)
def test_commands_a_plugin_does_not_read_are_dropped_and_counted(plugin_wharfd: Start) -> None:
    by_count = plugin("deaf", "deaf.py", max_queued_commands=50, health_interval="10m")
    by_bytes = plugin("deafb", "deaf.py", max_queued_command_bytes="64KiB", health_interval="10m")
    wharf = plugin_wharfd(by_count, by_bytes)
    for name in ("deaf", "deafb"):
        wharf.admin.wait_running(name)
    size, sent = 8192, (DATA // 2) // 8192  # half of DATA to each plugin
    pipe = 1048576 // size + 1  # the most a pipe (at most 1 MiB) holds of these
    senders = [wharf.client(), wharf.client()]
    try:
        with rss_watch(wharf) as watch:
            publishers = [
                AckingPublisher(senders[0], "c", "plugins/deaf/cmd/x"),
                AckingPublisher(senders[1], "b", "plugins/deafb/cmd/x"),
            ]
            for publisher in publishers:
                publisher.publish(sent, size=size)
            for publisher in publishers:
                publisher.wait_acks(90)
                assert publisher.refused == []
        watch.check()

        queued = {"deaf": 50, "deafb": 65536 // size}
        for name, bound in queued.items():
            dropped = wharf.admin.wait_metric(
                "wharf_plugin_commands_dropped_total", lambda v, b=bound: v >= sent - b - pipe, 30, adapter=name
            )
            written = wharf.admin.count("wharf_plugin_commands_total", adapter=name)
            assert sent - bound <= written + dropped <= sent, (name, written, dropped)
            assert wharf.admin.plugin(name)["commands_dropped"] >= dropped
            assert wharf.admin.value("wharf_plugin_up", adapter=name) == 1
        round_trip(senders[0])
        wharf.broker.assert_alive()
    finally:
        for sender in senders:
            sender.close()

