"""The site the admin page's suite (test_44) looks at: wharfd with an uplink to a cloud Mosquitto,
a Modbus adapter (one simulated meter that answers, one device that does not), a CoAP adapter
polling an aiocoap sensor, and a plugin that can be made to crash into quarantine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .admin import admin_yaml, get, wait_for_admin
from .broker import HOST, free_port
from .cloud import Cloud
from .coap import CoapConfig, Device
from .coap_aio import CoapDevice
from .gateway import Gateway, UplinkOptions
from .modbus import ModbusSimulator, TcpServer, adapter_yaml, device_yaml, encode, tcp
from .plugins import plugin

VOLTAGE = 231.5
ENERGY = 12345


@dataclass
class Site:
    gateway: Gateway
    cloud: Cloud
    meter: TcpServer
    sensor: CoapDevice
    admin_port: int
    fail_file: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.admin_port}"

    def status(self) -> dict:
        return get(self.admin_port, "/api/v1/status").json()


def meter_simulator() -> ModbusSimulator:
    simulator = ModbusSimulator()
    simulator.set("holding", 0, encode("float32", VOLTAGE))
    simulator.set("holding", 2, encode("uint32", ENERGY))
    return simulator


def site_yaml(admin_port: int, meter: TcpServer, sensor: CoapDevice, fail_file: Path) -> str:
    """admin: and adapters: (Modbus, CoAP, a plugin) for wharf.yaml."""
    points = [
        "{name: voltage, table: holding, address: 0, type: float32, unit: V}",
        "{name: energy, table: holding, address: 2, type: uint32, unit: Wh}",
    ]
    devices = device_yaml("meter", tcp(meter), points, poll_interval="300ms") + device_yaml(
        # Nothing listens there: the device is offline and its connection errors are counted.
        "pump", tcp(free_port()), ["{name: speed, table: holding, address: 0, type: uint16}"],
        poll_interval="300ms", response_timeout="200ms",
    )
    modbus = adapter_yaml(devices, name="plant")
    coap = CoapConfig(name="sensors", devices=(Device("thermo", f"{sensor.url}/temp", interval="500ms"),)).with_ports()
    flaky = plugin("flaky", "flaky.py", {"fail_file": str(fail_file)}, max_restarts=2)
    # One adapters: list: the CoAP entry's own header is dropped.
    entries = modbus + coap.yaml().removeprefix("adapters:\n") + flaky.yaml()
    return admin_yaml(admin_port) + entries


def start_site(tmp: Path, gateway_factory, cloud_factory, modbus_devices, coap_device) -> Site:  # noqa: ANN001
    cloud = cloud_factory()
    meter = modbus_devices(meter_simulator())
    sensor = coap_device(b"21.5")
    fail_file = tmp / "flaky-fails"
    admin_port = free_port()
    gateway = gateway_factory(
        UplinkOptions(port=cloud.port), wharf_extra_yaml=site_yaml(admin_port, meter, sensor, fail_file)
    )
    wait_for_admin(admin_port)
    return Site(gateway, cloud, meter, sensor, admin_port, fail_file)
