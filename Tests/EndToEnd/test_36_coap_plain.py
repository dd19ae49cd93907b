"""Plain (non-DTLS) CoAP: by default a plain peer may publish telemetry (`devices/+/+`) and nothing
else, so it cannot reach a command topic such as a Modbus point's `.../set` and cause a write;
`plain.publish` and `plain.read` change what it may do. `wharfd --check` and `wharfctl check`
warn when a CoAP server on a non-loopback address lets plain peers publish to command topics."""

from __future__ import annotations

from pathlib import Path

import pytest

from wharf_e2e.coap import (  # noqa: F401 - fixtures
    CoapConfig,
    coap_factory,
    coap_mqtt,
    wharf_only,
)
from wharf_e2e.coap_checks import validate, warnings, write_config
from wharf_e2e.coap_cli import assert_code, coap_client, post
from wharf_e2e.modbus import ModbusSimulator, Telemetry, adapter_yaml, device_yaml, tcp
from wharf_e2e.modbus_fixtures import modbus_devices  # noqa: F401 - fixtures

pytestmark = wharf_only

PUMP = "{name: pump, table: coil, address: 3, type: bool, writable: true}"


def test_plain_publish_to_a_command_topic_is_forbidden_by_default(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(plain_publish=None))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("devices/#", 1)
    assert_code(post(gateway, "t/devices/plc-1/pump/set", b"true"), "4.03")
    assert_code(post(gateway, "t/devices/plc-1/pump/set", b"true", non_confirmable=True, wait=2), "4.03")
    # Telemetry still goes through; had a command been published, it would have arrived first.
    assert_code(post(gateway, "t/devices/plc-1/temp", b"21.5"), "2.04")
    [message] = watcher.messages.wait(1)
    assert (message.topic, message.payload) == ("devices/plc-1/temp", b"21.5")
    assert len(watcher.messages.snapshot()) == 1


def test_plain_topics_outside_telemetry_are_forbidden_by_default(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(plain_publish=None))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    for path in ("t/sensors/hall/temp", "t/devices/plc-1", "t/devices/plc-1/pump/set/result"):
        assert_code(post(gateway, path, b"x"), "4.03")
    assert_code(post(gateway, "t/devices/meter-2/kwh", b"1234"), "2.04")
    [message] = watcher.messages.wait(1)
    assert message.topic == "devices/meter-2/kwh"
    assert len(watcher.messages.snapshot()) == 1


def test_plain_coap_cannot_write_to_a_modbus_device(coap_factory, coap_mqtt, modbus_devices) -> None:
    sim = ModbusSimulator()
    server = modbus_devices(sim)
    modbus = adapter_yaml(device_yaml("plc", tcp(server), [PUMP], poll_interval="200ms"))
    entries = modbus.split("\n", 1)[1]  # the entry, without the "adapters:" line
    gateway = coap_factory(CoapConfig(plain_publish=None), other_adapters=entries)
    telemetry = Telemetry(coap_mqtt(gateway))
    telemetry.wait("devices/plc/$status", lambda body: body["state"] == "online", timeout=15)

    assert_code(post(gateway, "t/devices/plc/pump/set", b"true"), "4.03")
    # A command from MQTT is written; writes to one device are made in order, so a write caused
    # by the CoAP request would come before it.
    telemetry.client.publish("devices/plc/pump/set", "false", 1)
    [result] = telemetry.wait_count("devices/plc/pump/set/result", 1)
    assert result["ok"] is True, result
    assert [(w.function, w.address, w.values) for w in sim.writes()] == [(5, 3, [False])]


def test_plain_publish_filters_are_configurable(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(plain_publish=("sensors/#",)))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    assert_code(post(gateway, "t/devices/plc-1/temp", b"1"), "4.03")
    assert_code(post(gateway, "t/sensors/hall/temp", b"2"), "2.04")
    [message] = watcher.messages.wait(1)
    assert (message.topic, message.payload) == ("sensors/hall/temp", b"2")


def test_plain_read_filters_are_configurable(coap_factory, coap_mqtt) -> None:
    gateway = coap_factory(CoapConfig(plain_read=("config/#",)))
    publisher = coap_mqtt(gateway)
    publisher.publish("config/hall/setpoint", b"20.5", 1, retain=True)
    publisher.publish("secrets/key", b"hunter2", 1, retain=True)
    reply = coap_client(gateway.url("t/config/hall/setpoint"))
    assert_code(reply, "2.05")
    assert reply.payload == b"20.5"
    assert_code(coap_client(gateway.url("t/secrets/key")), "4.03")


def _check_config(tmp_path: Path, coap_lines: list[str], *, modbus: bool = True) -> Path:
    """A Modbus adapter with one writable point (its command topic: devices/plc/pump/set) and a
    CoAP adapter with `coap_lines`; nothing is started, so the addresses are never bound."""
    text = adapter_yaml(device_yaml("plc", tcp(15020), [PUMP])) if modbus else "adapters:\n"
    text += "\n".join(["  - name: coap", "    type: coap", *[f"    {line}" for line in coap_lines]]) + "\n"
    path, _ = write_config(tmp_path, text)
    return path


CHECKERS = pytest.mark.parametrize("mode", ["check", "wharfctl"])


@CHECKERS
def test_check_warns_when_plain_lan_peers_may_write_modbus_points(tmp_path: Path, mode: str) -> None:
    path = _check_config(tmp_path, ["bind: 0.0.0.0", "plain:", '  publish: ["devices/#"]'])
    result = validate(mode, path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    found = [line for line in warnings(output) if "adapters[1].plain.publish" in line]
    assert found, f"no warning about plain.publish:\n{output}"
    assert "devices/plc/pump/set" in found[0], found


@CHECKERS
def test_check_warns_about_set_topics_and_coap_command_topics(tmp_path: Path, mode: str) -> None:
    lines = [
        "bind: 0.0.0.0",
        "plain:",
        '  publish: ["#"]',
        "devices:",
        "  - {name: valve-3, uri: 'coap://192.0.2.23/valve', command_topic: valves/3/open}",
    ]
    result = validate(mode, _check_config(tmp_path, lines, modbus=False))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    text = "\n".join(warnings(output))
    assert "adapters[0].plain.publish" in text, output
    assert "valves/3/open" in text and "/set" in text, output


@pytest.mark.parametrize(
    "lines",
    [
        ["bind: 127.0.0.1", "plain:", '  publish: ["#"]'],  # loopback only
        ["bind: 0.0.0.0"],  # the default plain filters: telemetry only
        ["bind: 0.0.0.0", "allow_plain: false", "plain:", '  publish: ["#"]', "dtls:", "  enabled: true",
         "  psk:", "    - {identity: a, key: k}"],  # fmt: skip
    ],
    ids=["loopback", "default-filters", "plain-not-allowed"],
)
def test_check_does_not_warn_without_plain_lan_access_to_commands(tmp_path: Path, lines: list[str]) -> None:
    result = validate("check", _check_config(tmp_path, lines))
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert warnings(output) == [], output
