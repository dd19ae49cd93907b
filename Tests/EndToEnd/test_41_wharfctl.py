"""41 wharfctl status: human-readable and JSON, from --config or --url, and when wharfd is not there."""

from __future__ import annotations

import json

import pytest

from wharf_e2e.admin import admin_yaml, wait_for_admin, wharfctl, wharfctl_path
from wharf_e2e.broker import Broker, free_port

pytestmark = [
    pytest.mark.wharf_only(reason="wharfctl talks to Wharf's admin API"),
    pytest.mark.skipif(not wharfctl_path().is_file(), reason="wharfctl not built (swift build --product wharfctl)"),
]

ADMIN_PORT = free_port()
ADMIN = pytest.mark.broker_config(wharf_extra_yaml="gateway:\n  id: gw-ctl\n" + admin_yaml(ADMIN_PORT))


def _config(broker: Broker) -> str:
    return str(broker.workdir / "wharf.yaml")


@ADMIN
def test_status_of_a_running_daemon(broker: Broker, mqtt) -> None:
    wait_for_admin(ADMIN_PORT)
    mqtt()
    result = wharfctl("status", "--config", _config(broker))
    assert result.returncode == 0, result.stderr
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in result.stdout.splitlines()}
    assert "gateway gw-ctl" in lines["wharfd"]
    assert lines["health"] == "ok"
    assert lines["listeners"] == f"command-line 127.0.0.1:{broker.port}"
    assert lines["clients"].startswith("1 connected")
    assert lines["adapters"] == "none"
    assert lines["uplink"] == "disabled"


@ADMIN
def test_status_json(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    result = wharfctl("status", "--json", "--config", _config(broker))
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["gateway_id"] == "gw-ctl"
    assert document["health"]["problems"] == []
    assert document["listeners"][0]["address"] == f"127.0.0.1:{broker.port}"


@ADMIN
def test_status_from_url(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    result = wharfctl("status", "--url", f"http://127.0.0.1:{ADMIN_PORT}", "--config", "/nonexistent/wharf.yaml")
    assert result.returncode == 0, result.stderr
    assert "gw-ctl" in result.stdout


@ADMIN
def test_status_when_the_daemon_is_stopped(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    broker.stop()
    result = wharfctl("status", "--config", _config(broker))
    assert result.returncode == 3
    assert result.stdout == ""
    assert f"127.0.0.1:{ADMIN_PORT}" in result.stderr
    assert "not running" in result.stderr
    assert wharfctl("status", "--json", "--config", _config(broker)).returncode == 3


def test_status_when_the_admin_api_is_off(tmp_path) -> None:
    config = tmp_path / "wharf.yaml"
    config.write_text("admin:\n  enabled: false\n")
    result = wharfctl("status", "--config", str(config))
    assert result.returncode == 3
    assert "admin API is off" in result.stderr
    assert str(config) in result.stderr


def test_status_with_a_bad_url() -> None:
    result = wharfctl("status", "--url", "ftp://somewhere")
    assert result.returncode == 2
    assert "--url" in result.stderr
