"""60 Remote configuration: a real Mosquitto as the cloud broker, the real daemon, documents signed
by `wharfctl config sign`. Good pushes apply live and are confirmed; bad ones are rejected and
reported with every problem; a push that cuts the uplink rolls back by itself and the cloud hears
of it after the link is back; `kill -9` leaves a consistent state whose countdown continues."""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path

import pytest

from wharf_e2e.admin import admin_yaml, get, wait_for_admin, wait_until
from wharf_e2e.broker import BrokerOptions, free_port
from wharf_e2e.gateway import Gateway, UplinkOptions
from wharf_e2e.modbus import ModbusSimulator
from wharf_e2e.modbus_fixtures import modbus_devices, subscriber  # noqa: F401 - fixtures
from wharf_e2e.remote_config import CloudView, Signer, remote_yaml

pytestmark = pytest.mark.wharf_only(reason="remote configuration is Wharf's")


def modbus_adapter(port: int, name: str = "plant", device: str = "meter") -> dict:
    return {
        "name": name,
        "type": "modbus",
        "devices": [
            {
                "name": device,
                "tcp": {"host": "127.0.0.1", "port": port},
                "poll_interval": "200ms",
                "points": [{"name": "power", "table": "holding", "address": 0, "type": "uint16"}],
            }
        ],
    }


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer(tmp_path / "operator")


@pytest.fixture
def remote_gateway(gateway_factory, cloud, clients, signer):
    """make(**remote_yaml options) -> (gateway, cloud view, admin port)."""

    def make(uplink_changes: dict | None = None, **options):
        admin_port = free_port()
        extra = admin_yaml(admin_port) + remote_yaml(signer.trusted, **options)
        gateway = gateway_factory(
            UplinkOptions(port=cloud.port, **(uplink_changes or {})), wharf_extra_yaml=extra
        )
        wait_for_admin(admin_port)
        view = CloudView(clients(cloud))
        # The report is retained and republished on every connection: the first one says nothing ran yet.
        view.wait(lambda r: r["running_version"] is None, what="the first report")
        return gateway, view, admin_port

    return make


def remote_status(admin_port: int) -> dict:
    return get(admin_port, "/api/v1/status").json()["remote_config"]


def test_a_push_adds_a_modbus_device_live(remote_gateway, signer, modbus_devices, subscriber) -> None:
    sim = ModbusSimulator()
    sim.set("holding", 0, 4711)
    device = modbus_devices(sim)
    gateway, cloud, admin_port = remote_gateway()
    telemetry = subscriber(gateway)
    before = cloud.latest()
    clients_before = get(admin_port, "/api/v1/status").json()["broker"]["clients_connected"]

    cloud.push(signer.sign({"adapters": [modbus_adapter(device.port)]}, version=1))

    pending = cloud.wait_result(1, "pending-confirmation")
    assert pending["provisional"] is True and pending["running_version"] == 1
    assert pending["last_attempt"]["sections"] == ["adapters"]
    assert telemetry.wait("devices/meter/power")["value"] == 4711
    applied = cloud.wait_result(1, "applied")
    assert applied["provisional"] is False
    assert applied["last_known_good_version"] == 1 and applied["running_version"] == 1
    assert applied["desired_version"] == 1
    assert applied["effective_config_hash"] != before["effective_config_hash"]
    assert applied["last_attempt"]["errors"] == []
    # Live: the daemon did not restart, its clients stayed.
    assert get(admin_port, "/api/v1/status").json()["broker"]["clients_connected"] >= clients_before
    assert gateway.alive()
    config = get(admin_port, "/api/v1/config").json()
    assert [adapter["name"] for adapter in config["adapters"]] == ["plant"]
    status = remote_status(admin_port)
    assert status["running_version"] == 1 and status["sources"]["adapters"] == "remote:1"
    assert status["sources"]["broker"] == "local"
    # The staged document is kept under the data directory, with the record.
    staged = gateway.data_dir / "config"
    assert (staged / "desired-1.json").exists() and (staged / "state").exists()


REJECTIONS = [
    ("bad-signature", "signature"),
    ("wrong-gateway", "gateway"),
    ("forbidden-section", "config.broker"),
    ("invalid-config", "config.adapters[0].devices[0].tcp.port"),
    ("unsigned", "signature"),
    ("unknown-key-id", "key_id"),
]


