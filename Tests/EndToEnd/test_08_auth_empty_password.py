"""08: empty passwords are refused unless `broker.allow_empty_passwords` is true.

`mosquitto_passwd -b FILE USER ""` writes a valid entry for the empty password. Mosquitto 2.0.11
refuses that user's empty password all the same (0x87 / return code 5); wharfd refuses it with
0x86 (return code 4) unless the option allows it, and `wharfctl passwd` refuses to write such an
entry.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from wharf_e2e.admin import wharfctl_path
from wharf_e2e.broker import Broker, BrokerOptions, broker_kind
from wharf_e2e.client import MqttClient

WHARFCTL = str(wharfctl_path())  # $WHARFCTL, or the wharfd under test named wharfctl
BAD_CREDENTIALS = (0x86, 0x87)  # paho shows MQTT 3.1.1 return codes 4 and 5 as these


def _wharfctl_passwd(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    if not Path(WHARFCTL).exists():
        pytest.fail(f"{WHARFCTL} is missing: run 'swift build --product wharfd' first")
    return subprocess.run(
        [WHARFCTL, "passwd", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


@pytest.fixture
def blank_users(tmp_path: Path) -> Path:
    """'blank' with the empty password and 'alice' with 'secret', made by mosquitto_passwd."""
    path = tmp_path / "passwd"
    for args in (["-c", "-b", str(path), "blank", ""], ["-b", str(path), "alice", "secret"]):
        done = subprocess.run(["mosquitto_passwd", *args], capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
    return path


@pytest.fixture
def start(tmp_path: Path, blank_users: Path) -> Iterator[Callable[..., Broker]]:
    started: list[Broker] = []

    def make(*, allow_empty: bool | None = None) -> Broker:
        extra = ("user root",) if os.geteuid() == 0 else ()
        wharf = () if allow_empty is None else (f"allow_empty_passwords: {'true' if allow_empty else 'false'}",)
        options = BrokerOptions(
            allow_anonymous=False, password_file=str(blank_users), mosquitto_extra=extra, wharf_broker_extra=wharf
        )
        workdir = tmp_path / f"broker{len(started)}"
        workdir.mkdir()
        instance = Broker(broker_kind(), options, workdir)
        started.append(instance)
        instance.start()
        return instance

    yield make
    for instance in started:
        instance.stop()
    for instance in started:
        instance.check_clean_exit()


def _connack(broker: Broker, version: int, username: str, password: str) -> int:
    client = MqttClient(broker.host, broker.port, version=version, username=username, password=password)
    try:
        return int(client.connect(expect_success=False).reason_code)
    finally:
        client.close()


@pytest.mark.parametrize("version", [5, 4])
def test_empty_password_is_refused_by_default(start, version: int) -> None:
    broker = start()
    assert _connack(broker, version, "blank", "") in BAD_CREDENTIALS
    assert _connack(broker, version, "alice", "secret") == 0


@pytest.mark.wharf_only(reason="Mosquitto 2.0.11 answers 0x87 / 5 (Not authorized)")
@pytest.mark.parametrize("version", [5, 4])
def test_empty_password_refusal_code_is_exact(start, version: int) -> None:
    assert _connack(start(), version, "blank", "") == 0x86  # return code 4 for MQTT 3.1.1


@pytest.mark.wharf_only(reason="allow_empty_passwords is a Wharf option")
def test_empty_password_is_refused_when_explicitly_disallowed(start) -> None:
    assert _connack(start(allow_empty=False), 5, "blank", "") == 0x86


@pytest.mark.wharf_only(reason="allow_empty_passwords is a Wharf option")
@pytest.mark.parametrize("version", [5, 4])
def test_empty_password_is_admitted_when_allowed(start, version: int) -> None:
    broker = start(allow_empty=True)
    assert _connack(broker, version, "blank", "") == 0
    # Allowing empty passwords does not make any password good.
    assert _connack(broker, version, "blank", "x") in BAD_CREDENTIALS
    assert _connack(broker, version, "alice", "") in BAD_CREDENTIALS


def test_wharfctl_passwd_refuses_an_empty_password(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    created = _wharfctl_passwd("-c", "-b", str(path), "blank", "")
    assert created.returncode != 0 and "empty" in created.stderr, created
    assert not path.exists()
    assert _wharfctl_passwd("-c", "-b", str(path), "alice", "secret").returncode == 0
    before = path.read_text()
    for args, stdin in ((["-b", str(path), "alice", ""], None), (["--password-stdin", str(path), "alice"], "\n")):
        refused = _wharfctl_passwd(*args, stdin=stdin)
        assert refused.returncode != 0 and "empty" in refused.stderr, refused
    assert path.read_text() == before
