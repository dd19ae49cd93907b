"""42 SIGHUP reload: valid changes apply live without dropping clients; an invalid file changes nothing."""

from __future__ import annotations

import signal

import pytest

from wharf_e2e.admin import admin_yaml, get, wait_for_admin, wait_until, write_config
from wharf_e2e.broker import Broker, free_port

pytestmark = pytest.mark.wharf_only(reason="Wharf's configuration reload")

ADMIN_PORT = free_port()
BASE = "log:\n  level: info\n" + admin_yaml(ADMIN_PORT)
ADMIN = pytest.mark.broker_config(wharf_extra_yaml=BASE)


def _reload(broker: Broker, outcome: str) -> dict:
    """Sends SIGHUP and waits until the status shows a reload with `outcome` that was not there before."""
    before = get(ADMIN_PORT, "/api/v1/status").json().get("last_reload")
    assert broker.proc is not None
    broker.proc.send_signal(signal.SIGHUP)

    def reloaded() -> dict | None:
        status = get(ADMIN_PORT, "/api/v1/status").json()
        last = status.get("last_reload")
        return last if last and last != before and last["outcome"] == outcome else None

    return wait_until(reloaded, what=f"a reload {outcome}")


def _still_connected(mqtt_client, sender) -> None:
    """The subscriber connected before the reload still gets messages."""
    mqtt_client.messages.clear()
    sender.publish("reload/check", b"after", 1)
    [message] = mqtt_client.messages.wait(1, topic="reload/check")
    assert message.payload == b"after"
    assert mqtt_client.is_connected


@ADMIN
def test_valid_change_applies_live(broker: Broker, mqtt) -> None:
    wait_for_admin(ADMIN_PORT)
    subscriber = mqtt()
    subscriber.subscribe("reload/#", 1)
    sender = mqtt()

    write_config(broker, BASE.replace("level: info", "level: debug") + "gateway:\n  id: renamed\n")
    last = _reload(broker, "applied")
    assert last["messages"] == ["gateway: changed; takes effect after restart"]

    config = get(ADMIN_PORT, "/api/v1/config").json()
    assert config["log"]["level"] == "debug"  # applied
    assert config["gateway"]["id"] == ""  # needs a restart: not in effect yet
    assert get(ADMIN_PORT, "/api/v1/status").json()["gateway_id"] != "renamed"
    _still_connected(subscriber, sender)
    log = broker.log()
    assert "configuration reloaded" in log
    assert "takes effect after restart" in log and "config.section=gateway" in log
    broker.assert_alive()


@ADMIN
def test_invalid_file_keeps_the_running_configuration(broker: Broker, mqtt) -> None:
    wait_for_admin(ADMIN_PORT)
    subscriber = mqtt()
    subscriber.subscribe("reload/#", 1)
    sender = mqtt()
    before = get(ADMIN_PORT, "/api/v1/config").json()

    path = write_config(broker, BASE.replace("level: info", "level: loud"))
    path.write_text(path.read_text().replace("max_connections: 10000", "max_connections: lots"))
    last = _reload(broker, "rejected")
    problems = "\n".join(last["messages"])
    assert "log.level" in problems and "broker.max_connections" in problems

    assert get(ADMIN_PORT, "/api/v1/config").json() == before
    _still_connected(subscriber, sender)
    log = broker.log()
    rejected = [line for line in log.splitlines() if "reload rejected" in line]
    assert any("log.level" in line for line in rejected), log[-3000:]
    assert any("broker.max_connections" in line for line in rejected), log[-3000:]
    broker.assert_alive()


@ADMIN
def test_unknown_adapter_type_rejects_the_reload(broker: Broker, mqtt) -> None:
    wait_for_admin(ADMIN_PORT)
    write_config(broker, BASE + "adapters:\n  - name: mystery\n    type: no-such-adapter\n")
    last = _reload(broker, "rejected")
    assert any("unknown adapter type 'no-such-adapter'" in message for message in last["messages"])
    assert get(ADMIN_PORT, "/api/v1/config").json()["adapters"] == []
    assert get(ADMIN_PORT, "/api/v1/status").json()["adapters"] == []
    mqtt()  # still serving


@ADMIN
def test_unreadable_file_is_rejected(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    (broker.workdir / "wharf.yaml").unlink()
    last = _reload(broker, "rejected")
    assert any("cannot read the configuration file" in message for message in last["messages"])
    broker.assert_alive()