@pytest.mark.parametrize(("kind", "path"), REJECTIONS, ids=[kind for kind, _ in REJECTIONS])
def test_a_bad_document_is_rejected_and_reported_with_nothing_changed(
    remote_gateway, signer, tmp_path, kind: str, path: str
) -> None:
    gateway, cloud, admin_port = remote_gateway()
    before = remote_status(admin_port)
    config_before = get(admin_port, "/api/v1/config").json()
    good = {"log": {"level": "debug"}}
    if kind == "bad-signature":
        document = json.loads(signer.sign(good, version=3))
        document["config"]["log"]["level"] = "trace"  # changed after signing
        payload = json.dumps(document).encode()
    elif kind == "wrong-gateway":
        payload = signer.sign(good, version=3, gateway="gw2")
    elif kind == "forbidden-section":
        payload = signer.sign({"log": {"level": "debug"}, "broker": {"max_connections": 5}}, version=3)
    elif kind == "invalid-config":
        adapter = modbus_adapter(502)
        adapter["devices"][0]["tcp"]["port"] = "not-a-port"
        payload = signer.sign({"adapters": [adapter]}, version=3)
    elif kind == "unsigned":
        document = json.loads(signer.sign(good, version=3))
        del document["signature"], document["key_id"]
        payload = json.dumps(document).encode()
    else:
        other = Signer(tmp_path / "stranger", key_id="stranger")
        payload = other.sign(good, version=3)

    cloud.push(payload)

    report = cloud.wait_result(3, "rejected")
    errors = report["last_attempt"]["errors"]
    assert any(error["path"] == path and f"[{kind}]" in error["message"] for error in errors), errors
    assert report["running_version"] is None and report["provisional"] is False
    assert report["effective_config_hash"] == before["effective_config_hash"]
    assert get(admin_port, "/api/v1/config").json() == config_before
    assert gateway.alive()


def test_an_old_version_is_rejected_and_the_same_version_ignored(remote_gateway, signer) -> None:
    gateway, cloud, admin_port = remote_gateway()
    cloud.push(signer.sign({"log": {"level": "debug"}}, version=5))
    cloud.wait_result(5, "applied")
    hash_applied = remote_status(admin_port)["effective_config_hash"]

    cloud.push(signer.sign({"log": {"level": "warning"}}, version=4))
    report = cloud.wait_result(4, "rejected")
    assert report["last_attempt"]["errors"][0]["path"] == "version"
    assert "[stale-version]" in report["last_attempt"]["errors"][0]["message"]
    assert report["running_version"] == 5 and report["effective_config_hash"] == hash_applied
    assert get(admin_port, "/api/v1/config").json()["log"]["level"] == "debug"
    # The floor survives a restart: version 4 stays refused, 5 is not applied again.
    gateway.stop()
    gateway.start()
    wait_for_admin(admin_port)
    status = remote_status(admin_port)
    assert status["running_version"] == 5 and status["last_attempt"]["version"] == 4
    assert get(admin_port, "/api/v1/config").json()["log"]["level"] == "debug"


def test_a_push_that_cuts_the_uplink_rolls_back_by_itself(remote_gateway, signer, cloud) -> None:
    gateway, view, admin_port = remote_gateway(
        confirm_within="6s", confirm_after="1s", allow=["adapters", "log", "uplink"]
    )
    dead = free_port()
    view.push(signer.sign({"uplink": {"enabled": True, "host": "127.0.0.1", "port": dead}}, version=2))

    # Applied by a restart; the uplink never comes back on the dead port, so after 6 s of running
    # it is rolled back, and the cloud hears of it once the restored uplink reconnects.
    report = view.wait_result(2, "rolled-back", timeout=60)
    assert "not confirmed within 6s" in report["last_attempt"]["errors"][0]["message"]
    assert "uplink" in report["last_attempt"]["sections"]
    assert report["running_version"] is None and report["provisional"] is False
    assert gateway.alive()
    status = remote_status(admin_port)
    assert status["last_attempt"]["result"] == "rolled-back"
    assert get(admin_port, "/api/v1/config").json()["uplink"]["port"] == cloud.port
    # The rolled-back version is never tried again, even though it is still the retained desired document.
    assert remote_status(admin_port)["running_version"] is None


