"""40 admin API: /healthz, /metrics, /api/v1/status and /api/v1/config of a running wharfd."""

from __future__ import annotations

import subprocess

import pytest

from wharf_e2e.admin import admin_yaml, get, metric, wait_for_admin, wait_until
from wharf_e2e.broker import Broker, free_port, wharfd_path

pytestmark = pytest.mark.wharf_only(reason="Wharf's admin HTTP API")

ADMIN_PORT = free_port()
CLOSED_PORT = free_port()
ADMIN = pytest.mark.broker_config(wharf_extra_yaml=admin_yaml(ADMIN_PORT))
# An uplink to a port where nothing listens: it backs off, and its password must never show.
UPLINK = pytest.mark.broker_config(
    wharf_extra_yaml=admin_yaml(ADMIN_PORT)
    + "gateway:\n  id: gw-admin\n"
    + "uplink:\n  enabled: true\n  host: 127.0.0.1\n"
    + f"  port: {CLOSED_PORT}\n  username: gateway\n  password: hunter2-secret\n"
    + "  backoff:\n    base: 100ms\n    cap: 200ms\n"
    + '  forward:\n    - filter: "devices/#"\n'
)


@ADMIN
def test_healthz_is_ok_once_serving(broker: Broker) -> None:
    reply = wait_for_admin(ADMIN_PORT)
    assert reply.status == 200
    assert reply.body == "ok\n"
    assert reply.content_type.startswith("text/plain")


@ADMIN
def test_status_reports_listeners_clients_and_version(broker: Broker, mqtt) -> None:
    wait_for_admin(ADMIN_PORT)
    client = mqtt()
    client.subscribe("status/#", 1)
    status = wait_until(
        lambda: (s := get(ADMIN_PORT, "/api/v1/status").json())["broker"]["clients_connected"] == 1 and s,
        what="clients_connected == 1",
    )
    assert status["version"]
    assert status["gateway_id"]
    assert status["uptime_seconds"] >= 0
    assert status["health"] == {"problems": []}
    assert status["listeners"] == [{"name": "command-line", "address": f"127.0.0.1:{broker.port}"}]
    assert status["broker"]["subscriptions"] >= 1
    assert status["adapters"] == []
    assert "queue" not in status or status["queue"] is None
    assert "uplink" not in status or status["uplink"] is None


@ADMIN
def test_metrics_follow_the_broker(broker: Broker, mqtt) -> None:
    wait_for_admin(ADMIN_PORT)
    reply = get(ADMIN_PORT, "/metrics")
    assert reply.status == 200
    assert reply.content_type.startswith("text/plain; version=0.0.4")
    text = reply.body
    assert "# TYPE wharf_build_info gauge" in text
    assert any(line.startswith("wharf_build_info{version=") and float(line.rsplit(" ", 1)[1]) == 1 for line in text.splitlines())
    assert (metric(text, "wharf_uptime_seconds") or -1) >= 0
    assert metric(text, "wharf_broker_clients_connected") == 0
    before = metric(text, "wharf_broker_messages_received_total") or 0

    publisher = mqtt()
    for index in range(5):
        publisher.publish("metrics/test", f"m{index}".encode(), 1)
    text = get(ADMIN_PORT, "/metrics").body
    assert metric(text, "wharf_broker_clients_connected") == 1
    assert metric(text, "wharf_broker_messages_received_total") == before + 5
    assert "# TYPE wharf_broker_messages_received_total counter" in text
    assert (metric(text, "wharf_broker_bytes_received_total") or 0) > 0
    assert metric(text, "wharf_broker_retained_messages") is not None
    assert metric(text, "wharf_broker_messages_dropped_total", 'reason="queue-full"') == 0


