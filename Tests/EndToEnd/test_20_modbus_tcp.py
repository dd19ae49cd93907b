"""Modbus TCP polling through wharfd: every type and byte/word order, coils, discrete inputs,
register bits, strings, scale/offset, units, the payload format, topics and batching.

A simulated device holds known values; an MQTT 5 subscriber checks what wharfd publishes.
"""

from __future__ import annotations

import json
import math
import re

import pytest
from pymodbus.client import ModbusTcpClient

from wharf_e2e.modbus import (
    ORDERS_32,
    ORDERS_64,
    Device,
    ModbusSimulator,
    adapter_yaml,
    decode,
    device_yaml,
    encode,
    encode_string,
    tcp,
)
from wharf_e2e.modbus_fixtures import modbus_devices, subscriber, wharfd_factory  # noqa: F401 - fixtures

pytestmark = pytest.mark.wharf_only(reason="the Modbus adapter is part of wharfd")

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$")

# Known values of every numeric type, one per order; distinct values catch a point read from its
# neighbour's registers.
INT32 = {"ABCD": -123456789, "BADC": 987654321, "CDAB": -2000000001, "DCBA": 16909060}
UINT32 = {"ABCD": 4000000000, "BADC": 3735928559, "CDAB": 305419896, "DCBA": 2882400001}
FLOAT32 = {"ABCD": 231.25, "BADC": -0.5, "CDAB": 1234.5, "DCBA": 0.375}
INT64 = {"ABCDEFGH": -1234567890123, "BADCFEHG": 9007199254740993, "GHEFCDAB": -72623859790382856, "HGFEDCBA": 42}
UINT64 = {"ABCDEFGH": 12345678901234567890, "BADCFEHG": 1, "GHEFCDAB": 18364758544493064720, "HGFEDCBA": 65536}
FLOAT64 = {"ABCDEFGH": -12345.6789, "BADCFEHG": 1.0e300, "GHEFCDAB": 2.5e-10, "HGFEDCBA": 3.141592653589793}


