"""08: authentication (password file) and authorization (ACL file), on wharfd and Mosquitto.

Every broker here gets the same Mosquitto-format files. Where the specification leaves a
choice, the tests accept the choices it allows: a wrong password is refused with 0x86
(Bad user name or password; Wharf) or 0x87 (Not authorized; Mosquitto 2.0.11), and a
subscription to a filter the client can never read is refused with 0x87 (Wharf) or granted
with nothing delivered (Mosquitto).
"""

from __future__ import annotations

import os
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from wharf_e2e.admin import wharfctl as wharfctl_command
from wharf_e2e.admin import wharfctl_path
from wharf_e2e.broker import Broker, BrokerOptions, broker_kind, render_wharf_yaml, wharfd_path
from wharf_e2e.client import MqttClient

WHARFCTL = str(wharfctl_path())  # $WHARFCTL, or the wharfd under test named wharfctl
MOSQUITTO_PASSWD = "mosquitto_passwd"
QUIET = 0.5  # seconds to wait for a message that must not arrive

ACL = """\
# anonymous clients
topic read public/#

user alice
topic readwrite plant/#
topic deny plant/secret
topic read status/#

user bob
topic read plant/#
topic write status/bob

pattern readwrite clients/%c/#
pattern read inbox/%u
"""

NOT_AUTHORIZED_V5 = 0x87
OK = (0, 0x10)  # Success, or No matching subscribers
BAD_CREDENTIALS = (0x86, 0x87)
# paho reports an MQTT 3.1.1 CONNACK return code as the MQTT 5 reason code of the same meaning:
# 4 (bad user name or password) as 0x86, 5 (not authorized) as 0x87.


