"""CoAP over DTLS with client certificates (certificates made with openssl for each run): a client
without a certificate, or with one from another CA, never gets in; a CA-verified subject gets
exactly the `publish`/`read` filters listed for its subject CN in `dtls.certificates`, and an
unlisted subject gets 4.03; PSK keeps working next to certificates. Contradictory certificate
settings are refused by `wharfd --check`, `wharfctl check` and at start, with their key path."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from wharf_e2e.broker import HOST, free_port, wharfd_path
from wharf_e2e.certs import Certificates
from wharf_e2e.coap import (  # noqa: F401 - fixtures
    CertSubject,
    CoapConfig,
    Psk,
    ServerCert,
    coap_factory,
    coap_mqtt,
    free_udp_port,
    udp_bound,
    wharf_only,
)
from wharf_e2e.coap_checks import CHECK_MODES, assert_reported, validate, write_config
from wharf_e2e.coap_cli import assert_code, assert_coap_serves, coap_client

pytestmark = wharf_only

SENSOR_PSK = ("sensor-1", "secret-one")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """ca, server (CN=localhost), client (CN=wharf-gw1), and the extra clients the tests use."""
    made = Certificates.make(tmp_path_factory.mktemp("coap-certs"))
    made.add_client("stranger", "/CN=stranger")
    made.add_client("foreign", "/CN=wharf-gw1", issuer="other-ca")
    made.add_client("sensor-9", "/CN=sensor-9", san="DNS:wharf-gw1")
    return made


def gw1(certs: Certificates) -> tuple[str, str]:
    return certs.client_cert, certs.client_key


def client(certs: Certificates, name: str) -> tuple[str, str]:
    return certs.path(f"{name}.crt"), certs.path(f"{name}.key")


def cert_config(certs: Certificates, **changes: object) -> CoapConfig:
    """Server certificate, CA, and grants for two subjects; plain CoAP open for the liveness checks."""
    return CoapConfig(
        server_cert=ServerCert(certs.server_cert, certs.server_key, certs.ca_file),
        certificates=(
            CertSubject("wharf-gw1", publish=("sensors/#",), read=("sensors/#",)),
            CertSubject("sensor-9", publish=("devices/sensor-9/#",), read=()),
        ),
        **changes,  # type: ignore[arg-type]
    )


def secure(gateway, path: str, *, method: str = "get", data: bytes | None = None, **kwargs):  # noqa: ANN001, ANN201
    return coap_client(gateway.url(path, secure=True), method=method, data=data, **kwargs)


def test_client_without_certificate_is_refused(coap_factory, coap_mqtt, certs: Certificates) -> None:
    gateway = coap_factory(cert_config(certs))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    for _ in range(2):
        reply = secure(gateway, "t/sensors/intruder", method="post", data=b"no certificate", wait=3)
        assert reply.code != "2.04", reply
    assert_code(secure(gateway, "t/sensors/gw1", method="post", data=b"signed", cert=gw1(certs)), "2.04")
    assert_coap_serves(gateway, watcher, "after/no-certificate")
    assert [m.topic for m in watcher.messages.snapshot()] == ["sensors/gw1", "after/no-certificate"]


def test_certificate_from_another_ca_is_refused(coap_factory, coap_mqtt, certs: Certificates) -> None:
    gateway = coap_factory(cert_config(certs))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    # Same subject as a listed one, signed by a CA that ca_file does not name.
    reply = secure(gateway, "t/sensors/forged", method="post", data=b"forged", cert=client(certs, "foreign"), wait=3)
    assert reply.code != "2.04", reply
    assert_coap_serves(gateway, watcher, "after/foreign")
    assert [m.topic for m in watcher.messages.snapshot()] == ["after/foreign"]


def test_subject_may_only_use_its_filters(coap_factory, coap_mqtt, certs: Certificates) -> None:
    gateway = coap_factory(cert_config(certs))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    watcher.publish("sensors/hall", b"19", 1, retain=True)
    watcher.publish("meters/7/kwh", b"1000", 1, retain=True)
    watcher.messages.wait(2)
    assert_code(secure(gateway, "t/meters/7/kwh", method="post", data=b"stolen", cert=gw1(certs)), "4.03")
    assert_code(secure(gateway, "t/sensors/x", method="post", data=b"mine", cert=gw1(certs)), "2.04")
    reply = secure(gateway, "t/sensors/hall", cert=gw1(certs))
    assert_code(reply, "2.05")
    assert reply.payload == b"19"
    assert_code(secure(gateway, "t/meters/7/kwh", cert=gw1(certs)), "4.03")
    items = watcher.messages.wait(3)
    assert [(m.topic, m.payload) for m in items][2:] == [("sensors/x", b"mine")]
    assert len(watcher.messages.snapshot()) == 3


def test_unlisted_subject_gets_nothing(coap_factory, coap_mqtt, certs: Certificates) -> None:
    gateway = coap_factory(cert_config(certs))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    watcher.publish("sensors/hall", b"19", 1, retain=True)
    watcher.messages.wait(1)
    stranger = client(certs, "stranger")  # signed by the CA, but its subject is not listed
    assert_code(secure(gateway, "t/sensors/x", method="post", data=b"who am i", cert=stranger), "4.03")
    assert_code(secure(gateway, "t/sensors/hall", cert=stranger), "4.03")
    assert_coap_serves(gateway, watcher, "after/stranger")
    assert [m.topic for m in watcher.messages.snapshot()] == ["sensors/hall", "after/stranger"]


def test_identity_is_the_subject_common_name(coap_factory, coap_mqtt, certs: Certificates) -> None:
    # sensor-9's certificate also names wharf-gw1 as a DNS subjectAltName: only the CN counts.
    gateway = coap_factory(cert_config(certs, topic="devices/{identity}/{path}"))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("devices/#", 1)
    assert_code(secure(gateway, "t/temp", method="post", data=b"21.5", cert=client(certs, "sensor-9")), "2.04")
    [message] = watcher.messages.wait(1)
    assert (message.topic, message.payload) == ("devices/sensor-9/temp", b"21.5")
    # wharf-gw1 may publish to sensors/# only, so its own devices/wharf-gw1/... topic is refused.
    assert_code(secure(gateway, "t/temp", method="post", data=b"x", cert=gw1(certs)), "4.03")


def test_psk_and_certificates_side_by_side(coap_factory, coap_mqtt, certs: Certificates) -> None:
    psk = Psk(SENSOR_PSK[0], SENSOR_PSK[1], publish=("psk/#",), read=())
    gateway = coap_factory(cert_config(certs, psk=(psk,)))
    watcher = coap_mqtt(gateway)
    watcher.subscribe("#", 1)
    assert_code(secure(gateway, "t/psk/a", method="post", data=b"psk", psk=SENSOR_PSK), "2.04")
    assert_code(secure(gateway, "t/sensors/b", method="post", data=b"cert", cert=gw1(certs)), "2.04")
    assert_code(secure(gateway, "t/sensors/c", method="post", data=b"cross", psk=SENSOR_PSK), "4.03")
    items = watcher.messages.wait(2)
    assert sorted((m.topic, m.payload) for m in items) == [("psk/a", b"psk"), ("sensors/b", b"cert")]


def _dtls_yaml(certs: Certificates, body: list[str]) -> str:
    lines = [
        "adapters:",
        "  - name: coap",
        "    type: coap",
        "    port: 15683",
        "    dtls:",
        "      enabled: true",
        "      port: 15684",
        *[f"      {line}" for line in body],
    ]
    return "\n".join(lines).replace("CERT", certs.server_cert).replace("KEY", certs.server_key).replace(
        "CA", certs.ca_file
    ) + "\n"


CONTRADICTIONS = {
    # A server certificate without a CA to verify clients against.
    "no-ca-file": (
        ["cert_file: CERT", "key_file: KEY", "certificates:", "  - {subject: wharf-gw1}"],
        "adapters[0].dtls.ca_file",
    ),
    # Subjects listed, but no certificate configured: no client could ever present one.
    "subjects-without-certificate": (
        ["psk:", "  - {identity: a, key: k}", "certificates:", "  - {subject: wharf-gw1}"],
        "adapters[0].dtls.certificates",
    ),
    # A certificate without any subject: every certificate client would be refused.
    "certificate-without-subjects": (
        ["cert_file: CERT", "key_file: KEY", "ca_file: CA"],
        "adapters[0].dtls.certificates",
    ),
    "subject-listed-twice": (
        ["cert_file: CERT", "key_file: KEY", "ca_file: CA", "certificates:", "  - {subject: a}", "  - {subject: a}"],
        "adapters[0].dtls.certificates[1].subject",
    ),
    "empty-subject": (
        ["cert_file: CERT", "key_file: KEY", "ca_file: CA", "certificates:", '  - {subject: ""}'],
        "adapters[0].dtls.certificates[0].subject",
    ),
}


@CHECK_MODES
@pytest.mark.parametrize("case", list(CONTRADICTIONS))
def test_contradictory_certificate_settings_are_refused(
    tmp_path: Path, certs: Certificates, mode: str, case: str
) -> None:
    body, key_path = CONTRADICTIONS[case]
    path, _ = write_config(tmp_path, _dtls_yaml(certs, body))
    result = validate(mode, path)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert_reported(output, key_path)


def test_good_certificate_settings_pass_the_check(tmp_path: Path, certs: Certificates) -> None:
    body = ["cert_file: CERT", "key_file: KEY", "ca_file: CA", "certificates:", "  - {subject: wharf-gw1}"]
    path, _ = write_config(tmp_path, _dtls_yaml(certs, body))
    result = validate("check", path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_server_certificate_without_ca_file_never_serves(tmp_path: Path, certs: Certificates) -> None:
    """The configuration that let clients without a certificate in is refused at start. Should
    wharfd start anyway, a client without a certificate is tried, and what it got is reported."""
    port, dtls_port = free_udp_port(), free_udp_port()
    adapters = "\n".join(
        [
            "adapters:",
            "  - name: coap",
            "    type: coap",
            f"    port: {port}",
            "    dtls:",
            "      enabled: true",
            f"      port: {dtls_port}",
            f"      cert_file: {certs.server_cert}",
            f"      key_file: {certs.server_key}",
        ]
    )
    path, _ = write_config(tmp_path, adapters + "\n")
    data = tmp_path / "data"
    data.mkdir()
    command = [str(wharfd_path()), "--config", str(path), "--data-dir", str(data), "--listen", f"{HOST}:{free_port()}"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    probe = "no client was tried"
    try:
        deadline = time.monotonic() + 15
        while process.poll() is None and time.monotonic() < deadline:
            if udp_bound(HOST, dtls_port):
                url = f"coaps://{HOST}:{dtls_port}/t/sensors/no-certificate"
                reply = coap_client(url, method="post", data=b"accepted?", wait=3)
                probe = f"a client without a certificate got {reply.code}"
                break
            time.sleep(0.05)
    finally:
        served = process.poll() is None
        if served:
            process.terminate()
        output, _ = process.communicate(timeout=15)
    assert not served, f"wharfd served DTLS without a CA for client certificates ({probe}):\n{output}"
    assert process.returncode != 0, output
    assert_reported(output, "adapters[0].dtls.ca_file")
