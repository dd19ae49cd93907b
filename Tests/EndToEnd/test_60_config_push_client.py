"""60 `wharfctl config push` against a real Mosquitto standing in for the cloud broker.

A paho client plays the gateways: it answers each desired document on the gateway's reported topic
as scripted (applied, rejected, pending, or nothing at all). wharfd itself is not involved; the
push to real gateways is covered with the daemon's remote configuration suites.
"""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path
from typing import Callable, Iterator

import pytest

from wharf_e2e.admin import wharfctl, wharfctl_path
from wharf_e2e.broker import free_port
from wharf_e2e.certs import Certificates
from wharf_e2e.client import Received
from wharf_e2e.cloud import Cloud, CloudTLS

pytestmark = pytest.mark.skipif(
    not wharfctl_path().is_file(), reason="wharfctl not built (it is wharfd: swift build --product wharfd)"
)

SECTIONS = "log:\n  level: debug\n"
KEY_ID = "fleet-e2e"
# Long enough for three gateways on a loaded machine; the silent gateway makes every run wait it out.
TIMEOUT = "6s"

# What a scripted gateway answers: (result, errors) reports, published in order.
Script = list[tuple[str, list[dict[str, str]]]]


def report(version: int, result: str, errors: list[dict[str, str]]) -> str:
    """A reported document as a gateway publishes it (docs/remote-config.md, "Reported state")."""
    pending = result == "pending-confirmation"
    running = version if result in ("applied", "pending-confirmation") else version - 1
    return json.dumps(
        {
            "desired_version": version,
            "running_version": running,
            "last_known_good_version": version if result == "applied" else version - 1,
            "provisional": pending,
            "last_attempt": {
                "version": version,
                "result": result,
                "sections": ["log"],
                "errors": errors,
                "started_at": 1767225600,
                "finished_at": None if pending else 1767225601,
            },
            "effective_config_hash": "e2e",
            "updated_at": 1767225601,
        }
    )


class Fleet:
    """Scripted gateways on the cloud broker: each desired document is answered on its reported topic."""

    def __init__(self, cloud: Cloud, scripts: dict[str, Script], prefix: str = "wharf") -> None:
        self.scripts = scripts
        self.prefix = prefix
        self.documents: dict[str, bytes] = {}
        self.lock = threading.Lock()
        self.client = cloud.client(version=5)
        self.client.paho.on_message = self._on_message

    def start(self) -> "Fleet":
        self.client.connect()
        self.client.subscribe(f"{self.prefix}/+/config/desired", 1)
        return self

    def _on_message(self, client, userdata, message) -> None:  # noqa: ANN001 - paho's callback
        gateway = message.topic.split("/")[1]
        with self.lock:
            self.documents[gateway] = bytes(message.payload)
        version = json.loads(message.payload)["version"]
        for result, errors in self.scripts.get(gateway, []):
            # Not waited for: this runs on paho's network thread.
            client.publish(f"{self.prefix}/{gateway}/config/reported", report(version, result, errors), 1, True)

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    """A signing key pair from `wharfctl config keygen`; the public key alone in `trusted/`."""
    directory = tmp_path / "keys"
    directory.mkdir()
    made = wharfctl("config", "keygen", "--out", str(directory), KEY_ID)
    assert made.returncode == 0, made.stderr
    trusted = directory / "trusted"
    trusted.mkdir()
    (trusted / f"{KEY_ID}.pub").write_bytes((directory / f"{KEY_ID}.pub").read_bytes())
    return directory


@pytest.fixture
def sections(tmp_path: Path) -> Path:
    path = tmp_path / "sections.yaml"
    path.write_text(SECTIONS)
    return path


@pytest.fixture
def fleet(cloud: Cloud) -> Iterator[Callable[..., Fleet]]:
    made: list[Fleet] = []

    def make(scripts: dict[str, Script], prefix: str = "wharf") -> Fleet:
        instance = Fleet(cloud, scripts, prefix).start()
        made.append(instance)
        return instance

    yield make
    for instance in made:
        instance.close()


def push(*args: str, timeout: float = 25.0) -> subprocess.CompletedProcess[str]:
    return wharfctl("config", "push", *args, timeout=timeout)


def retained_desired(cloud: Cloud, count: int, prefix: str = "wharf") -> list[Received]:
    """The retained documents on the desired topics, as a subscriber arriving afterwards gets them."""
    client = cloud.client(version=5)
    try:
        client.connect()
        client.subscribe(f"{prefix}/+/config/desired", 1)
        return client.messages.wait(count)
    finally:
        client.close()