def wharfctl(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    if not Path(WHARFCTL).exists():
        pytest.fail(f"{WHARFCTL} is missing: run 'swift build --product wharfd' first")
    return subprocess.run(
        [WHARFCTL, "passwd", *args], input=stdin, capture_output=True, text=True, timeout=30,
        stdin=None if stdin is not None else subprocess.DEVNULL,
    )


def mosquitto_passwd(*args: str) -> None:
    done = subprocess.run([MOSQUITTO_PASSWD, *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    """Starts the broker under test with a password file, an ACL file or both."""
    started: list[Broker] = []

    def start(*, passwords: Path | None = None, acl: str | None = None, allow_anonymous: bool = False) -> Broker:
        # Mosquitto started as root drops to the 'mosquitto' user, which cannot read pytest's
        # private temporary directory; keep root for the test.
        extra = ("user root",) if os.geteuid() == 0 else ()
        options = BrokerOptions(allow_anonymous=allow_anonymous, mosquitto_extra=extra)
        if passwords is not None:
            options = options.with_changes(password_file=str(passwords))
        if acl is not None:
            acl_path = tmp_path / "acl"
            acl_path.write_text(acl)
            options = options.with_changes(acl_file=str(acl_path))
        workdir = tmp_path / f"broker{len(started)}"
        workdir.mkdir()
        instance = Broker(broker_kind(), options, workdir)
        started.append(instance)
        instance.start()
        return instance

    yield start
    for instance in started:
        instance.stop()
    for instance in started:
        instance.check_clean_exit()


@pytest.fixture
def client(secured: Callable[..., Broker]) -> Iterator[Callable[..., MqttClient]]:
    made: list[MqttClient] = []

    def make(broker: Broker, *, version: int = 5, connect: bool = True, **kwargs: object) -> MqttClient:
        made.append(MqttClient(broker.host, broker.port, version=version, **kwargs))  # type: ignore[arg-type]
        if connect:
            made[-1].connect()
        return made[-1]

    yield make
    for item in made:
        item.close()


@pytest.fixture
def users(tmp_path: Path) -> Path:
    """alice/secret and bob/hunter2, made by mosquitto_passwd."""
    path = tmp_path / "passwd"
    mosquitto_passwd("-c", "-b", str(path), "alice", "secret")
    mosquitto_passwd("-b", str(path), "bob", "hunter2")
    return path


def publish_reason(sender: MqttClient, topic: str, qos: int = 1) -> int:
    """Publishes at QoS 1/2 and returns the reason code of its PUBACK/PUBREC."""
    codes: dict[int, int] = {}
    sender.paho.on_publish = lambda client, userdata, mid, reason, props: codes.__setitem__(mid, int(reason.value))
    info = sender.paho.publish(topic, b"x", qos)
    info.wait_for_publish(5)
    deadline = time.monotonic() + 5
    while info.mid not in codes and time.monotonic() < deadline:
        time.sleep(0.01)
    assert info.mid in codes, f"no acknowledgement for the PUBLISH to {topic}"
    return codes[info.mid]


def received_topics(receiver: MqttClient, wait: float = QUIET) -> list[str]:
    time.sleep(wait)
    return sorted(message.topic for message in receiver.messages.snapshot())


# -- password file ------------------------------------------------------------------ #


@pytest.mark.parametrize("version", [5, 4])
def test_file_made_by_mosquitto_passwd(secured, client, users: Path, version: int) -> None:
    broker = secured(passwords=users)
    assert client(broker, version=version, username="alice", password="secret").connack.reason_code == 0
    assert client(broker, version=version, username="bob", password="hunter2").connack.reason_code == 0


@pytest.mark.parametrize("version", [5, 4])
def test_file_made_by_wharfctl(secured, client, tmp_path: Path, version: int) -> None:
    path = tmp_path / "passwd"
    assert wharfctl("-c", "-b", str(path), "alice", "secret").returncode == 0
    assert wharfctl("--password-stdin", str(path), "bob", stdin="hunter2\n").returncode == 0
    assert path.read_text().startswith("alice:$7$")
    broker = secured(passwords=path)
    assert client(broker, version=version, username="alice", password="secret").connack.reason_code == 0
    assert client(broker, version=version, username="bob", password="hunter2").connack.reason_code == 0


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong"), ("alice", ""), ("mallory", "secret"), ("alice", None)]
)
def test_bad_credentials_are_refused(secured, client, users: Path, username: str, password: str | None) -> None:
    broker = secured(passwords=users, allow_anonymous=True)
    v5 = client(broker, version=5, connect=False, username=username, password=password)
    assert v5.connect(expect_success=False).reason_code in BAD_CREDENTIALS
    v4 = client(broker, version=4, connect=False, username=username, password=password)
    assert v4.connect(expect_success=False).reason_code in BAD_CREDENTIALS


@pytest.mark.wharf_only(reason="Mosquitto 2.0.11 answers 0x87 / 5 (Not authorized) for a wrong password")
def test_bad_password_code_is_exact(secured, client, users: Path) -> None:
    broker = secured(passwords=users)
    v5 = client(broker, version=5, connect=False, username="alice", password="wrong")
    assert v5.connect(expect_success=False).reason_code == 0x86
    v4 = client(broker, version=4, connect=False, username="alice", password="wrong")
    assert v4.connect(expect_success=False).reason_code == 0x86  # return code 4


def test_anonymous_refused_unless_allowed(secured, client, users: Path) -> None:
    closed = secured(passwords=users, allow_anonymous=False)
    assert client(closed, version=5, connect=False).connect(expect_success=False).reason_code == NOT_AUTHORIZED_V5
    assert client(closed, version=4, connect=False).connect(expect_success=False).reason_code == NOT_AUTHORIZED_V5
    opened = secured(passwords=users, allow_anonymous=True)
    assert client(opened, version=5).connack.reason_code == 0
    assert client(opened, version=4).connack.reason_code == 0


# -- ACL ------------------------------------------------------------------------------ #


@pytest.fixture
def acl_broker(secured, users: Path) -> Broker:
    return secured(passwords=users, acl=ACL, allow_anonymous=True)


def test_read_write_and_deny(acl_broker: Broker, client) -> None:
    alice = client(acl_broker, username="alice", password="secret")
    bob = client(acl_broker, username="bob", password="hunter2")
    assert bob.subscribe("plant/#", 1) == [1]
    assert alice.subscribe("status/#", 1) == [1]

    assert publish_reason(alice, "plant/line1/temp") in OK
    assert publish_reason(alice, "plant/secret") == NOT_AUTHORIZED_V5  # deny wins over plant/#
    assert publish_reason(bob, "plant/line1/temp") == NOT_AUTHORIZED_V5  # bob may only read there
    assert publish_reason(bob, "status/bob") in OK
    assert publish_reason(bob, "status/alice") == NOT_AUTHORIZED_V5
    assert received_topics(bob) == ["plant/line1/temp"]
    assert received_topics(alice, 0) == ["status/bob"]


def test_mqtt311_publish_is_acknowledged_and_dropped(acl_broker: Broker, client) -> None:
    bob = client(acl_broker, username="bob", password="hunter2")
    assert bob.subscribe("plant/#", 1) == [1]
    alice = client(acl_broker, version=4, username="alice", password="secret")
    for qos in (1, 2):
        assert publish_reason(alice, "plant/secret", qos) in OK
    alice.publish("plant/secret", b"q0", 0)
    alice.publish("plant/ok", b"x", 2)
    assert received_topics(bob) == ["plant/ok"]


def test_delivery_is_filtered_by_read_access(acl_broker: Broker, client) -> None:
    # '#' is granted (alice can read part of it); only what she may read arrives.
    alice = client(acl_broker, username="alice", password="secret")
    assert alice.subscribe("#", 1) == [1]
    anonymous = client(acl_broker, client_id="writer")
    for topic in ("clients/writer/a", "plant/x"):
        anonymous.publish(topic, b"x", 1)
    root = client(acl_broker, username="alice", password="secret", client_id="root-alice")
    root.publish("plant/y", b"x", 1)
    root.publish("plant/secret", b"x", 1)
    assert received_topics(alice) == ["plant/y"]


def test_subscription_to_an_unreadable_filter(acl_broker: Broker, client) -> None:
    alice = client(acl_broker, username="alice", password="secret")
    code = alice.subscribe("plant/secret", 1)
    assert code in ([NOT_AUTHORIZED_V5], [1])
    alice4 = client(acl_broker, version=4, username="alice", password="secret")
    code4 = alice4.subscribe("plant/secret", 1)
    assert code4 in ([0x80], [1])
    writer = client(acl_broker, username="alice", password="secret")
    assert publish_reason(writer, "plant/secret") == NOT_AUTHORIZED_V5
    assert received_topics(alice) == [] and received_topics(alice4, 0) == []


@pytest.mark.wharf_only(reason="Mosquitto 2.0.11 grants every subscription and filters on delivery")
def test_unreadable_subscription_is_refused(acl_broker: Broker, client) -> None:
    alice = client(acl_broker, username="alice", password="secret")
    assert alice.subscribe([("plant/secret", 1), ("plant/+", 1), ("nowhere/#", 0)]) == [0x87, 1, 0x87]
    alice4 = client(acl_broker, version=4, username="alice", password="secret")
    assert alice4.subscribe([("plant/secret", 1), ("plant/+", 1)]) == [0x80, 1]


def test_patterns_substitute_client_id_and_user(acl_broker: Broker, client) -> None:
    bob = client(acl_broker, username="bob", password="hunter2", client_id="bob-1")
    assert bob.subscribe("inbox/bob", 1) == [1]
    assert bob.subscribe("clients/bob-1/#", 1) == [1]
    assert publish_reason(bob, "clients/bob-1/cmd") in OK
    assert publish_reason(bob, "clients/other/cmd") == NOT_AUTHORIZED_V5
    assert publish_reason(bob, "inbox/bob") == NOT_AUTHORIZED_V5  # the pattern grants read only
    # An anonymous client gets %c patterns but not %u ones.
    anonymous = client(acl_broker, client_id="anon-1")
    assert publish_reason(anonymous, "clients/anon-1/x") in OK
    assert publish_reason(anonymous, "inbox/bob") == NOT_AUTHORIZED_V5
    alice = client(acl_broker, username="alice", password="secret", client_id="alice-1")
    assert publish_reason(alice, "clients/alice-1/to-bob") in OK
    assert received_topics(bob) == ["clients/bob-1/cmd"]


def test_anonymous_lines_apply_only_to_anonymous_clients(acl_broker: Broker, client) -> None:
    anonymous = client(acl_broker)
    assert anonymous.subscribe("public/#", 1) == [1]
    alice = client(acl_broker, username="alice", password="secret")
    assert publish_reason(alice, "public/news") == NOT_AUTHORIZED_V5
    assert publish_reason(anonymous, "public/news") == NOT_AUTHORIZED_V5
    assert received_topics(anonymous) == []


def test_retained_messages_are_filtered(acl_broker: Broker, client) -> None:
    alice = client(acl_broker, username="alice", password="secret", client_id="retainer")
    alice.publish("plant/open", b"r", 1, retain=True)
    alice.publish("clients/retainer/private", b"r", 1, retain=True)
    bob = client(acl_broker, username="bob", password="hunter2")
    assert bob.subscribe("#", 1) == [1]
    assert received_topics(bob) == ["plant/open"]


def test_wills_follow_the_acl(acl_broker: Broker, client) -> None:
    alice = client(acl_broker, username="alice", password="secret")
    assert alice.subscribe("plant/#", 1) == [1]
    allowed = client(acl_broker, username="alice", password="secret", will=("plant/will/ok", b"gone", 1, False))
    forbidden = client(acl_broker, username="bob", password="hunter2", will=("plant/will/bob", b"gone", 1, False))
    allowed.drop()
    forbidden.drop()
    assert received_topics(alice, 1.0) == ["plant/will/ok"]


# -- wharfctl passwd --------------------------------------------------------------- #


def test_wharfctl_passwd_edits_the_file(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    missing = wharfctl("-b", str(path), "alice", "secret")
    assert missing.returncode != 0 and str(path) in missing.stderr and "-c" in missing.stderr
    assert wharfctl("-c", "-b", str(path), "alice", "secret").returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    path.chmod(0o600)
    path.write_text("# users of this gateway\n" + path.read_text())
    assert wharfctl("-b", str(path), "bob", "pw").returncode == 0
    assert wharfctl("--password-stdin", str(path), "carol", stdin="from stdin\n").returncode == 0
    assert wharfctl("-b", str(path), "alice", "changed").returncode == 0
    lines = path.read_text().splitlines()
    assert lines[0] == "# users of this gateway"
    assert [line.split(":")[0] for line in lines[1:]] == ["alice", "bob", "carol"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_text()
    unknown = wharfctl("-D", str(path), "dave")
    assert unknown.returncode != 0 and str(path) in unknown.stderr and "dave" in unknown.stderr
    assert path.read_text() == before
    assert wharfctl("-D", str(path), "bob").returncode == 0
    assert [line.split(":")[0] for line in path.read_text().splitlines()[1:]] == ["alice", "carol"]
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".passwd")], "temporary file left behind"


def test_wharfctl_passwd_refuses_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    assert wharfctl("-c", str(path), "alice").returncode != 0  # stdin is not a terminal
    assert not path.exists()
    assert wharfctl("-c", "-b", str(path), "al:ice", "pw").returncode != 0
    assert wharfctl("-c", "--password-stdin", str(path), "alice", stdin="").returncode != 0
    path.write_text("alice:not-a-hash\n")
    broken = wharfctl("-b", str(path), "bob", "pw")
    assert broken.returncode != 0 and f"{path}:1:" in broken.stderr
    assert path.read_text() == "alice:not-a-hash\n"


def test_wharfctl_and_mosquitto_passwd_share_a_file(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    mosquitto_passwd("-c", "-b", str(path), "alice", "secret")
    assert wharfctl("-b", str(path), "bob", "pw").returncode == 0
    mosquitto_passwd("-b", str(path), "carol", "pw")
    assert wharfctl("-D", str(path), "alice").returncode == 0
    mosquitto_passwd("-D", str(path), "carol")
    assert [line.split(":")[0] for line in path.read_text().splitlines()] == ["bob"]


@pytest.mark.wharf_only(reason="wharfd start-up checks")
def test_malformed_files_stop_wharfd(tmp_path: Path) -> None:
    for name, text, key in (("passwd", "alice\n", "password_file"), ("acl", "user alice\ntopic read a/#/b\n", "acl_file")):
        bad = tmp_path / name
        bad.write_text(text)
        workdir = tmp_path / f"w-{name}"
        workdir.mkdir()
        instance = Broker("wharfd", BrokerOptions(**{key: str(bad)}), workdir)
        with pytest.raises(AssertionError) as failure:
            instance.start()
        line = 1 if name == "passwd" else 2
        assert f"{bad}:{line}:" in str(failure.value)
    missing = tmp_path / "w-missing"
    missing.mkdir()
    instance = Broker("wharfd", BrokerOptions(password_file=str(tmp_path / "nope")), missing)
    with pytest.raises(AssertionError) as failure:
        instance.start()
    assert str(tmp_path / "nope") in str(failure.value)


@pytest.mark.wharf_only(reason="wharfd and wharfctl configuration checks")
@pytest.mark.parametrize("tool", ["wharfd", "wharfctl"])
def test_check_reads_the_password_and_acl_files(tmp_path: Path, tool: str) -> None:
    """`wharfd --check` and `wharfctl check` catch a broken password or ACL file before a start does."""
    if tool == "wharfctl" and not wharfctl_path().is_file():
        pytest.skip("wharfctl not built (it is wharfd: swift build --product wharfd)")
    bad = tmp_path / "passwd"
    bad.write_text("# users of the line-1 panel\nbob\n")
    config = tmp_path / "wharf.yaml"
    config.write_text(render_wharf_yaml(BrokerOptions(password_file=str(bad))))
    if tool == "wharfctl":
        result = wharfctl_command("check", str(config))
    else:
        result = subprocess.run(
            [str(wharfd_path()), "--check", "--config", str(config)], capture_output=True, text=True, timeout=20
        )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert f"{bad}:2:" in output, output

    bad.write_text("")
    if tool == "wharfctl":
        good = wharfctl_command("check", str(config))
    else:
        good = subprocess.run(
            [str(wharfd_path()), "--check", "--config", str(config)], capture_output=True, text=True, timeout=20
        )
    assert good.returncode == 0, good.stdout + good.stderr