def _all_types_map() -> tuple[ModbusSimulator, list[str], dict[str, object]]:
    """The simulator, the point lines for wharf.yaml and the expected `value` of each point."""
    sim = ModbusSimulator()
    points: list[str] = []
    expected: dict[str, object] = {}
    address = 0

    def add(name: str, type_name: str, value: object, registers: list[int], extra: str = "", table: str = "holding") -> None:
        nonlocal address
        sim.set(table, address, registers)
        points.append(f"{{name: {name}, table: {table}, address: {address}, type: {type_name}{extra}}}")
        expected[name] = value
        address += len(registers)

    add("i16", "int16", -1234, encode("int16", -1234))
    add("i16-min", "int16", -32768, encode("int16", -32768))
    add("u16", "uint16", 65000, encode("uint16", 65000))
    for order in ORDERS_32:
        o = order.lower()
        add(f"i32-{o}", "int32", INT32[order], encode("int32", INT32[order], order), f", order: {order}")
        add(f"u32-{o}", "uint32", UINT32[order], encode("uint32", UINT32[order], order), f", order: {order}")
        add(f"f32-{o}", "float32", FLOAT32[order], encode("float32", FLOAT32[order], order), f", order: {order}")
    for order in ORDERS_64:
        o = order.lower()
        add(f"i64-{o}", "int64", INT64[order], encode("int64", INT64[order], order), f", order: {order}")
        add(f"u64-{o}", "uint64", UINT64[order], encode("uint64", UINT64[order], order), f", order: {order}")
        add(f"f64-{o}", "float64", FLOAT64[order], encode("float64", FLOAT64[order], order), f", order: {order}")
    # The 4-letter names follow the same pattern on 64-bit types (CDAB = GHEFCDAB).
    add("i64-short-cdab", "int64", -5, encode("int64", -5, "GHEFCDAB"), ", order: CDAB")
    add("f64-short-dcba", "float64", -0.25, encode("float64", -0.25, "HGFEDCBA"), ", order: DCBA")
    # Default orders, written out nowhere.
    add("f32-default", "float32", -40.5, encode("float32", -40.5))
    add("u64-default", "uint64", 2**63, encode("uint64", 2**63))
    # Strings: NUL padding and trailing spaces removed; BADC swaps the bytes of each register.
    add("serial", "string", "SDM630", encode_string("SDM630", 4), ", length: 4")
    add("label", "string", "AB", encode_string("AB  ", 3), ", length: 3")
    add("swapped", "string", "WXYZ", encode_string("WXYZ", 2, swap_bytes=True), ", length: 2, order: BADC")
    # Bits of one register (bit 0 is the least significant).
    status = (1 << 0) | (1 << 3) | (1 << 15)
    sim.set("holding", address, status)
    for bit, value in ((0, True), (1, False), (3, True), (15, True)):
        points.append(f"{{name: bit{bit}, table: holding, address: {address}, type: bool, bit: {bit}}}")
        expected[f"bit{bit}"] = value
    address += 1
    # Scale and offset.
    add("scaled", "uint16", 231.4, [2314], ", scale: 0.1")
    add("offset", "int16", -10.0, encode("int16", -40), ", scale: 0.5, offset: 10")
    add("volts", "float32", 229.75, encode("float32", 229.75), ", unit: V")
    # Input registers, coils and discrete inputs (a gap between coils on purpose).
    sim.set("input", 0, encode("float32", 49.875, "CDAB"))
    points.append("{name: freq, table: input, address: 0, type: float32, order: CDAB, unit: Hz}")
    expected["freq"] = 49.875
    sim.set("input", 2, encode("int16", -7))
    points.append("{name: in-i16, table: input, address: 2, type: int16}")
    expected["in-i16"] = -7
    for addr, value in ((0, True), (1, False), (5, True)):
        sim.set("coil", addr, value)
        points.append(f"{{name: coil{addr}, table: coil, address: {addr}, type: bool}}")
        expected[f"coil{addr}"] = value
    for addr, value in ((3, False), (4, True)):
        sim.set("discrete", addr, value)
        points.append(f"{{name: di{addr}, table: discrete, address: {addr}, type: bool}}")
        expected[f"di{addr}"] = value
    return sim, points, expected


def test_simulator_agrees_with_pymodbus(modbus_devices) -> None:
    """The simulator and its encoders agree with pymodbus' client (an independent implementation)."""
    sim, _, _ = _all_types_map()
    server = modbus_devices(sim)
    client = ModbusTcpClient(server.host, port=server.port, timeout=5)
    assert client.connect()
    try:
        kinds = client.DATATYPE
        for type_name, kind, values in (
            ("int32", kinds.INT32, INT32),
            ("uint32", kinds.UINT32, UINT32),
            ("float32", kinds.FLOAT32, FLOAT32),
        ):
            for order, word_order in (("ABCD", "big"), ("CDAB", "little")):
                registers = encode(type_name, values[order], order)
                assert client.convert_to_registers(values[order], kind, word_order=word_order) == registers
                assert decode(type_name, registers, order) == values[order]
        for type_name, kind, values in (("int64", kinds.INT64, INT64), ("float64", kinds.FLOAT64, FLOAT64)):
            for order, word_order in (("ABCDEFGH", "big"), ("GHEFCDAB", "little")):
                registers = encode(type_name, values[order], order)
                assert client.convert_to_registers(values[order], kind, word_order=word_order) == registers
        for order in ORDERS_32:
            assert decode("float32", encode("float32", FLOAT32[order], order), order) == FLOAT32[order]
        # What the simulator serves is what pymodbus reads.
        read = client.read_holding_registers(0, count=2, device_id=1)
        assert client.convert_from_registers(read.registers[:1], kinds.INT16) == -1234
        assert client.convert_from_registers(read.registers[1:], kinds.INT16) == -32768
        coils = client.read_coils(0, count=6, device_id=1)
        assert coils.bits[:6] == [True, False, False, False, False, True]
        inputs = client.read_input_registers(0, count=2, device_id=1)
        assert client.convert_from_registers(inputs.registers, kinds.FLOAT32, word_order="little") == 49.875
        assert client.write_registers(500, [1, 2], device_id=1).function_code == 16
        assert client.write_coil(600, True, device_id=1).function_code == 5
        assert sim.get("holding", 500, 2) == [1, 2] and sim.get("coil", 600) == [True]
    finally:
        client.close()


