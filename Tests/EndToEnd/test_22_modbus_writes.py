"""Writes through wharfd: a command on `.../set` becomes a Modbus write (function 5, 6, 15 or 16)
that lands in the simulated device, and a result message comes back (also to an MQTT 5 response
topic, with the correlation data). Refused commands get an error result and cause no write.
"""

from __future__ import annotations

import json

import pytest

from wharf_e2e.client import publish_properties
from wharf_e2e.modbus import ModbusSimulator, Telemetry, adapter_yaml, decode, device_yaml, encode, encode_string, tcp
from wharf_e2e.modbus_fixtures import modbus_devices, subscriber, wharfd_factory  # noqa: F401 - fixtures

pytestmark = pytest.mark.wharf_only(reason="the Modbus adapter is part of wharfd")

POINTS = [
    "{name: sp16, table: holding, address: 0, type: int16, writable: true}",
    "{name: f32, table: holding, address: 2, type: float32, order: CDAB, writable: true}",
    "{name: i64, table: holding, address: 4, type: int64, order: DCBA, writable: true}",
    "{name: scaled, table: holding, address: 10, type: uint16, scale: 0.1, writable: true, min: 0, max: 250}",
    "{name: u16, table: holding, address: 11, type: uint16, writable: true}",
    "{name: label, table: holding, address: 12, type: string, length: 4, writable: true}",
    "{name: ro, table: holding, address: 30, type: uint16}",
    "{name: meter, table: input, address: 0, type: uint16}",
    "{name: relay, table: coil, address: 3, type: bool, writable: true}",
    "{name: relay-ro, table: coil, address: 4, type: bool}",
]


def _start(modbus_devices, wharfd_factory, subscriber) -> tuple[ModbusSimulator, Telemetry]:
    sim = ModbusSimulator()
    sim.set("holding", 30, 77)
    server = modbus_devices(sim)
    wharfd = wharfd_factory(adapter_yaml(device_yaml("plc", tcp(server), POINTS, poll_interval="200ms")))
    telemetry = subscriber(wharfd)
    telemetry.wait("devices/plc/$status", lambda body: body["state"] == "online", timeout=15)
    return sim, telemetry


def _command(telemetry: Telemetry, point: str, body: object, *, raw: str | None = None) -> dict:
    """Publishes a command and returns the next result for that point."""
    topic = f"devices/plc/{point}/set/result"
    before = len(telemetry.messages(topic))
    telemetry.client.publish(f"devices/plc/{point}/set", raw if raw is not None else json.dumps(body), 1)
    result = telemetry.wait_count(topic, before + 1)[before]
    assert isinstance(result.get("timestamp"), str)
    return result


def test_writes_land_in_the_device(modbus_devices, wharfd_factory, subscriber) -> None:
    sim, telemetry = _start(modbus_devices, wharfd_factory, subscriber)

    assert _command(telemetry, "sp16", -5)["ok"] is True
    assert sim.get("holding", 0) == encode("int16", -5)

    result = _command(telemetry, "f32", {"value": 12.5})
    assert result == {**result, "ok": True, "value": 12.5}
    assert decode("float32", sim.get("holding", 2, 2), "CDAB") == 12.5

    assert _command(telemetry, "i64", -9000000000)["ok"] is True
    assert decode("int64", sim.get("holding", 4, 4), "HGFEDCBA") == -9000000000

    # Engineering units in, raw value out: 23.5 with scale 0.1 is 235.
    assert _command(telemetry, "scaled", 23.5)["ok"] is True
    assert sim.get("holding", 10) == [235]

    assert _command(telemetry, "label", "AB")["ok"] is True
    assert sim.get("holding", 12, 4) == encode_string("AB", 4)

    assert _command(telemetry, "relay", True)["ok"] is True
    assert sim.get("coil", 3) == [True]
    assert _command(telemetry, "relay", {"value": False})["ok"] is True
    assert sim.get("coil", 3) == [False]

    shapes = [(w.function, w.address, w.count) for w in sim.writes()]
    assert shapes[0] == (6, 0, 1), shapes
    assert shapes[1] == (16, 2, 2)
    assert shapes[2] == (16, 4, 4)
    assert shapes[3] == (6, 10, 1)
    assert shapes[4] == (16, 12, 4)
    assert shapes[5][0] in (5, 15) and shapes[5][1:] == (3, 1)
    assert shapes[6][0] in (5, 15) and shapes[6][1:] == (3, 1)
    assert len(shapes) == 7

    # The next poll publishes the written value.
    assert telemetry.wait("devices/plc/scaled", lambda body: body["value"] == pytest.approx(23.5))["quality"] == "good"


