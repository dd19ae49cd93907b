"""Fixtures and markers shared by the numbered end-to-end suites.

WHARF_E2E_BROKER=wharfd (default) runs the suites against $WHARFD
(default .build/debug/wharfd); WHARF_E2E_BROKER=mosquitto runs them against the
installed Mosquitto, which proves the tests themselves right.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

from wharf_e2e import codec
from wharf_e2e.broker import Broker, BrokerOptions, broker_kind, wharfd_path
from wharf_e2e.certs import Certificates
from wharf_e2e.client import MqttClient
from wharf_e2e.cloud import Cloud, CloudTLS
from wharf_e2e.gateway import Gateway, StorageOptions, UplinkOptions
from wharf_e2e.rabbitmq import RabbitCluster
from wharf_e2e.rabbitmq import installed as rabbitmq_installed
from wharf_e2e.raw import RawClient

RUN_XFAIL = os.environ.get("WHARF_E2E_RUN_XFAIL", "") not in ("", "0")
_REPORT_KEY = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "wharf_only(reason): Wharf behaviour Mosquitto does not have; skipped under mosquitto"
    )
    config.addinivalue_line(
        "markers",
        "xfail_mosquitto(reason): asserts the MQTT spec where Mosquitto 2.0.11 deviates; "
        "skipped under mosquitto (run as strict xfail with WHARF_E2E_RUN_XFAIL=1)",
    )
    config.addinivalue_line(
        "markers", "broker_config(**options): BrokerOptions for the broker fixture (see wharf_e2e/broker.py)"
    )


def _reason(marker: pytest.Mark, default: str) -> str:
    return str(marker.kwargs.get("reason") or (marker.args[0] if marker.args else default))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kind = broker_kind()
    if kind == "wharfd":
        if not config.option.collectonly and items and not wharfd_path().is_file():
            pytest.exit(
                f"wharfd not found at {wharfd_path()}: build it (swift build --product wharfd), "
                "set WHARFD=/path/to/wharfd, or run with WHARF_E2E_BROKER=mosquitto",
                returncode=4,
            )
        return
    for item in items:
        marker = item.get_closest_marker("wharf_only")
        if marker is not None:
            item.add_marker(pytest.mark.skip(reason="wharf only: " + _reason(marker, "Wharf-specific behaviour")))
        marker = item.get_closest_marker("xfail_mosquitto")
        if marker is not None:
            reason = "Mosquitto 2.0.11 deviates: " + _reason(marker, "deviates from the MQTT spec")
            if RUN_XFAIL:
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
            else:
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_report_header(config: pytest.Config) -> str:
    kind = broker_kind()
    target = wharfd_path() if kind == "wharfd" else "/usr/sbin/mosquitto"
    return f"broker under test: {kind} ({target})"


@pytest.fixture
def broker(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Broker]:
    """The broker under test on 127.0.0.1 and a free port, configured by @broker_config or indirect params."""
    options = BrokerOptions()
    marker = request.node.get_closest_marker("broker_config")
    if marker is not None:
        options = options.with_changes(**marker.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, dict):
        options = options.with_changes(**param)
    elif isinstance(param, BrokerOptions):
        options = param
    instance = Broker(broker_kind(), options, tmp_path)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()
    instance.check_clean_exit()


@pytest.fixture
def mqtt(broker: Broker) -> Iterator[Callable[..., MqttClient]]:
    """Factory for paho clients: mqtt(version=5|4, connect=True, **MqttClient kwargs)."""
    made: list[MqttClient] = []

    def make(*, version: int = 5, connect: bool = True, **kwargs: object) -> MqttClient:
        client = MqttClient(broker.host, broker.port, version=version, **kwargs)  # type: ignore[arg-type]
        made.append(client)
        if connect:
            client.connect()
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def raw(broker: Broker) -> Iterator[Callable[..., RawClient]]:
    """Factory for raw-socket clients: raw(version=5|4) opens the TCP connection only."""
    made: list[RawClient] = []

    def make(*, version: int = codec.MQTT5, timeout: float = 5.0) -> RawClient:
        client = RawClient(broker.host, broker.port, version=version, timeout=timeout)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


# --- uplink suites (test_10..12): a cloud Mosquitto and wharfd with its uplink ------------- #


@pytest.fixture
def certificates(tmp_path: Path) -> Certificates:
    """A CA, server and client certificates (and an unrelated CA), made with openssl."""
    return Certificates.make(tmp_path / "certs")


@pytest.fixture
def cloud_factory(tmp_path: Path) -> Iterator[Callable[..., Cloud]]:
    """make_cloud(persistence=False, tls=None, start=True, extra=()): a Mosquitto cloud broker on fixed
    ports; `extra` lines are added to its configuration (e.g. "max_qos 1")."""
    made: list[Cloud] = []

    def make(
        *, persistence: bool = False, tls: CloudTLS | None = None, start: bool = True, extra: tuple[str, ...] = ()
    ) -> Cloud:
        instance = Cloud(tmp_path / f"cloud{len(made)}", persistence=persistence, tls=tls, extra=extra)
        made.append(instance)
        if start:
            instance.start()
        return instance

    yield make
    for instance in made:
        instance.stop()
    failures = [f for instance in made for f in instance.failures]
    if failures:
        raise AssertionError("; ".join(failures))


@pytest.fixture
def cloud(cloud_factory: Callable[..., Cloud]) -> Cloud:
    """A running plain-TCP cloud broker without persistence."""
    return cloud_factory()


@pytest.fixture
def gateway_factory(tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    """make_gateway(uplink, storage=StorageOptions(), env=None, start=True, **BrokerOptions changes).

    wharfd with its queue and uplink; `sys_interval` defaults to 1 s here. At teardown it
    gets SIGTERM and must exit cleanly, as with the `broker` fixture.
    """
    made: list[Gateway] = []

    def make(
        uplink: UplinkOptions,
        storage: StorageOptions = StorageOptions(),
        *,
        env: dict[str, str] | None = None,
        start: bool = True,
        **changes: object,
    ) -> Gateway:
        options = BrokerOptions(sys_interval=1).with_changes(**changes)
        workdir = tmp_path / f"wharfd{len(made)}"
        workdir.mkdir()
        instance = Gateway(options, workdir, uplink, storage, env=env)
        made.append(instance)
        if start:
            instance.start()
        return instance

    yield make
    for instance in made:
        instance.stop()
    for instance in made:
        instance.check_clean_exit()


@pytest.fixture(scope="session")
def rabbit_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitCluster]:
    """A 3-node RabbitMQ cluster with MQTT on 127.0.0.1 (wharf_e2e/rabbitmq.py), started once per run.

    A cold start takes 25-35 s. Tests that stop or kill nodes take `healthy_rabbit_cluster`,
    which starts again whatever a test left down.
    """
    if not rabbitmq_installed():
        pytest.fail("rabbitmq-server is not installed: run scripts/install-deps.sh test")
    cluster = RabbitCluster(tmp_path_factory.mktemp("rabbitmq"))
    cluster.start_all()
    try:
        yield cluster
    finally:
        cluster.stop_all()
    if cluster.failures:
        raise AssertionError("; ".join(cluster.failures))


@pytest.fixture
def healthy_rabbit_cluster(rabbit_cluster: RabbitCluster) -> Iterator[RabbitCluster]:
    """The session's RabbitMQ cluster with every node running and accepting MQTT, before and after the test."""
    rabbit_cluster.repair()
    yield rabbit_cluster
    rabbit_cluster.repair()


@pytest.fixture
def clients() -> Iterator[Callable[..., MqttClient]]:
    """make_client(target, version=5, connect=True, **MqttClient kwargs) for any broker with host and port."""
    made: list[MqttClient] = []

    def make(target: object, *, version: int = 5, connect: bool = True, **kwargs: object) -> MqttClient:
        port = getattr(target, "client_port", None) or target.port  # type: ignore[attr-defined]
        client = MqttClient(target.host, port, version=version, **kwargs)  # type: ignore[attr-defined,arg-type]
        made.append(client)
        if connect:
            client.connect()
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def e2e_report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """report(line): a line for the "wharf e2e report" section at the end of the run (e.g. duplicate counts)."""
    lines = request.config.stash.setdefault(_REPORT_KEY, [])

    def report(line: str) -> None:
        lines.append(f"{request.node.nodeid}: {line}")

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    lines = config.stash.get(_REPORT_KEY, [])
    if lines:
        terminalreporter.section("wharf e2e report")
        for line in lines:
            terminalreporter.write_line(line)