def _assert_value(name: str, got: object, want: object) -> None:
    if isinstance(want, bool) or isinstance(want, str):
        assert got == want and type(got) is type(want), f"{name}: {got!r} != {want!r}"
    elif isinstance(want, int):
        assert isinstance(got, int) and not isinstance(got, bool), f"{name}: {got!r} is not a JSON integer"
        assert got == want, f"{name}: {got} != {want}"
    else:
        assert isinstance(got, (int, float)) and not isinstance(got, bool), f"{name}: {got!r}"
        assert math.isclose(got, float(want), rel_tol=1e-9, abs_tol=1e-9), f"{name}: {got} != {want}"


def test_every_type_and_order(modbus_devices, wharfd_factory, subscriber) -> None:
    sim, points, expected = _all_types_map()
    server = modbus_devices(sim)
    wharfd = wharfd_factory(adapter_yaml(device_yaml("meter-1", tcp(server), points, poll_interval="200ms")))
    telemetry = subscriber(wharfd)
    topics = [f"devices/meter-1/{name}" for name in expected]
    first = telemetry.wait_all(topics, timeout=15)
    problems = []
    for name, want in expected.items():
        body = first[f"devices/meter-1/{name}"]
        try:
            _assert_value(name, body.get("value"), want)
            assert body.get("quality") == "good", f"{name}: quality {body.get('quality')!r}"
            assert TIMESTAMP.match(str(body.get("timestamp"))), f"{name}: timestamp {body.get('timestamp')!r}"
        except AssertionError as error:
            problems.append(str(error))
    assert not problems, "\n".join(problems)
    assert first["devices/meter-1/volts"]["unit"] == "V"
    assert first["devices/meter-1/freq"]["unit"] == "Hz"
    assert "unit" not in first["devices/meter-1/i16"]
    message = telemetry.messages("devices/meter-1/volts")[0]
    assert message.properties.get("ContentType") == "application/json"
    assert message.qos == 1 and not message.retain  # qos 1, retain false by default
    # Every read went to unit 1 (the TCP default) and no write was made.
    assert {r.unit for r in sim.log()} == {1}
    assert not sim.writes()


def test_every_poll_republishes_unchanged_values(modbus_devices, wharfd_factory, subscriber) -> None:
    sim = ModbusSimulator()
    sim.set("holding", 0, 7)
    server = modbus_devices(sim)
    wharfd = wharfd_factory(
        adapter_yaml(device_yaml("d1", tcp(server), ["{name: p, table: holding, address: 0, type: uint16}"], poll_interval="100ms"))
    )
    telemetry = subscriber(wharfd)
    telemetry.wait_count("devices/d1/p", 3)
    sim.set("holding", 0, 8)
    assert telemetry.wait("devices/d1/p", lambda body: body["value"] == 8)["quality"] == "good"


