"""Peers of the OPC UA suite: the test PLC (an asyncua server process), certificates, and the two
ways to run the plugin: under the simulated host, or under wharfd as an adapter of type plugin.

Both runs are seen through a bus: wait for a JSON message on a topic, send a command, read a
retained message, wait for the plugin's health. Under wharfd the bus is an MQTT 5 client of the
broker; under the simulated host it is the host itself (what the plugin published, what a broker
would retain, what the plugin answers to health pings).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .broker import REPO_ROOT, Broker, BrokerOptions, free_port, wharfd_path
from .client import MqttClient, publish_properties
from .plugin_host import SimHost, payload_of

PLUGIN = REPO_ROOT / "plugins" / "opcua" / "wharf-opcua"
PLC_SCRIPT = Path(__file__).resolve().parent / "opcua_plc.py"
CLIENT_URI = "urn:wharf:opcua-client"
SERVER_URI = "urn:freeopcua:python:server"  # asyncua's server application URI
ADAPTER = "opcua"


class Plc:
    """The test PLC on 127.0.0.1:`port`; `stop()` kills it, `start()` brings it back on the same port."""

    def __init__(self, workdir: Path, *options: str) -> None:
        self.port = free_port()
        self.url = f"opc.tcp://127.0.0.1:{self.port}/plc"
        self.options, self.workdir = list(options), workdir
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Start the server and wait for its `ready` line."""
        argv = [sys.executable, str(PLC_SCRIPT), "--port", str(self.port), *self.options]
        with open(self.workdir / f"plc-{self.port}.log", "ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the server exits (EOF) if it cannot start
        if line.strip() != "ready":
            raise AssertionError(f"test PLC did not start: {line!r}; see {self.workdir}/plc-{self.port}.log")

    def stop(self) -> None:
        """Kill the server (as a power cut would)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def control(self, line: str) -> str:
        """Send one command line to the PLC program (see opcua_plc.py); its answer."""
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if answer.startswith("error") or not answer:
            raise AssertionError(f"test PLC: {line!r}: {answer or 'no answer'}")
        return answer

    def set(self, name: str, value: Any) -> None:
        """The PLC program changes a variable (by browse name, e.g. Count)."""
        self.control(f"set {name} {json.dumps(value)}")

    def get(self, name: str) -> Any:
        """A variable's value as the server holds it."""
        return json.loads(self.control(f"get {name}"))

    def set_status(self, name: str, code: str) -> None:
        """Give a variable a status code such as BadSensorFailure."""
        self.control(f"status {name} {code}")

    def reset(self) -> None:
        """Every variable back to its initial value."""
        self.control("reset")


def server_certificate(directory: Path) -> tuple[Path, Path]:
    """A server certificate (DER) and key (PEM) for the test PLC, as a PLC's own would be: self-signed."""
    import ipaddress

    from asyncua.crypto import cert_gen
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID

    directory.mkdir(parents=True, exist_ok=True)
    key = cert_gen.generate_private_key()
    names = [
        x509.UniformResourceIdentifier(SERVER_URI),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
    ]
    certificate = cert_gen.generate_self_signed_app_certificate(
        key, "Wharf test PLC", {}, names, [ExtendedKeyUsageOID.SERVER_AUTH], days=30
    )
    cert, key_path = directory / "plc.der", directory / "plc.key.pem"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.DER))
    key_path.write_bytes(cert_gen.dump_private_key_as_pem(key))
    return cert, key_path


