"""Fixtures of the Modbus suites; each suite imports them (`from wharf_e2e.modbus_fixtures import *`).

The simulators must exist before wharfd starts (its config names their ports), so these suites
start wharfd themselves through `wharfd_factory` instead of the `broker` fixture.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Callable, Iterator

import pytest

from .broker import Broker, BrokerOptions, wharfd_path
from .client import MqttClient
from .modbus import ModbusSimulator, SerialPair, TcpServer, Telemetry

__all__ = ["modbus_devices", "wharfd_factory", "subscriber", "serial_pair", "run_check", "run_start"]


@pytest.fixture
def modbus_devices() -> Iterator[Callable[..., TcpServer]]:
    """make(simulator=None, port=None): a started Modbus TCP simulator, stopped at teardown."""
    made: list[TcpServer] = []

    def make(simulator: ModbusSimulator | None = None, *, port: int | None = None, start: bool = True) -> TcpServer:
        server = TcpServer(simulator, port)
        made.append(server)
        if start:
            server.start()
        return server

    yield make
    for server in made:
        server.stop()


@pytest.fixture
def wharfd_factory(tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    """make(extra_yaml, **BrokerOptions changes): wharfd with `extra_yaml` appended to its config.

    Like the `broker` fixture: SIGTERM at teardown, and a crash or unclean exit fails the test.
    """
    made: list[Broker] = []

    def make(extra_yaml: str, **changes: object) -> Broker:
        workdir = tmp_path / f"wharfd{len(made)}"
        workdir.mkdir()
        options = BrokerOptions(wharf_extra_yaml=extra_yaml).with_changes(**changes)
        instance = Broker("wharfd", options, workdir)
        made.append(instance)
        instance.start()
        return instance

    yield make
    for instance in made:
        instance.stop()
    for instance in made:
        instance.check_clean_exit()


@pytest.fixture
def subscriber() -> Iterator[Callable[..., Telemetry]]:
    """make(broker, topic_filter="devices/#", version=5): a connected Telemetry subscriber."""
    made: list[MqttClient] = []

    def make(broker: Broker, topic_filter: str = "devices/#", *, version: int = 5) -> Telemetry:
        client = MqttClient(broker.host, broker.port, version=version)
        made.append(client)
        client.connect()
        return Telemetry(client, topic_filter)

    yield make
    for client in made:
        client.close()


@pytest.fixture
def serial_pair(tmp_path: Path) -> Iterator[SerialPair]:
    """A socat pty pair: `.a` for the simulated device, `.b` for wharfd."""
    with SerialPair(tmp_path) as pair:
        yield pair


def run_check(config: Path, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    """`wharfd --check --config <config>`, with its output."""
    return subprocess.run(
        [str(wharfd_path()), "--check", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_start(config: Path, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    """`wharfd --config <config>` as systemd would start it, for a config it must refuse: the
    process is expected to exit by itself (a bound stops it otherwise)."""
    data = config.parent / "data"
    data.mkdir(exist_ok=True)
    return subprocess.run(
        [str(wharfd_path()), "--config", str(config), "--data-dir", str(data), "--listen", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