def test_unit_id_status_and_topic_templates(modbus_devices, wharfd_factory, subscriber) -> None:
    """unit_id selects the device behind the address; templates with {adapter}; retained telemetry at
    QoS 0; the retained online status."""
    sim = ModbusSimulator({7: Device()})
    sim.set("holding", 10, encode("int32", -42))
    server = modbus_devices(sim)
    devices = device_yaml(
        "plc-7", tcp(server), ["{name: level, table: holding, address: 10, type: int32}"], unit_id=7, poll_interval="200ms"
    )
    wharfd = wharfd_factory(
        adapter_yaml(
            devices,
            name="line-2",
            topic='"site/{adapter}/{device}/{point}"',
            status_topic='"site/{adapter}/{device}/health"',
            qos=0,
            retain="true",
        )
    )
    first = subscriber(wharfd, "site/#")
    first.wait("site/line-2/plc-7/level", lambda body: body["value"] == -42)
    # A subscriber that comes later still gets the retained value and status.
    late = subscriber(wharfd, "site/#")
    status = late.wait("site/line-2/plc-7/health")
    assert status["state"] == "online" and TIMESTAMP.match(status["timestamp"])
    late.wait_count("site/line-2/plc-7/level", 1)
    first_value = late.messages("site/line-2/plc-7/level")[0]
    assert first_value.retain and first_value.qos == 0
    assert json.loads(first_value.payload)["value"] == -42
    assert {r.unit for r in sim.log()} == {7}
    assert all(r.exception is None for r in sim.log())


def test_contiguous_points_are_batched(modbus_devices, wharfd_factory, subscriber) -> None:
    """Contiguous registers (and gaps up to max_gap) share one request; a wider gap or another table
    starts another. 12 points here are read with 4 requests per poll."""
    sim = ModbusSimulator()
    points = [f"{{name: f{i}, table: holding, address: {100 + 2 * i}, type: float32}}" for i in range(8)]  # 100..115
    points += [
        "{name: near-a, table: holding, address: 200, type: uint16}",
        "{name: near-b, table: holding, address: 205, type: uint16}",  # gap of 4 <= max_gap 8
        "{name: far, table: holding, address: 300, type: uint16}",  # gap of 94: a request of its own
        "{name: c, table: coil, address: 3, type: bool}",
    ]
    server = modbus_devices(sim)
    wharfd = wharfd_factory(adapter_yaml(device_yaml("d1", tcp(server), points, poll_interval="100ms")))
    telemetry = subscriber(wharfd)
    telemetry.wait("devices/d1/far")
    start = len(sim.log())
    sim.wait_reads(100, 4, after=start, timeout=10)
    log = sim.log()[start:]
    starts = [i for i, r in enumerate(log) if r.function == 3 and r.covers(100)]
    cycle = log[starts[1] : starts[2]]
    shapes = sorted((r.function, r.address, r.count) for r in cycle)
    assert len(cycle) == 4, f"expected 4 requests per poll, got {shapes}"
    holding = sorted((r.address, r.count) for r in cycle if r.function == 3)
    assert holding[0] == (100, 16)
    assert holding[1][0] == 200 and holding[1][0] + holding[1][1] >= 206 and holding[1][1] <= 6 + 8
    assert holding[2] == (300, 1)
    assert [r.function for r in cycle].count(1) == 1


def test_requests_stay_within_protocol_limits(modbus_devices, wharfd_factory, subscriber) -> None:
    """A map wider than one request allows (125 registers) is split, and nothing is lost."""
    sim = ModbusSimulator()
    points = []
    for i in range(100):  # 200 contiguous registers
        sim.set("holding", 2 * i, encode("float32", float(i)))
        points.append(f"{{name: r{i}, table: holding, address: {2 * i}, type: float32}}")
    server = modbus_devices(sim)
    wharfd = wharfd_factory(adapter_yaml(device_yaml("d1", tcp(server), points, poll_interval="200ms")))
    telemetry = subscriber(wharfd)
    first = telemetry.wait_all([f"devices/d1/r{i}" for i in range(100)], timeout=15)
    assert all(first[f"devices/d1/r{i}"]["value"] == i for i in range(100))
    reads = [r for r in sim.log() if r.function == 3]
    assert reads and max(r.count for r in reads) <= 125
    assert all(r.exception is None for r in sim.log())
