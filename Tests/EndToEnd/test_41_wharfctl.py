"""41 wharfctl status: human-readable and JSON, from --config or --url, and when wharfd is not there;
wharfctl as wharfd started under the name `wharfctl` (the package's symbolic link)."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from wharf_e2e.admin import admin_yaml, get, wait_for_admin, wharfctl, wharfctl_path
from wharf_e2e.broker import Broker, free_port, wharfd_path

pytestmark = [
    pytest.mark.wharf_only(reason="wharfctl talks to Wharf's admin API"),
    pytest.mark.skipif(not wharfctl_path().is_file(), reason="wharfctl not built (it is wharfd: swift build --product wharfd)"),
]

ADMIN_PORT = free_port()
ADMIN = pytest.mark.broker_config(wharf_extra_yaml="gateway:\n  id: gw-ctl\n" + admin_yaml(ADMIN_PORT))
NO_REMOTE = pytest.mark.broker_config(
    wharf_extra_yaml="gateway:\n  id: gw-ctl\n" + admin_yaml(ADMIN_PORT) + "remote_config:\n  enabled: false\n"
)


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


# --- wharfctl config apply / status: the admin API's remote configuration surface ---------- #


@NO_REMOTE
def test_config_apply_and_status_without_remote_configuration(broker: Broker, tmp_path) -> None:
    """A daemon that does not run remote configuration says so; nothing is applied."""
    wait_for_admin(ADMIN_PORT)
    document = tmp_path / "gw-ctl-v1.json"
    document.write_text('{"gateway": "gw-ctl", "version": 1, "config": {}}\n')
    applied = wharfctl("config", "apply", str(document), "--config", _config(broker))
    assert applied.returncode == 1, applied.stdout + applied.stderr
    assert "unavailable" in applied.stderr and "remote configuration is not enabled" in applied.stderr
    shown = wharfctl("config", "status", "--admin", f"http://127.0.0.1:{ADMIN_PORT}")
    assert shown.returncode == 1
    assert shown.stdout.strip() == "remote configuration is not enabled"
    as_json = wharfctl("config", "status", "--json", "--config", _config(broker))
    assert (as_json.returncode, as_json.stdout.strip()) == (1, "null")
    assert "remote config" not in wharfctl("status", "--config", _config(broker)).stdout


@ADMIN
def test_config_sources_and_document_limits(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    sources = get(ADMIN_PORT, "/api/v1/config/sources")
    assert sources.status == 200
    assert all(source == "local" for source in sources.json().values())
    # The body needs a Content-Length, and a document above 1 MiB is refused before it is sent.
    for head, status in [
        ("Transfer-Encoding: chunked\r\n", 411),
        (f"Content-Length: {1024 * 1024 + 1}\r\n", 413),
    ]:
        with socket.create_connection(("127.0.0.1", ADMIN_PORT), timeout=5) as connection:
            connection.sendall(
                f"POST /api/v1/remote-config HTTP/1.1\r\nHost: x\r\nX-Wharf-Action: 1\r\n{head}\r\n".encode()
            )
            answer = b""
            while chunk := connection.recv(4096):
                answer += chunk
        assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer


def test_config_apply_when_the_daemon_is_not_there(tmp_path) -> None:
    document = tmp_path / "d.json"
    document.write_text("{}")
    result = wharfctl("config", "apply", str(document), "--url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 3
    assert "cannot reach the admin API" in result.stderr
    missing = wharfctl("config", "apply", str(tmp_path / "absent.json"), "--url", "http://127.0.0.1:1")
    assert missing.returncode == 2


# --- wharfctl queue dead-letters: the forward queue's dead-letter table ------------------- #


@ADMIN
def test_dead_letters_of_a_daemon_without_an_uplink(broker: Broker) -> None:
    """No uplink, no forward queue: listing and clearing are refused with the reason."""
    wait_for_admin(ADMIN_PORT)
    for extra in ([], ["--json"], ["--clear"]):
        result = wharfctl("queue", "dead-letters", *extra, "--config", _config(broker))
        assert result.returncode == 1, result.stdout + result.stderr
        assert result.stdout == ""
        assert "the uplink is not enabled" in result.stderr
    assert get(ADMIN_PORT, "/api/v1/queue/dead-letters").status == 404


def test_dead_letters_usage_and_an_absent_daemon() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    for arguments in (["--limit", "10001"], ["--limit=-1"], ["--clear", "--limit", "5"]):
        result = wharfctl("queue", "dead-letters", *arguments, "--url", url)
        assert result.returncode == 2, (arguments, result.stderr)
    for arguments in ([], ["--clear"]):
        result = wharfctl("queue", "dead-letters", *arguments, "--url", url)
        assert result.returncode == 3
        assert "cannot reach the admin API" in result.stderr
    assert wharfctl("queue", "dead-letters", "--url", "ftp://somewhere").returncode == 2


# --- one executable: wharfctl is wharfd started under the name `wharfctl` ------------------- #


def _run(program: Path | str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(program), *args], capture_output=True, text=True, timeout=15, check=False,
        stdin=subprocess.DEVNULL, env=env,
    )


def _named(directory: Path, name: str) -> Path:
    """The wharfd under test under another name: a symbolic link, as the package installs wharfctl."""
    directory.mkdir(parents=True, exist_ok=True)
    link = directory / name
    link.symlink_to(wharfd_path().absolute())
    return link


def test_wharfd_started_as_wharfctl_is_wharfctl(tmp_path: Path) -> None:
    link = _named(tmp_path, "wharfctl")
    shown = _run(link, "--help")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("OVERVIEW: Check and inspect a Wharf gateway.\n")
    assert "USAGE: wharfctl <subcommand>" in shown.stdout
    assert "See 'wharfctl help <subcommand>' for detailed help." in shown.stdout
    assert "wharfd" not in shown.stdout
    daemon, version = _run(wharfd_path(), "--version").stdout.split()
    assert daemon == "wharfd"
    assert _run(link, "version").stdout == f"wharfctl {version}\n"
    # Found on PATH, the name comes without a directory.
    found = _run("wharfctl", "version", env={"PATH": str(tmp_path)})
    assert (found.returncode, found.stdout) == (0, f"wharfctl {version}\n")
    # Exit statuses as wharfctl's: 64 for usage errors (ArgumentParser's), then the subcommands' own.
    wrong = _run(link, "no-such-command")
    assert wrong.returncode == 64
    assert "Usage: wharfctl <subcommand>" in wrong.stderr
    assert "Usage: wharfctl passwd " in _run(link, "passwd").stderr
    unreadable = _run(link, "check", str(tmp_path / "absent.yaml"))
    assert unreadable.returncode == 2
    assert "cannot read the configuration file" in unreadable.stderr
    assert _run(link, "status", "--url", f"http://127.0.0.1:{free_port()}").returncode == 3


def test_wharfd_under_any_other_name_is_wharfd(tmp_path: Path) -> None:
    expected = _run(wharfd_path(), "--help")
    assert expected.returncode == 0, expected.stderr
    assert expected.stdout.startswith("OVERVIEW: Wharf edge gateway")
    assert "USAGE: wharfd [--config <config>]" in expected.stdout
    for index, name in enumerate(["wharfd", "gateway", "wharfctl.old", "wharfctl-2", "Wharfctl"]):
        shown = _run(_named(tmp_path / str(index), name), "--help")
        assert (shown.returncode, shown.stdout) == (0, expected.stdout), name
    version = _run(_named(tmp_path / "v", "wharfctl2"), "--version")
    assert version.stdout.startswith("wharfd ")