def test_kill9_during_confirmation_continues_the_countdown(remote_gateway, signer, modbus_devices) -> None:
    device = modbus_devices(ModbusSimulator())
    gateway, cloud, admin_port = remote_gateway(confirm_within="10m", confirm_after="8s")
    cloud.push(signer.sign({"adapters": [modbus_adapter(device.port)]}, version=1))
    cloud.wait_result(1, "pending-confirmation")
    left_before = wait_until(lambda: remote_status(admin_port).get("confirmation_seconds_left"), what="a countdown")

    gateway.kill9()
    gateway.start()
    wait_for_admin(admin_port)

    status = remote_status(admin_port)
    assert status["provisional"] is True and status["running_version"] == 1
    assert status["last_known_good_version"] is None
    left_after = status["confirmation_seconds_left"]
    assert left_after is not None and left_after <= left_before
    assert [adapter["name"] for adapter in get(admin_port, "/api/v1/config").json()["adapters"]] == ["plant"]
    cloud.wait_result(1, "applied", timeout=60)
    assert remote_status(admin_port)["last_known_good_version"] == 1


def test_kill9_right_after_a_push_ends_consistent(remote_gateway, signer) -> None:
    gateway, cloud, admin_port = remote_gateway()
    cloud.push(signer.sign({"log": {"level": "debug"}}, version=1))
    gateway.kill9()
    gateway.start()
    wait_for_admin(admin_port)
    # Whether the crash came before the document was staged or after: it ends applied, once.
    cloud.wait_result(1, "applied", timeout=60)
    assert get(admin_port, "/api/v1/config").json()["log"]["level"] == "debug"
    staged = sorted(p.name for p in (gateway.data_dir / "config").iterdir())
    assert staged == ["desired-1.json", "state"]


def test_a_change_that_needs_a_restart_is_applied_by_one(remote_gateway, signer, clients, cloud) -> None:
    gateway, view, admin_port = remote_gateway()
    pid = gateway.proc.pid
    rule = {"name": "remote-rule", "filter": "plant/#", "remote_prefix": "site/gw1/"}
    view.push(signer.sign({"uplink": {"forward": [rule]}}, version=1))
    report = view.wait_result(1, "applied", timeout=60)
    assert report["last_attempt"]["sections"] == ["uplink.forward"]
    # Re-executed in place (no systemd here): same process id, new configuration.
    assert gateway.proc.pid == pid and gateway.alive()
    forward = get(admin_port, "/api/v1/config").json()["uplink"]["forward"]
    assert [rule["name"] for rule in forward] == ["remote-rule"]
    upstream = clients(cloud)
    upstream.subscribe("site/gw1/#", 1)
    local = gateway.client()
    local.connect()
    local.publish("plant/line1", b"42", 1)
    [message] = upstream.messages.wait(1, topic="site/gw1/plant/line1")
    assert message.payload == b"42"
    local.close()


def test_an_uplink_change_that_cannot_work_is_rejected_not_tried(remote_gateway, signer, cloud) -> None:
    gateway, view, admin_port = remote_gateway(allow=["adapters", "uplink"])
    view.push(signer.sign({"uplink": {"enabled": True, "host": "no-such-host.invalid", "port": 1883}}, version=2))
    report = view.wait_result(2, "rejected")
    [error] = report["last_attempt"]["errors"]
    assert error["path"] == "config.uplink.host" and "[uplink-preflight]" in error["message"]
    assert get(admin_port, "/api/v1/config").json()["uplink"]["host"] == "127.0.0.1"
    assert gateway.alive()


def test_sighup_keeps_the_remote_sections_on_the_edited_file(remote_gateway, signer, modbus_devices) -> None:
    device = modbus_devices(ModbusSimulator())
    gateway, cloud, admin_port = remote_gateway()
    cloud.push(signer.sign({"adapters": [modbus_adapter(device.port)]}, version=1))
    cloud.wait_result(1, "applied")

    path = gateway.workdir / "wharf.yaml"
    path.write_text(path.read_text().replace("level: info", "level: debug") if "level: info" in path.read_text() else path.read_text() + "log:\n  level: debug\n")
    gateway.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: get(admin_port, "/api/v1/status").json().get("last_reload"), what="a reload")

    status = get(admin_port, "/api/v1/status").json()
    assert status["last_reload"]["outcome"] == "applied"
    config = get(admin_port, "/api/v1/config").json()
    assert config["log"]["level"] == "debug"  # the local edit
    assert [adapter["name"] for adapter in config["adapters"]] == ["plant"]  # the remote section stays
    assert status["remote_config"]["sources"]["adapters"] == "remote:1"


