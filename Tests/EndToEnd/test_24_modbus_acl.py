"""The ACL governs the Modbus adapter as it governs MQTT clients: the adapter publishes only
where its `user adapter:NAME` section lets it, and a command topic that causes a physical write
can be written only by who the ACL names (the locked-down example of docs/security.md)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from wharf_e2e.client import MqttClient
from wharf_e2e.modbus import ModbusSimulator, adapter_yaml, device_yaml, encode, tcp
from wharf_e2e.modbus_fixtures import modbus_devices, run_check, wharfd_factory  # noqa: F401 - fixtures
from wharf_e2e.raw import RawClient

pytestmark = pytest.mark.wharf_only(reason="the Modbus adapter is part of wharfd")

ACL = """\
user viewer
topic read devices/#
user operator
topic read devices/#
topic write devices/+/+/set
user adapter:plant
topic write devices/+/+
topic write devices/+/+/set/result
topic read devices/+/+/set
"""

POINTS = ["{name: sp, table: holding, address: 0, type: uint16, writable: true}"]


def _start(modbus_devices, wharfd_factory, tmp_path: Path, adapter: str):
    sim = ModbusSimulator()
    sim.set("holding", 0, 41)
    server = modbus_devices(sim)
    acl = tmp_path / "acl"
    acl.write_text(ACL)
    config = adapter_yaml(device_yaml("plc", tcp(server), POINTS, poll_interval="100ms"), name=adapter)
    wharfd = wharfd_factory(config, acl_file=str(acl))
    return sim, wharfd


def _client(wharfd, username: str) -> MqttClient:
    client = MqttClient(wharfd.host, wharfd.port, version=5, username=username)
    client.connect()
    return client


def test_an_adapter_publishes_where_its_section_allows_and_only_named_users_write_commands(
    modbus_devices, wharfd_factory, tmp_path: Path
) -> None:
    sim, wharfd = _start(modbus_devices, wharfd_factory, tmp_path, "plant")
    viewer = _client(wharfd, "viewer")
    viewer.subscribe("devices/#", 1)
    [reading] = viewer.messages.wait(1, topic="devices/plc/sp", timeout=15)
    assert json.loads(reading.payload)["value"] == 41

    # The viewer may read but not write the command topic: refused (0x87), no write happens.
    with RawClient(wharfd.host, wharfd.port) as raw:
        raw.connect("viewer-raw", username="viewer")
        assert raw.publish("devices/plc/sp/set", b"7", qos=1).reason == 0x87
    operator = _client(wharfd, "operator")
    operator.publish("devices/plc/sp/set", b"9", 1)
    deadline = time.monotonic() + 10
    while sim.get("holding", 0) != encode("uint16", 9):
        assert time.monotonic() < deadline, "the operator's command was not written"
        time.sleep(0.05)
    assert [w.address for w in sim.writes()] == [0]
    viewer.close()
    operator.close()


def test_an_adapter_the_acl_does_not_name_publishes_nothing(modbus_devices, wharfd_factory, tmp_path: Path) -> None:
    sim, wharfd = _start(modbus_devices, wharfd_factory, tmp_path, "rogue")
    viewer = _client(wharfd, "viewer")
    viewer.subscribe("devices/#", 1)
    operator = _client(wharfd, "operator")
    # The adapter polls (the device sees requests) but every publish is refused by the ACL.
    deadline = time.monotonic() + 10
    while not sim.log():
        assert time.monotonic() < deadline, "the adapter never polled"
        time.sleep(0.05)
    time.sleep(1.0)
    assert viewer.messages.snapshot() == []
    assert "not-authorized" in wharfd.log()
    # Nor does it receive commands: its subscription to the command topic was refused.
    operator.publish("devices/plc/sp/set", b"9", 1)
    time.sleep(1.0)
    assert sim.writes() == []
    viewer.close()
    operator.close()


def test_check_names_an_adapter_the_acl_forgot(modbus_devices, wharfd_factory, tmp_path: Path) -> None:
    _, wharfd = _start(modbus_devices, wharfd_factory, tmp_path, "rogue")
    checked = run_check(wharfd.workdir / "wharf.yaml")
    assert checked.returncode == 0, checked.stderr
    assert "no 'user adapter:rogue' section: the adapter 'rogue' may publish and subscribe to nothing" in checked.stderr
    (tmp_path / "named").mkdir()
    _, named = _start(modbus_devices, wharfd_factory, tmp_path / "named", "plant")
    assert "adapter:plant" not in run_check(named.workdir / "wharf.yaml").stderr
