"""Modbus RTU through wharfd: simulated devices on one end of a socat pty pair, wharfd on the other.

Several devices (unit ids) share one line: wharfd must send one request at a time, skip a unit that
never answers without stopping the others, and write over the same line.
"""

from __future__ import annotations

import json

import pytest

from wharf_e2e.modbus import Device, ModbusSimulator, RtuServer, adapter_yaml, crc16, device_yaml, encode, encode_string
from wharf_e2e.modbus_fixtures import serial_pair, subscriber, wharfd_factory  # noqa: F401 - fixtures

pytestmark = pytest.mark.wharf_only(reason="the Modbus adapter is part of wharfd")


def _rtu(path: object, baud: int = 19200, parity: str = "even") -> str:
    return f"rtu: {{device: {path}, baud: {baud}, parity: {parity}, data_bits: 8, stop_bits: 1}}"


def test_crc_of_the_rtu_simulator() -> None:
    """The simulator's CRC-16/MODBUS on a well-known frame (unit 1, read 10 holding registers at 0)."""
    frame = bytes.fromhex("01 03 00 00 00 0A".replace(" ", ""))
    assert crc16(frame).to_bytes(2, "little") == bytes.fromhex("C5CD")


def test_rtu_devices_on_one_line(serial_pair, wharfd_factory, subscriber) -> None:
    sim = ModbusSimulator({1: Device(), 2: Device()})
    sim.set("input", 0, encode("float32", 230.5, "CDAB"), unit=1)
    sim.set("holding", 4, encode("int16", -3), unit=1)
    sim.set("coil", 2, True, unit=1)
    sim.set("holding", 0, encode_string("PUMP", 2), unit=2)
    sim.set("holding", 2, encode("uint32", 3000000000), unit=2)
    with RtuServer(serial_pair.a, sim) as server:
        devices = device_yaml(
            "meter",
            _rtu(serial_pair.b),
            [
                "{name: voltage, table: input, address: 0, type: float32, order: CDAB, unit: V}",
                "{name: setpoint, table: holding, address: 4, type: int16, writable: true}",
                "{name: relay, table: coil, address: 2, type: bool}",
            ],
            unit_id=1,
            poll_interval="200ms",
        )
        devices += device_yaml(
            "pump",
            _rtu(serial_pair.b),
            [
                "{name: name, table: holding, address: 0, type: string, length: 2}",
                "{name: hours, table: holding, address: 2, type: uint32}",
            ],
            unit_id=2,
            poll_interval="200ms",
        )
        # Unit 3 is not on the line: its requests time out, the other two keep being polled.
        devices += device_yaml(
            "ghost",
            _rtu(serial_pair.b),
            ["{name: x, table: holding, address: 0, type: uint16}"],
            unit_id=3,
            poll_interval="200ms",
            response_timeout="300ms",
        )
        wharfd = wharfd_factory(adapter_yaml(devices, name="line-1"))
        telemetry = subscriber(wharfd)
        values = telemetry.wait_all(
            ["devices/meter/voltage", "devices/meter/setpoint", "devices/meter/relay", "devices/pump/name", "devices/pump/hours"],
            timeout=15,
        )
        assert values["devices/meter/voltage"]["value"] == 230.5
        assert values["devices/meter/voltage"]["unit"] == "V"
        assert values["devices/meter/setpoint"]["value"] == -3
        assert values["devices/meter/relay"]["value"] is True
        assert values["devices/pump/name"]["value"] == "PUMP"
        assert values["devices/pump/hours"]["value"] == 3000000000
        for device in ("meter", "pump"):
            assert telemetry.wait(f"devices/{device}/$status")["state"] == "online"
        ghost = telemetry.wait("devices/ghost/$status", lambda body: body["state"] == "offline", timeout=15)
        assert ghost.get("reason")

        # While unit 3 keeps timing out, units 1 and 2 are still polled.
        start = len(sim.log())
        sim.wait_reads(0, 3, table="input", after=start, timeout=10)
        later = sim.log()[start:]
        assert any(r.unit == 2 for r in later)

        # A write on the shared line.
        telemetry.client.publish("devices/meter/setpoint/set", json.dumps(250), 1)
        result = telemetry.wait("devices/meter/setpoint/set/result")
        assert result["ok"] is True, result
        assert sim.get("holding", 4, unit=1) == encode("int16", 250)
        writes = [r for r in sim.writes() if r.unit == 1]
        assert [(w.function, w.address) for w in writes] == [(6, 4)]
        # One request at a time: the line never carried two overlapping frames.
        assert server.bad_frames == 0
