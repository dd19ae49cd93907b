"""43 sd_notify: READY=1 once listening, WATCHDOG=1 pings, RELOADING=1 on SIGHUP, STOPPING=1 on SIGTERM."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Iterator

import pytest

from wharf_e2e.admin import NotifySocket
from wharf_e2e.broker import Broker, BrokerOptions, _listening, broker_kind

pytestmark = pytest.mark.wharf_only(reason="sd_notify is wharfd's")


@pytest.fixture(params=["path", "abstract"])
def notify(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[NotifySocket]:
    sock = NotifySocket(tmp_path, abstract=request.param == "abstract")
    yield sock
    sock.close()


def _start(tmp_path: Path, notify: NotifySocket, **env: str) -> Broker:
    broker = Broker(broker_kind(), BrokerOptions(), tmp_path)
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("WATCHDOG_")}
    broker.env = {**inherited, "NOTIFY_SOCKET": notify.address, **env}
    broker.start()
    return broker


def test_ready_after_listening_then_stopping(tmp_path: Path, notify: NotifySocket) -> None:
    started = time.monotonic()
    broker = _start(tmp_path, notify)
    try:
        ready = notify.wait_for("READY", "1")
        assert _listening(broker.host, broker.port), "READY=1 before the MQTT port listens"
        assert ready.get("STATUS", "").startswith("serving 0 clients")
        assert time.monotonic() - started < 10
        broker.stop()
        stopping = notify.wait_for("STOPPING", "1", timeout=10)
        assert stopping
    finally:
        broker.stop()
        broker.check_clean_exit()


def test_watchdog_pings_at_half_the_timeout(tmp_path: Path, notify: NotifySocket) -> None:
    broker = _start(tmp_path, notify, WATCHDOG_USEC="400000")
    try:
        notify.wait_for("READY", "1")
        messages = notify.drain(1.5)
        pings = [m for m in messages if m.get("WATCHDOG") == "1"]
        # Every 200 ms: about 7 in 1.5 s; allow for a loaded machine.
        assert 3 <= len(pings) <= 10, messages
    finally:
        broker.stop()
        broker.check_clean_exit()


def test_no_watchdog_pings_for_another_process(tmp_path: Path, notify: NotifySocket) -> None:
    broker = _start(tmp_path, notify, WATCHDOG_USEC="200000", WATCHDOG_PID="1")
    try:
        notify.wait_for("READY", "1")
        assert not [m for m in notify.drain(0.8) if "WATCHDOG" in m]
    finally:
        broker.stop()
        broker.check_clean_exit()


def test_reloading_then_ready_on_sighup(tmp_path: Path, notify: NotifySocket) -> None:
    broker = _start(tmp_path, notify)
    try:
        notify.wait_for("READY", "1")
        assert broker.proc is not None
        before = time.monotonic_ns() // 1000
        broker.proc.send_signal(signal.SIGHUP)
        reloading = notify.wait_for("RELOADING", "1")
        monotonic = int(reloading["MONOTONIC_USEC"])
        # CLOCK_MONOTONIC is the clock of time.monotonic on Linux.
        assert before - 1_000_000 <= monotonic <= time.monotonic_ns() // 1000
        ready = notify.wait_for("READY", "1")
        assert ready["STATUS"].startswith("reloaded")

        (tmp_path / "wharf.yaml").write_text("broker:\n  max_connections: lots\n")
        broker.proc.send_signal(signal.SIGHUP)
        notify.wait_for("RELOADING", "1")
        ready = notify.wait_for("READY", "1")
        assert "reload rejected" in ready["STATUS"]
        broker.assert_alive()
    finally:
        broker.stop()
        broker.check_clean_exit()