def test_a_forged_high_version_does_not_block_real_documents(remote_gateway, signer, tmp_path) -> None:
    gateway, cloud, admin_port = remote_gateway()
    forged = json.loads(Signer(tmp_path / "attacker", key_id=signer.key_id).sign({"log": {"level": "trace"}}, version=999999))
    cloud.push(json.dumps(forged).encode())  # the right key id, another key: the signature fails
    report = cloud.wait_result(999999, "rejected")
    assert "[bad-signature]" in report["last_attempt"]["errors"][0]["message"]
    assert report["desired_version"] is None

    cloud.push(signer.sign({"log": {"level": "debug"}}, version=2))
    cloud.wait_result(2, "applied")
    assert get(admin_port, "/api/v1/config").json()["log"]["level"] == "debug"


def test_a_document_that_is_not_json_is_logged_and_changes_nothing(remote_gateway) -> None:
    gateway, cloud, admin_port = remote_gateway()
    before = remote_status(admin_port)
    cloud.push(b"\xff{not json")
    wait_until(lambda: "remote configuration document refused" in gateway.log(), what="the refusal in the log")
    assert remote_status(admin_port)["updated_at"] == before["updated_at"]
    assert gateway.alive()


class _FileListenerGateway(Gateway):
    """wharfd whose MQTT listener comes from the file (no --listen), so a document can change it."""

    def command(self) -> list[str]:
        command = super().command()
        at = command.index("--listen")
        return command[:at] + command[at + 2 :]


def test_a_configuration_the_daemon_cannot_start_with_is_rolled_back(tmp_path, cloud, clients, signer) -> None:
    admin_port = free_port()
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    workdir = tmp_path / "gw"
    workdir.mkdir()
    options = BrokerOptions(
        wharf_extra_yaml=admin_yaml(admin_port) + remote_yaml(signer.trusted, allow=["adapters", "broker"]),
    )
    gateway = _FileListenerGateway(options, workdir, UplinkOptions(port=cloud.port))
    gateway.options = options.with_changes(
        wharf_broker_extra=(f"listeners: [{{name: lan, bind: 127.0.0.1, port: {gateway.port}}}]",)
    )
    try:
        gateway.start()
        wait_for_admin(admin_port)
        view = CloudView(clients(cloud))
        view.wait(lambda r: r["running_version"] is None, what="the first report")
        listeners = [{"name": "lan", "bind": "127.0.0.1", "port": busy.getsockname()[1]}]
        view.push(signer.sign({"broker": {"listeners": listeners}}, version=1))

        report = view.wait_result(1, "rolled-back", timeout=60)
        assert "could not start with it" in report["last_attempt"]["errors"][0]["message"]
        wait_for_admin(admin_port)
        assert remote_status(admin_port)["running_version"] is None
        local = gateway.client()
        local.connect()  # the original listener serves again
        local.close()
    finally:
        busy.close()
        gateway.stop()
    gateway.check_clean_exit()


def test_a_restart_loop_with_a_provisional_configuration_rolls_it_back(remote_gateway, signer) -> None:
    gateway, cloud, admin_port = remote_gateway(confirm_within="10m", confirm_after="5m")
    rule = {"name": "remote-rule", "filter": "plant/#", "remote_prefix": "site/gw1/"}
    cloud.push(signer.sign({"uplink": {"forward": [rule]}}, version=1))
    cloud.wait_result(1, "pending-confirmation")
    wait_until(lambda: "start 1 of 3" in gateway.log(), what="the restart with version 1")
    wait_for_admin(admin_port)
    # A daemon that keeps crashing with it: three starts are tolerated, the fourth rolls it back.
    for _ in range(3):
        gateway.kill9()
        gateway.start()
        wait_for_admin(admin_port)
    report = cloud.wait_result(1, "rolled-back", timeout=60)
    assert "started 4 times with version 1" in report["last_attempt"]["errors"][0]["message"]
    assert get(admin_port, "/api/v1/config").json()["uplink"]["forward"][0]["name"] != "remote-rule"


def test_a_document_above_max_document_bytes_is_refused_unread(remote_gateway, signer) -> None:
    gateway, cloud, admin_port = remote_gateway(extra="  max_document_bytes: 1KiB\n")
    before = remote_status(admin_port)
    components = {f"component{index}": "debug" for index in range(60)}
    document = signer.sign({"log": {"level": "debug", "components": components}}, version=2)
    assert len(document) > 1024
    cloud.push(document)
    wait_until(lambda: "more than remote_config.max_document_bytes" in gateway.log(), what="the refusal in the log")
    after = remote_status(admin_port)
    assert after["updated_at"] == before["updated_at"] and after["desired_version"] is None
    assert get(admin_port, "/api/v1/config").json()["log"]["level"] == "info"