@UPLINK
def test_queue_and_uplink_in_status_and_metrics(broker: Broker, mqtt) -> None:
    wait_for_admin(ADMIN_PORT)
    mqtt().publish("devices/a/temp", b"21.5", 1)
    status = wait_until(
        lambda: (s := get(ADMIN_PORT, "/api/v1/status").json())["queue"]["depth"] == 1 and s,
        what="queue depth 1",
    )
    assert status["gateway_id"] == "gw-admin"
    assert status["queue"]["bytes"] > 0
    assert status["queue"]["oldest_age_seconds"] >= 0
    assert status["uplink"]["state"] in ("connecting", "backing-off")
    assert status["uplink"]["remote"] == f"127.0.0.1:{CLOSED_PORT}"
    wait_until(lambda: get(ADMIN_PORT, "/api/v1/status").json()["uplink"]["reconnects"] >= 1, what="a reconnect")

    text = get(ADMIN_PORT, "/metrics").body
    assert metric(text, "wharf_queue_depth") == 1
    assert (metric(text, "wharf_queue_bytes") or 0) > 0
    assert metric(text, "wharf_queue_oldest_age_seconds") is not None
    assert metric(text, "wharf_queue_drain_rate") == 0
    assert metric(text, "wharf_queue_dropped_total", 'reason="expired"') == 0
    assert metric(text, "wharf_uplink_connected") == 0
    assert metric(text, "wharf_uplink_state", 'state="connected"') == 0
    assert (metric(text, "wharf_uplink_reconnects_total") or 0) >= 1


@UPLINK
def test_config_is_effective_and_redacted(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    reply = get(ADMIN_PORT, "/api/v1/config")
    assert reply.status == 200
    assert reply.content_type.startswith("application/json")
    assert "hunter2" not in reply.body
    config = reply.json()
    assert config["uplink"]["password"] == "***"
    assert config["uplink"]["username"] == "gateway"
    assert config["uplink"]["port"] == CLOSED_PORT
    assert config["gateway"]["id"] == "gw-admin"
    assert config["broker"]["listeners"] == [
        {
            "name": "command-line",
            "bind": "127.0.0.1",
            "port": broker.port,
            "tls": None,
            "use_identity_as_username": False,
            "protocol": "mqtt",
        }
    ]
    assert {key: config["admin"][key] for key in ("enabled", "listen", "allow_remote")} == {
        "enabled": True,
        "listen": f"127.0.0.1:{ADMIN_PORT}",
        "allow_remote": False,
    }
    assert config["storage"]["data_dir"] == str(broker.workdir / "data")
    assert "hunter2" not in broker.log()


@ADMIN
def test_unknown_path_is_404(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    assert get(ADMIN_PORT, "/api/v2/status").status == 404


@pytest.mark.broker_config(wharf_extra_yaml=f'admin:\n  enabled: false\n  listen: "127.0.0.1:{ADMIN_PORT}"\n')
def test_disabled_admin_api_does_not_listen(broker: Broker, mqtt) -> None:
    mqtt()  # the broker serves
    with pytest.raises(OSError):
        get(ADMIN_PORT, "/healthz", timeout=1.0)


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ('admin:\n  listen: "0.0.0.0:9883"\n', "admin.listen"),
        # Open to other machines, the API needs a login, so a password file.
        ('admin:\n  listen: "0.0.0.0:9883"\n  allow_remote: true\n', "admin.allow_remote"),
        ('admin:\n  listen: "0.0.0.0:9883"\n  allow_remote: true\n  password_file: "{tmp}/passwd"\n', None),
        ('broker:\n  password_file: "{tmp}/passwd"\nadmin:\n  listen: "0.0.0.0:9883"\n  allow_remote: true\n', None),
        ('admin:\n  listen: "[::1]:9883"\n', None),
        ("admin:\n  listen: 9883\n", "admin.listen"),
    ],
)
def test_listen_address_is_checked(tmp_path, section: str, problem: str | None) -> None:
    (tmp_path / "passwd").write_text("")
    config = tmp_path / "wharf.yaml"
    config.write_text(section.replace("{tmp}", str(tmp_path)))
    result = subprocess.run(
        [str(wharfd_path()), "--check", "--config", str(config)], capture_output=True, text=True, timeout=15
    )
    assert (result.returncode == 0) == (problem is None), result.stderr
    if problem is not None:
        assert problem in result.stderr