def run_tool(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run `wharf-opcua TOOL ARGS` (make-certificate, fetch-certificate) as an operator would."""
    return subprocess.run(
        [str(PLUGIN), *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **plugin_env()}
    )


def plugin_env() -> dict[str, str]:
    """The plugin runs on this Python (the test venv has asyncua)."""
    return {"WHARF_OPCUA_PYTHON": sys.executable}


class SimBus:
    """The plugin under the simulated host."""

    kind = "sim"

    def __init__(
        self,
        config: dict[str, Any],
        workdir: Path,
        env: dict[str, str] | None = None,
        plugin: Path = PLUGIN,
        **host_options: Any,
    ) -> None:
        self.host = SimHost(
            [str(plugin)],
            name=ADAPTER,
            config=config,
            env={**plugin_env(), **(env or {})},
            stderr_path=workdir / "plugin.stderr",
            **host_options,
        )
        self.stderr_path = workdir / "plugin.stderr"
        self.host.start()
        self.ready = self.host.wait_ready(timeout=30)

    def mark(self) -> int:
        return self.host.mark()

    def wait(
        self,
        topic: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda m: True,
        timeout: float = 15.0,
        start: int = 0,
    ) -> dict[str, Any]:
        found = self.host.wait_publish(topic, lambda o: predicate(json.loads(payload_of(o))), timeout, start=start)
        return json.loads(payload_of(found))

    def retained(self, topic: str) -> dict[str, Any] | None:
        data = self.host.retained.by_topic.get(topic)
        return json.loads(data) if data else None

    def command(self, topic: str, payload: str, response_topic: str | None = None, correlation: bytes = b"") -> None:
        properties: dict[str, Any] = {}
        if response_topic:
            properties = {
                "response_topic": response_topic,
                "correlation_data_base64": base64.b64encode(correlation).decode(),
            }
        self.host.command(topic, payload, properties=properties)

    def correlation(self, topic: str, start: int = 0) -> bytes | None:
        for o in self.host.received[start:]:
            if o["type"] == "publish" and o.get("topic") == topic:
                data = (o.get("properties") or {}).get("correlation_data_base64")
                return base64.b64decode(data) if data else None
        return None

    def wait_health(self, status: str, timeout: float = 15.0) -> dict[str, Any]:
        """The plugin's health once it is `status` ({"status", "message"}), asked by pings."""
        deadline = time.monotonic() + timeout
        while True:
            health = self.host.ping()
            if health["status"] == status or time.monotonic() > deadline:
                assert health["status"] == status, health
                return health
            time.sleep(0.2)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def close(self) -> None:
        self.host.stop()
        assert self.host.violations == [], self.host.violations
        assert self.host.garbage == [], self.host.garbage


class WharfdBus:
    """The plugin as an adapter of type plugin of a real wharfd, seen by an MQTT 5 client."""

    kind = "wharfd"

    def __init__(
        self, config: dict[str, Any], workdir: Path, env: dict[str, str] | None = None, plugin: Path = PLUGIN
    ) -> None:
        adapter = {
            "name": ADAPTER,
            "type": "plugin",
            "command": str(plugin),
            "env": {**plugin_env(), **(env or {})},
            "config": config,
            "health_interval": "1s",
        }
        options = BrokerOptions(wharf_extra_yaml="adapters:\n  - " + json.dumps(adapter) + "\n")
        self.broker = Broker("wharfd", options, workdir)
        self.broker.start()
        self.client = MqttClient(self.broker.host, self.broker.port, version=5)
        self.client.connect()
        self.client.subscribe("#", 1)
        self.ready = None

    def _received(self, start: int = 0) -> list[Any]:
        return self.client.messages.snapshot()[start:]

    def mark(self) -> int:
        return len(self.client.messages.snapshot())

    def wait(
        self,
        topic: str,
        predicate: Callable[[dict[str, Any]], bool] = lambda m: True,
        timeout: float = 15.0,
        start: int = 0,
    ) -> dict[str, Any]:
        def match(m: Any) -> bool:
            return m.topic == topic and predicate(json.loads(m.payload))

        try:
            self.client.messages.wait_for(lambda items: any(match(m) for m in items[start:]), timeout)
        except AssertionError:
            tail = [(m.topic, m.text[:160]) for m in self._received()[-10:]]
            raise AssertionError(f"no matching message on {topic} within {timeout} s; last: {tail}") from None
        return next(json.loads(m.payload) for m in self._received(start) if match(m))

    def retained(self, topic: str) -> dict[str, Any] | None:
        probe = MqttClient(self.broker.host, self.broker.port, version=5)
        probe.connect()
        try:
            probe.subscribe(topic, 1)
            items = probe.messages.wait_for(lambda items: len(items) > 0, 5.0)
            return json.loads(items[0].payload) if items[0].retain else None
        except AssertionError:
            return None
        finally:
            probe.close()

    def command(self, topic: str, payload: str, response_topic: str | None = None, correlation: bytes = b"") -> None:
        properties = (
            publish_properties(ResponseTopic=response_topic, CorrelationData=correlation) if response_topic else None
        )
        self.client.publish(topic, payload, 1, properties=properties)

    def correlation(self, topic: str, start: int = 0) -> bytes | None:
        for m in self._received(start):
            if m.topic == topic:
                return m.properties.get("CorrelationData")  # type: ignore[return-value]
        return None

    def wait_health(self, status: str, timeout: float = 15.0) -> dict[str, Any]:
        """The adapter's health in the host's retained status topic once it is `status`."""
        found = self.wait(f"plugins/{ADAPTER}/$status", lambda m: m.get("health") == status, timeout)
        return {"status": found["health"], "message": found.get("detail") or ""}

    def stderr(self) -> str:
        return self.broker.log()

    def close(self) -> None:
        self.client.close()
        self.broker.stop()
        self.broker.check_clean_exit()


def wharfd_has_plugins() -> tuple[bool, str]:
    """Whether the wharfd under test knows adapters of type plugin (asks `wharfd --check`), and why not."""
    wharfd = wharfd_path()
    if not wharfd.is_file():
        return False, f"no wharfd at {wharfd}"
    config = Path(os.environ.get("TMPDIR", "/tmp")) / f"wharf-opcua-probe-{os.getpid()}.yaml"
    config.write_text(f"adapters:\n  - {{name: probe, type: plugin, command: {PLUGIN}, config: {{}}}}\n")
    try:
        result = subprocess.run(
            [str(wharfd), "--check", "--config", str(config)], capture_output=True, text=True, timeout=30
        )
    finally:
        config.unlink(missing_ok=True)
    output = (result.stdout + result.stderr).strip()
    if "unknown adapter type 'plugin'" in output:
        return False, f"{wharfd} does not know adapters of type plugin yet (wharfd --check: {output.splitlines()[0]})"
    return True, output