def test_response_topic_and_correlation_data(modbus_devices, wharfd_factory, subscriber) -> None:
    sim, telemetry = _start(modbus_devices, wharfd_factory, subscriber)
    telemetry.client.subscribe("replies/#", 1)
    properties = publish_properties(ResponseTopic="replies/app-1", CorrelationData=b"\x00req-42\xff")
    telemetry.client.publish("devices/plc/sp16/set", "321", 1, properties=properties)
    telemetry.wait_count("replies/app-1", 1)
    [reply] = telemetry.messages("replies/app-1")
    body = json.loads(reply.payload)
    assert body["ok"] is True and body["value"] == 321
    assert reply.properties.get("CorrelationData") == b"\x00req-42\xff"
    # The same result also goes to the result topic, and the value to the device.
    assert telemetry.wait("devices/plc/sp16/set/result")["ok"] is True
    assert sim.get("holding", 0) == [321]

    # An error reply goes back the same way.
    properties = publish_properties(ResponseTopic="replies/app-2", CorrelationData=b"c2")
    telemetry.client.publish("devices/plc/ro/set", "5", 1, properties=properties)
    telemetry.wait_count("replies/app-2", 1)
    [reply] = telemetry.messages("replies/app-2")
    assert json.loads(reply.payload)["ok"] is False
    assert reply.properties.get("CorrelationData") == b"c2"
    assert [(w.function, w.address) for w in sim.writes()] == [(6, 0)]


@pytest.mark.parametrize(
    ("point", "raw", "hint"),
    [
        ("ro", "5", "not writable"),
        ("relay-ro", "true", "not writable"),
        ("meter", "1", "not writable"),
        ("scaled", "300", ""),  # above max: 250
        ("scaled", "-1", ""),  # below min: 0
        ("u16", "70000", ""),  # beyond uint16
        ("u16", "-1", ""),
        ("sp16", "40000", ""),  # beyond int16
        ("sp16", '"high"', ""),  # a string for a number
        ("sp16", "not json", ""),
        ("relay", "42", ""),  # a number for a coil
        ("label", '"far too long for eight bytes"', ""),
    ],
)
def test_refused_writes_never_reach_the_device(modbus_devices, wharfd_factory, subscriber, point, raw, hint) -> None:
    sim, telemetry = _start(modbus_devices, wharfd_factory, subscriber)
    result = _command(telemetry, point, None, raw=raw)
    assert result["ok"] is False, result
    assert isinstance(result.get("error"), str) and result["error"]
    assert hint in result["error"]
    # A good write afterwards goes through; by its result, the refused one would have been written.
    assert _command(telemetry, "sp16", 1)["ok"] is True
    assert [(w.function, w.address, w.values) for w in sim.writes()] == [(6, 0, [1])]
    assert sim.get("holding", 30) == [77]


def test_write_to_an_unreachable_device_reports_an_error(modbus_devices, wharfd_factory, subscriber) -> None:
    sim, telemetry = _start(modbus_devices, wharfd_factory, subscriber)
    sim.silent = True  # the device stops answering
    result = _command(telemetry, "sp16", 9)
    assert result["ok"] is False and result["error"]