def verify(keys: Path, gateway: str, document: bytes, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / f"received-{gateway}.json"
    path.write_bytes(document)
    return wharfctl("config", "verify", "--keys", str(keys / "trusted"), "--gateway", gateway, str(path))


def lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return result.stdout.splitlines()


def test_push_signs_publishes_retained_and_reports_every_outcome(
    cloud: Cloud, fleet: Callable[..., Fleet], keys: Path, sections: Path, tmp_path: Path
) -> None:
    """Three gateways: one applies (after a pending confirmation), one rejects, one never answers."""
    # A report of an earlier version, retained from before: not the outcome of this push.
    old = cloud.client(version=5)
    old.connect()
    old.publish("wharf/gw-e1/config/reported", report(6, "applied", []), 1, True)
    old.close()
    scripted = fleet(
        {
            "gw-e1": [("pending-confirmation", []), ("applied", [])],
            "gw-e2": [("rejected", [{"path": "config.log.level", "message": "expected a log level"}])],
        }
    )
    result = push(
        str(sections), "--host", cloud.host, "--port", str(cloud.port), "--key", str(keys / f"{KEY_ID}.key"),
        "--version", "7", "--gateway", "gw-e1", "--gateway", "gw-e2", "--gateway", "gw-e3", "--timeout", TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    output = lines(result)
    assert "gw-e1: pending-confirmation (version 7), waiting for confirmation" in output
    assert "gw-e1: applied (version 7)" in output
    assert "gw-e2: rejected (version 7): config.log.level: expected a log level" in output
    assert f"gw-e3: no outcome within {TIMEOUT} (no report received)" in output
    assert output[-1] == "3 gateways: 1 applied, 1 rejected, 1 no outcome"
    assert not any(line.startswith("gw-e1: applied (version 6)") for line in output)

    # Each gateway's document: retained, QoS 1, signed for that gateway only, and what the fleet saw.
    received = {message.topic: message for message in retained_desired(cloud, 3)}
    assert sorted(received) == [f"wharf/gw-e{n}/config/desired" for n in (1, 2, 3)]
    for n in (1, 2, 3):
        gateway = f"gw-e{n}"
        message = received[f"wharf/{gateway}/config/desired"]
        assert message.retain and message.qos == 1
        document = json.loads(message.payload)
        assert (document["gateway"], document["version"], document["key_id"]) == (gateway, 7, KEY_ID)
        assert document["config"] == {"log": {"level": "debug"}}
        assert scripted.documents[gateway] == message.payload
        checked = verify(keys, gateway, message.payload, tmp_path)
        assert checked.returncode == 0, checked.stderr
        # The signature covers the gateway: another gateway refuses it.
        other = verify(keys, "gw-e9", message.payload, tmp_path)
        assert other.returncode == 1 and "[wrong-gateway]" in other.stderr


def test_a_signed_document_goes_to_its_own_gateway_as_is(
    cloud: Cloud, fleet: Callable[..., Fleet], keys: Path, sections: Path, tmp_path: Path
) -> None:
    """Without --key the document is published byte for byte; MQTT 3.1.1 and a custom topic prefix."""
    signed = wharfctl(
        "config", "sign", "--key", str(keys / f"{KEY_ID}.key"), "--gateway", "gw-s1", "--version", "12", str(sections)
    )
    assert signed.returncode == 0, signed.stderr
    document = tmp_path / "gw-s1-v12.json"
    document.write_text(signed.stdout)
    fleet({"gw-s1": [("applied", [])]}, prefix="sites")
    result = push(
        str(document), "--host", cloud.host, "--port", str(cloud.port), "--mqtt-version", "3.1.1",
        "--topic-prefix", "sites/{gateway}/config", "--timeout", "20s",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert lines(result)[-2:] == ["gw-s1: applied (version 12)", "1 gateway: 1 applied"]
    (message,) = retained_desired(cloud, 1, prefix="sites")
    assert message.topic == "sites/gw-s1/config/desired"
    assert message.payload == document.read_bytes()

    # A signed document is for its own gateway only.
    refused = push(str(document), "--host", cloud.host, "--port", str(cloud.port), "--gateway", "gw-s2")
    assert refused.returncode == 2
    assert "is for gateway 'gw-s1', not 'gw-s2'" in refused.stderr


def test_wait_pending_counts_a_provisional_configuration(
    cloud: Cloud, fleet: Callable[..., Fleet], keys: Path, sections: Path, tmp_path: Path
) -> None:
    gateways = tmp_path / "fleet.txt"
    gateways.write_text("# two gateways\ngw-p1\n\ngw-p2\n")
    fleet({"gw-p1": [("pending-confirmation", [])], "gw-p2": [("applied", [])]})
    result = push(
        str(sections), "--host", cloud.host, "--port", str(cloud.port), "--key", str(keys / f"{KEY_ID}.key"),
        "--version", "3", "--gateways-file", str(gateways), "--wait", "pending", "--timeout", "20s",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gw-p1: pending-confirmation (version 3)" in lines(result)
    assert lines(result)[-1] == "2 gateways: 1 applied, 1 pending-confirmation"


def test_rolled_back_is_a_failure(
    cloud: Cloud, fleet: Callable[..., Fleet], keys: Path, sections: Path
) -> None:
    fleet({"gw-r1": [("pending-confirmation", []), ("rolled-back", [{"path": "", "message": "uplink not back"}])]})
    result = push(
        str(sections), "--host", cloud.host, "--port", str(cloud.port), "--key", str(keys / f"{KEY_ID}.key"),
        "--version", "5", "--gateway", "gw-r1", "--timeout", "20s",
    )  # fmt: skip
    assert result.returncode == 1, result.stdout + result.stderr
    assert "gw-r1: rolled-back (version 5): uplink not back" in lines(result)
    assert lines(result)[-1] == "1 gateway: 1 rolled-back"


def test_over_tls_with_a_client_certificate(
    cloud_factory: Callable[..., Cloud], certificates: Certificates, keys: Path, sections: Path
) -> None:
    tls = CloudTLS(certificates.ca_file, certificates.server_cert, certificates.server_key, require_certificate=True)
    secure = cloud_factory(tls=tls)
    scripted = Fleet(secure, {"gw-t1": [("applied", [])]}).start()
    try:
        base = [
            str(sections), "--host", "127.0.0.1", "--port", str(secure.port), "--tls", "--ca-file",
            certificates.ca_file, "--key", str(keys / f"{KEY_ID}.key"), "--version", "2", "--gateway", "gw-t1",
            "--timeout", "20s",
        ]  # fmt: skip
        result = push(*base, "--cert-file", certificates.client_cert, "--key-file", certificates.client_key)
        assert result.returncode == 0, result.stdout + result.stderr
        assert lines(result)[-1] == "1 gateway: 1 applied"
        # Without the client certificate the broker refuses the handshake: nothing is published.
        refused = push(*base)
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "TLS handshake failed" in refused.stderr
    finally:
        scripted.close()


def test_an_unreachable_broker_is_a_usage_failure(keys: Path, sections: Path) -> None:
    result = push(
        str(sections), "--host", "127.0.0.1", "--port", str(free_port()), "--key", str(keys / f"{KEY_ID}.key"),
        "--version", "1", "--gateway", "gw-x1", "--timeout", "20s",
    )  # fmt: skip
    assert result.returncode == 2
    assert "cannot connect to 127.0.0.1:" in result.stderr and "Connection refused" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--gateway", "gw-1", "--gateway", "gw-2"], "a signed document is for one gateway"),
        (["--key", "k.key", "--gateway", "gw-1"], "--key needs --version"),
        (["--ca-file", "ca.pem"], "--ca-file needs --tls"),
        (["--timeout", "soon"], "--timeout 'soon'"),
    ],
)
def test_bad_arguments_publish_nothing(arguments: list[str], message: str, sections: Path) -> None:
    result = push(str(sections), "--host", "127.0.0.1", "--port", str(free_port()), *arguments)
    assert result.returncode == 2
    assert message in result.stderr


def test_a_login_with_a_password_file(tmp_path: Path, keys: Path, sections: Path) -> None:
    passwords = tmp_path / "cloud.passwd"
    made = subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), "operator", "s3cret"], capture_output=True, check=False
    )
    assert made.returncode == 0, made.stderr
    secured = Cloud(tmp_path / "secured", extra=[f"password_file {passwords}"])
    secured.start()
    try:
        base = [
            str(sections), "--host", "127.0.0.1", "--port", str(secured.port), "--key", str(keys / f"{KEY_ID}.key"),
            "--version", "4", "--gateway", "gw-l1", "--wait", "pending", "--timeout", "2s", "--username", "operator",
        ]  # fmt: skip
        good = tmp_path / "good"
        good.write_text("s3cret\n")
        # Logged in, published, then no gateway answers: an outcome of 1, not a login failure.
        result = push(*base, "--password-file", str(good))
        assert result.returncode == 1, result.stdout + result.stderr
        assert lines(result)[-1] == "1 gateway: 1 no outcome"
        bad = tmp_path / "bad"
        bad.write_text("wrong\n")
        refused = push(*base, "--password-file", str(bad))
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "refused the connection" in refused.stderr and "--password-file" in refused.stderr
    finally:
        secured.stop()
