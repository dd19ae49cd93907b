"""61 Remote configuration for a fleet: `wharfctl config push` signs one configuration for 20
gateways, publishes it to the cloud broker and waits for each gateway's report; every one applies
it. `wharfctl config apply` does the same on site, with the same checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wharf_e2e.admin import admin_yaml, get, wait_for_admin, wharfctl
from wharf_e2e.broker import BrokerOptions, free_port
from wharf_e2e.gateway import Gateway, UplinkOptions
from wharf_e2e.remote_config import CloudView, Signer, remote_yaml

pytestmark = pytest.mark.wharf_only(reason="remote configuration is Wharf's")

FLEET = 20


@pytest.fixture
def signer(tmp_path: Path) -> Signer:
    return Signer(tmp_path / "operator")


def test_a_push_to_twenty_gateways_is_applied_by_all(tmp_path: Path, cloud, clients, signer) -> None:
    fleet: list[Gateway] = []
    ids = [f"gw-{index:02d}" for index in range(FLEET)]
    try:
        for gateway_id in ids:
            workdir = tmp_path / gateway_id
            workdir.mkdir()
            options = BrokerOptions(wharf_extra_yaml=remote_yaml(signer.trusted))
            gateway = Gateway(options, workdir, UplinkOptions(port=cloud.port), gateway_id=gateway_id)
            fleet.append(gateway)
            gateway.start()
        views = {gateway_id: CloudView(clients(cloud), gateway=gateway_id) for gateway_id in ids}
        for view in views.values():
            view.wait(lambda r: r["running_version"] is None, what="the first report")

        sections = tmp_path / "fleet.yaml"
        sections.write_text("log:\n  level: debug\n")
        arguments = ["config", "push", str(sections), "--host", "127.0.0.1", "--port", str(cloud.port)]
        arguments += ["--key", str(signer.key), "--version", "3", "--timeout", "120s"]
        for gateway_id in ids:
            arguments += ["--gateway", gateway_id]
        result = wharfctl(*arguments, timeout=180)

        assert result.returncode == 0, result.stdout + result.stderr
        for gateway_id in ids:
            assert f"{gateway_id}: applied" in result.stdout, result.stdout
        for gateway_id, view in views.items():
            report = view.wait_result(3, "applied")
            assert report["running_version"] == 3 and report["last_known_good_version"] == 3, gateway_id
        assert all(gateway.alive() for gateway in fleet)
    finally:
        for gateway in fleet:
            gateway.stop()
        for gateway in fleet:
            gateway.check_clean_exit()


def test_config_apply_on_site_uses_the_same_checks(gateway_factory, signer, tmp_path: Path) -> None:
    admin_port = free_port()
    # No uplink reachable: the technician's USB stick is the only way in.
    gateway = gateway_factory(
        UplinkOptions(port=free_port()),
        wharf_extra_yaml=admin_yaml(admin_port) + remote_yaml(signer.trusted, confirm_within="10m", confirm_after="1s"),
    )
    wait_for_admin(admin_port)
    admin = ["--admin", f"http://127.0.0.1:{admin_port}"]

    bad = tmp_path / "other-gateway.json"
    bad.write_bytes(signer.sign({"log": {"level": "debug"}}, version=2, gateway="gw-somewhere-else"))
    refused = wharfctl("config", "apply", str(bad), *admin)
    assert refused.returncode == 1
    assert "gateway" in refused.stdout + refused.stderr and "[wrong-gateway]" in refused.stdout + refused.stderr

    good = tmp_path / "stick.json"
    good.write_bytes(signer.sign({"log": {"level": "debug"}}, version=2))
    applied = wharfctl("config", "apply", str(good), *admin)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "pending-confirmation" in applied.stdout
    assert get(admin_port, "/api/v1/config").json()["log"]["level"] == "debug"
    status = get(admin_port, "/api/v1/status").json()["remote_config"]
    assert status["running_version"] == 2 and status["provisional"] is True

    again = wharfctl("config", "apply", str(good), *admin)
    assert again.returncode == 1 and "ignored" in again.stdout + again.stderr

    shown = wharfctl("config", "status", *admin)
    assert shown.returncode == 0 and "2" in shown.stdout
    # Without an uplink it cannot be confirmed: it stays provisional (and would roll back after 10 min).
    assert json.loads(wharfctl("config", "status", "--json", *admin).stdout)["provisional"] is True
