"""Failures through wharfd: a device that goes away and comes back, a dead device next to a healthy
one, exception responses, on_change with a deadband, and config errors from `wharfd --check`.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from wharf_e2e.admin import wharfctl, wharfctl_path
from wharf_e2e.broker import BrokerOptions, free_port, render_wharf_yaml
from wharf_e2e.modbus import ModbusSimulator, adapter_yaml, device_yaml, encode, iter_gaps, line_of, tcp
from wharf_e2e.modbus_fixtures import modbus_devices, run_check, run_start, subscriber, wharfd_factory  # noqa: F401 - fixtures

pytestmark = pytest.mark.wharf_only(reason="the Modbus adapter is part of wharfd")

BACKOFF = "{base: 100ms, cap: 400ms, stable_after: 1s}"


def _bad(body: dict) -> bool:
    return body.get("quality") == "bad"


@pytest.mark.timeout(60)
def test_device_goes_away_and_comes_back(modbus_devices, wharfd_factory, subscriber) -> None:
    sim = ModbusSimulator()
    sim.set("holding", 0, encode("float32", 50.5))
    server = modbus_devices(sim)
    points = ["{name: temp, table: holding, address: 0, type: float32, unit: C}"]
    wharfd = wharfd_factory(
        adapter_yaml(
            device_yaml("boiler", tcp(server), points, poll_interval="100ms", response_timeout="500ms"),
            backoff=BACKOFF,
        )
    )
    telemetry = subscriber(wharfd)
    status_topic, value_topic = "devices/boiler/$status", "devices/boiler/temp"
    assert telemetry.wait(status_topic)["state"] == "online"
    telemetry.wait(value_topic, lambda body: body["value"] == 50.5)

    # The device goes away: connection refused from now on.
    server.stop()
    offline = telemetry.wait(status_topic, lambda body: body["state"] == "offline")
    assert isinstance(offline.get("reason"), str) and offline["reason"]
    bad = telemetry.wait(value_topic, _bad)
    assert bad["value"] is None and bad.get("error")
    # A subscriber that comes now is told by the retained status.
    late = subscriber(wharfd)
    late.wait_count(status_topic, 1)
    retained = [m for m in late.messages(status_topic) if m.retain]
    assert retained and '"offline"' in retained[-1].text

    # The device is back, but drops every connection: each reconnect attempt shows as an accept.
    server.close_on_accept = True
    server.start()
    deadline = time.monotonic() + 15
    while len(server.accepts) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(server.accepts) >= 6, f"only {len(server.accepts)} reconnect attempts in 15 s"
    window_start = time.monotonic()
    time.sleep(2.0)
    attempts = [t for t in server.accepts if t >= window_start]
    # Backoff, not a busy loop: with a 400 ms cap, a few attempts per second, and none far apart.
    assert len(attempts) <= 40, f"{len(attempts)} connection attempts in 2 s: no backoff"
    gaps = list(iter_gaps(server.accepts[-8:]))
    assert max(gaps) < 0.4 + 0.5 + 1.5, f"reconnect gaps {gaps} exceed the backoff cap"
    # While offline, each point said so once (on the transition), not on every failed attempt.
    assert sum(1 for body in telemetry.values(value_topic) if _bad(body)) == 1

    # The device works again: online, and values again.
    server.close_on_accept = False
    telemetry.client.messages.clear()
    assert telemetry.wait(status_topic, lambda body: body["state"] == "online", timeout=15)
    sim.set("holding", 0, encode("float32", 51.25))
    good = telemetry.wait(value_topic, lambda body: body.get("value") == 51.25)
    assert good["quality"] == "good" and good["unit"] == "C"


@pytest.mark.timeout(60)
def test_dead_devices_do_not_delay_a_healthy_one(modbus_devices, wharfd_factory, subscriber) -> None:
    hung = ModbusSimulator()
    hung.silent = True  # accepts the connection, never answers
    hung_server = modbus_devices(hung)
    healthy = ModbusSimulator()
    healthy.set("holding", 0, 1)
    healthy_server = modbus_devices(healthy)
    point = ["{name: p, table: holding, address: 0, type: uint16}"]
    devices = device_yaml("hung", tcp(hung_server), point, poll_interval="100ms", response_timeout="3s")
    devices += device_yaml("gone", tcp(free_port()), point, poll_interval="100ms", response_timeout="3s")
    devices += device_yaml("ok", tcp(healthy_server), point, poll_interval="100ms")
    wharfd = wharfd_factory(adapter_yaml(devices, backoff=BACKOFF))
    telemetry = subscriber(wharfd)
    telemetry.wait("devices/ok/p")
    telemetry.wait("devices/hung/$status", lambda body: body["state"] == "offline", timeout=15)
    telemetry.wait("devices/gone/$status", lambda body: body["state"] == "offline", timeout=15)
    assert hung.log(), "the hung device was never asked"
    # Over 4 s of hung requests (3 s timeouts) the healthy device keeps its 100 ms polls.
    start = len(healthy.log())
    time.sleep(4.0)
    reads = [r.at for r in healthy.log()[start:] if r.function == 3]
    assert len(reads) >= 8, f"only {len(reads)} polls of the healthy device in 4 s"
    assert max(iter_gaps(reads)) < 1.5, f"the healthy device waited {max(iter_gaps(reads)):.2f} s between polls"
    assert telemetry.values("devices/ok/$status")[-1]["state"] == "online"


def test_exception_response_marks_points_bad_until_they_read_again(modbus_devices, wharfd_factory, subscriber) -> None:
    sim = ModbusSimulator()
    sim.set("holding", 0, 5)
    sim.set("holding", 100, 6)
    server = modbus_devices(sim)
    points = [
        "{name: a, table: holding, address: 0, type: uint16}",
        "{name: b, table: holding, address: 100, type: uint16, publish: on_change}",
    ]
    # Retained, so that the subscriber also gets the first value of the on_change point, published
    # before it subscribed.
    wharfd = wharfd_factory(adapter_yaml(device_yaml("d1", tcp(server), points, poll_interval="100ms"), retain="true"))
    telemetry = subscriber(wharfd)
    telemetry.wait("devices/d1/b", lambda body: body["value"] == 6)
    sim.device.invalid["holding"].add(100)  # the device now answers exception 2 (illegal data address)
    bad = telemetry.wait("devices/d1/b", _bad)
    assert bad["value"] is None and bad.get("error")
    start = len(sim.log())
    sim.wait_reads(0, 3, after=start)
    assert sum(1 for body in telemetry.values("devices/d1/b") if _bad(body)) == 1
    assert not any(_bad(body) for body in telemetry.values("devices/d1/a"))
    # The same value as before the failure is published again, although the point is on_change.
    sim.device.invalid["holding"].clear()
    telemetry.wait_count("devices/d1/b", 3)
    assert [body["value"] for body in telemetry.values("devices/d1/b")] == [6, None, 6]


def test_on_change_with_deadband(modbus_devices, wharfd_factory, subscriber) -> None:
    sim = ModbusSimulator()
    sim.set("holding", 0, encode("float32", 10.0))
    sim.set("holding", 2, 1)
    server = modbus_devices(sim)
    points = [
        "{name: level, table: holding, address: 0, type: float32, publish: on_change, deadband: 0.5}",
        "{name: state, table: holding, address: 2, type: uint16, publish: on_change}",
    ]
    # Retained: the first values are published once, before the subscriber is there.
    wharfd = wharfd_factory(adapter_yaml(device_yaml("tank", tcp(server), points, poll_interval="100ms"), retain="true"))
    telemetry = subscriber(wharfd)
    telemetry.wait("devices/tank/level")
    telemetry.wait("devices/tank/state")

    def settle() -> None:
        """Three more polls of both points."""
        sim.wait_reads(0, 3, after=len(sim.log()))

    settle()
    assert [body["value"] for body in telemetry.values("devices/tank/level")] == [10.0]
    assert [body["value"] for body in telemetry.values("devices/tank/state")] == [1]

    sim.set("holding", 0, encode("float32", 10.25))  # within the deadband of 10.0
    settle()
    assert len(telemetry.values("devices/tank/level")) == 1
    sim.set("holding", 0, encode("float32", 10.75))  # 0.75 away from the last published value
    assert telemetry.wait("devices/tank/level", lambda body: body["value"] == 10.75)
    sim.set("holding", 0, encode("float32", 10.5))  # 0.25 from 10.75: nothing
    sim.set("holding", 2, 2)  # deadband 0: any change
    assert telemetry.wait("devices/tank/state", lambda body: body["value"] == 2)
    settle()
    assert [body["value"] for body in telemetry.values("devices/tank/level")] == [10.0, 10.75]
    sim.set("holding", 0, encode("float32", 9.5))  # 1.25 below 10.75
    telemetry.wait("devices/tank/level", lambda body: body["value"] == 9.5)
    assert [body["value"] for body in telemetry.values("devices/tank/state")] == [1, 2]


# --- config errors ------------------------------------------------------------------------------ #


def _config(tmp_path: Path, points: list[str], **device_settings: object) -> tuple[Path, str]:
    text = render_wharf_yaml(
        BrokerOptions(
            wharf_extra_yaml=adapter_yaml(device_yaml("meter-1", tcp(15020), points, **device_settings), name="plant")
        )
    )
    path = tmp_path / "wharf.yaml"
    path.write_text(text)
    return path, text


def _issue_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if re.search(r"wharf\.yaml:\d+(:\d+)?: ", line)]


def _assert_reported(lines: list[str], line: int, path: str) -> None:
    wanted = [entry for entry in lines if re.search(rf"wharf\.yaml:{line}(:\d+)?: {re.escape(path)}(?!\w)", entry)]
    assert wanted, f"no report of {path} at line {line} in:\n" + "\n".join(lines)


def test_check_accepts_a_good_modbus_config(tmp_path: Path) -> None:
    path, _ = _config(
        tmp_path,
        [
            "{name: v, table: input, address: 0, type: float32, order: CDAB, unit: V}",
            "{name: b0, table: holding, address: 4, type: bool, bit: 0}",
            "{name: b1, table: holding, address: 4, type: bool, bit: 1}",  # bits of one register may share it
            "{name: s, table: holding, address: 5, type: string, length: 4, writable: true}",
            "{name: c, table: coil, address: 0, type: bool, writable: true}",
        ],
    )
    result = run_check(path)
    assert result.returncode == 0, result.stdout + result.stderr


CHECK_MODES = pytest.mark.parametrize("mode", ["check", "wharfctl", "start"])


def _validate(mode: str, path: Path):
    """`wharfd --check`, `wharfctl check`, or a start that must be refused with the same report."""
    if mode == "wharfctl":
        if not wharfctl_path().is_file():
            pytest.skip("wharfctl not built (it is wharfd: swift build --product wharfd)")
        return wharfctl("check", str(path))
    return run_check(path) if mode == "check" else run_start(path)


@CHECK_MODES
def test_check_names_file_line_and_key_of_every_mistake(tmp_path: Path, mode: str) -> None:
    points = [
        "{name: p0, table: holding, address: 0, type: float32}",
        "{name: p1, table: holding, address: 1, type: uint16}",  # overlaps p0's second register
        "{name: p2, table: holding, address: 10, type: int16, order: CDAB}",  # an order on a 16-bit type
        "{name: p3, table: holding, address: 20, type: float16}",  # unknown type
        "{name: p4, table: holding, address: 30, type: int64, order: ABCD1234}",  # unknown order
        "{name: p5, table: input, address: 40, type: uint16, writable: true}",  # input registers are read-only
        "{name: p6, table: holding, address: 50, type: uint16, scael: 0.1}",  # unknown key
        "{name: p7, table: holding, address: 65535, type: uint32}",  # beyond the address space
        "{name: p8, table: holding, address: 60, type: string}",  # no length
        "{name: p9, table: holding, address: 70, type: bool, bit: 16}",
    ]
    path, text = _config(tmp_path, points)
    result = _validate(mode, path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    lines = _issue_lines(output)
    base = "adapters[0].devices[0].points"

    def at(name: str) -> int:
        return line_of(text, f"name: {name},")

    overlap = [entry for entry in lines if f"{base}[0]" in entry or f"{base}[1]" in entry]
    assert overlap, "overlapping points not reported:\n" + output
    assert any(re.search(rf"wharf\.yaml:({at('p0')}|{at('p1')})(:\d+)?: ", entry) for entry in overlap)
    _assert_reported(lines, at("p2"), f"{base}[2].order")
    _assert_reported(lines, at("p3"), f"{base}[3].type")
    _assert_reported(lines, at("p4"), f"{base}[4].order")
    _assert_reported(lines, at("p5"), f"{base}[5].writable")
    _assert_reported(lines, at("p6"), f"{base}[6].scael")
    assert any("scale" in entry for entry in lines if f"{base}[6]" in entry), "no did-you-mean for 'scael'"
    _assert_reported(lines, at("p7"), f"{base}[7]")
    _assert_reported(lines, at("p8"), f"{base}[8]")
    _assert_reported(lines, at("p9"), f"{base}[9].bit")


@CHECK_MODES
def test_check_reports_device_level_mistakes(tmp_path: Path, mode: str) -> None:
    devices = device_yaml("meter-1", tcp(15020), ["{name: a, table: holding, address: 0, type: uint16}"], unit_id=300)
    devices += device_yaml("meter-1", tcp(15021), ["{name: a, table: holding, address: 0, type: uint16}"])
    devices += (
        "      - name: both\n"
        "        tcp: {host: 127.0.0.1, port: 15022}\n"
        "        rtu: {device: /dev/ttyUSB0, baud: 9600, parity: none}\n"
        "        points:\n"
        "          - {name: a, table: holding, address: 0, type: uint16}\n"
        "      - name: serial\n"
        "        rtu: {device: /dev/ttyUSB0, baud: 9600, parity: maybe}\n"
        "        points:\n"
        "          - {name: a, table: holding, address: 0, type: uint16}\n"
    )
    text = render_wharf_yaml(BrokerOptions(wharf_extra_yaml=adapter_yaml(devices)))
    path = tmp_path / "wharf.yaml"
    path.write_text(text)
    result = _validate(mode, path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    lines = _issue_lines(output)
    _assert_reported(lines, line_of(text, "unit_id: 300"), "adapters[0].devices[0].unit_id")
    _assert_reported(lines, line_of(text, "name: meter-1", 2), "adapters[0].devices[1].name")
    assert any("adapters[0].devices[2]" in entry for entry in lines), "tcp and rtu together not reported:\n" + output
    _assert_reported(lines, line_of(text, "parity: maybe"), "adapters[0].devices[3].rtu.parity")
