"""`coap-client-openssl` runs for the CoAP suites: the PDUs it logs, the payload it gets, and the
check that a gateway still serves."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .client import MqttClient
from .coap import CoapGateway

COAP_CLIENT = os.environ.get("COAP_CLIENT", "coap-client-openssl")

# "v:1 t:ACK c:2.04 i:8eeb {01} [ ... ] :: 'payload'" as coap-client logs each PDU at -v 6.
_PDU = re.compile(r"^v:1 t:(CON|NON|ACK|RST) c:(\S+) i:([0-9a-f]+) \{([0-9a-f]*)\} \[(.*?)\]")
_RESPONSE_CODE = re.compile(r"^\d\.\d\d$")


@dataclass
class Pdu:
    """One PDU that coap-client logged."""

    type: str
    code: str
    options: str

    @property
    def is_response(self) -> bool:
        return bool(_RESPONSE_CODE.match(self.code))


@dataclass
class CoapReply:
    """What one coap-client run saw."""

    command: list[str]
    returncode: int
    pdus: list[Pdu]
    payload: bytes
    stdout: str
    stderr: str

    @property
    def responses(self) -> list[Pdu]:
        return [p for p in self.pdus if p.is_response]

    @property
    def code(self) -> str | None:
        """The code of the last response (e.g. "2.04"), or None when none arrived."""
        responses = self.responses
        if responses:
            return responses[-1].code
        # Error responses are also written to stderr as "4.04 Not Found".
        match = re.search(r"^(\d\.\d\d) ", self.stderr, re.M)
        return match.group(1) if match else None

    def __str__(self) -> str:
        return (
            f"{' '.join(self.command)} -> exit {self.returncode}, code {self.code}\n"
            f"stdout: {self.stdout[-1500:]}\nstderr: {self.stderr[-1500:]}"
        )


def coap_client(
    url: str,
    *,
    method: str = "get",
    data: bytes | None = None,
    content_format: int | str | None = None,
    non_confirmable: bool = False,
    block_size: int | None = None,
    observe_seconds: int | None = None,
    psk: tuple[str, str] | None = None,
    cert: tuple[str, str] | None = None,
    wait: int = 5,
    extra: tuple[str, ...] = (),
    timeout: float = 20.0,
) -> CoapReply:
    """Runs coap-client-openssl once and returns the PDUs it logged and the payload it received.

    `psk` is (identity, key); `cert` is (certificate file, key file) for DTLS with a client
    certificate. A coaps:// URL with neither makes a DTLS handshake without a certificate.
    `wait` is -B (seconds to wait for an answer); the process itself is bounded by `timeout`.
    """
    with tempfile.TemporaryDirectory(prefix="coap-client-") as scratch:
        out = Path(scratch) / "payload"
        command = [COAP_CLIENT, "-v", "6", "-m", method, "-B", str(wait), "-o", str(out)]
        if data is not None:
            body = Path(scratch) / "body"
            body.write_bytes(data)
            command += ["-f", str(body)]
        if content_format is not None:
            command += ["-t", str(content_format)]
        if non_confirmable:
            command.append("-N")
        if block_size is not None:
            command += ["-b", str(block_size)]
        if observe_seconds is not None:
            command += ["-s", str(observe_seconds)]
        if psk is not None:
            command += ["-u", psk[0], "-k", psk[1]]
        if cert is not None:
            command += ["-c", cert[0], "-j", cert[1]]
        command += [*extra, url]
        try:
            done = subprocess.run(command, capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired as expired:
            raise AssertionError(f"{' '.join(command)} did not finish within {timeout} s") from expired
        stdout = done.stdout.decode(errors="replace")
        pdus = []
        for line in stdout.splitlines():
            match = _PDU.match(line.strip())
            if match:
                pdus.append(Pdu(match.group(1), match.group(2), match.group(5)))
        payload = out.read_bytes() if out.exists() else b""
        return CoapReply(command, done.returncode, pdus, payload, stdout, done.stderr.decode(errors="replace"))


def post(gateway: CoapGateway, path: str, data: bytes, **kwargs: Any) -> CoapReply:
    """POST `data` to coap://gateway/<path> (confirmable unless non_confirmable=True)."""
    return coap_client(gateway.url(path), method="post", data=data, **kwargs)


def assert_code(reply: CoapReply, code: str) -> None:
    assert reply.code == code, f"expected {code}: {reply}"


def assert_coap_serves(gateway: CoapGateway, subscriber: MqttClient, topic: str = "e2e/coap/alive") -> None:
    """wharfd is alive and a confirmable POST still arrives on MQTT."""
    gateway.broker.assert_alive()
    marker = f"alive-{time.monotonic_ns()}".encode()
    reply = post(gateway, f"t/{topic}", marker)
    assert_code(reply, "2.04")
    subscriber.messages.wait_for(lambda got: any(m.topic == topic and m.payload == marker for m in got))
    gateway.broker.assert_alive()
