"""Remote configuration for the end-to-end tests: a signing key, signed documents, and the cloud's
view of a gateway (its desired topic and its retained report)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Callable

from .admin import wait_until, wharfctl_path
from .client import MqttClient

KEY_ID = "ops-2026"


def remote_yaml(trusted_dir: Path, *, confirm_within: str = "60s", confirm_after: str = "1s", allow: list[str] | None = None, extra: str = "") -> str:
    """The `remote_config:` section of a test gateway."""
    lines = [
        "remote_config:",
        f"  trusted_keys_dir: {json.dumps(str(trusted_dir))}",
        f"  confirm_within: {confirm_within}",
        f"  confirm_after: {confirm_after}",
    ]
    if allow is not None:
        lines.append(f"  allow: [{', '.join(allow)}]")
    return "\n".join(lines) + "\n" + extra


class Signer:
    """An operator's key pair made by `wharfctl config keygen`; the public half in `trusted`."""

    def __init__(self, directory: Path, key_id: str = KEY_ID) -> None:
        self.directory = directory
        self.key_id = key_id
        self.trusted = directory / "trusted-keys"
        self.trusted.mkdir(parents=True, exist_ok=True)
        keys = directory / "keys"
        keys.mkdir(parents=True, exist_ok=True)
        run(["config", "keygen", "--out", str(keys), key_id])
        self.key = keys / f"{key_id}.key"
        (self.trusted / f"{key_id}.pub").write_bytes((keys / f"{key_id}.pub").read_bytes())
        self._count = 0

    def sign(self, config: dict[str, Any] | str, version: int, gateway: str = "gw1") -> bytes:
        """The signed document of `config` (sections as a dict, or YAML text) for `gateway`."""
        self._count += 1
        source = self.directory / f"sections-{self._count}.yaml"
        source.write_text(config if isinstance(config, str) else json.dumps(config))
        result = run(["config", "sign", "--key", str(self.key), "--gateway", gateway, "--version", str(version), str(source)])
        return result.stdout.encode()


def run(args: list[str], *, check: bool = True, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(wharfctl_path()), *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"wharfctl {' '.join(args)} exited with {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


class CloudView:
    """The cloud side of one gateway: publishes desired documents, watches the retained report."""

    def __init__(self, client: MqttClient, gateway: str = "gw1", prefix: str = "wharf/{gateway}/config") -> None:
        self.client = client
        base = prefix.replace("{gateway}", gateway)
        self.desired = base + "/desired"
        self.reported = base + "/reported"
        client.subscribe(self.reported, 1)

    def push(self, document: bytes) -> None:
        """Publishes the document retained at QoS 1, as an operator does."""
        self.client.publish(self.desired, document, 1, retain=True)

    def reports(self) -> list[dict[str, Any]]:
        return [json.loads(m.payload) for m in self.client.messages.snapshot() if m.topic == self.reported]

    def latest(self) -> dict[str, Any] | None:
        reports = self.reports()
        return reports[-1] if reports else None

    def wait(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30.0, what: str = "a report") -> dict[str, Any]:
        def found() -> dict[str, Any] | None:
            return next((r for r in reversed(self.reports()) if predicate(r)), None)

        return wait_until(found, timeout=timeout, what=what)

    def wait_result(self, version: int, result: str, timeout: float = 30.0) -> dict[str, Any]:
        """The first report whose last attempt is `version` with `result`."""

        def matches(report: dict[str, Any]) -> bool:
            attempt = report.get("last_attempt") or {}
            return attempt.get("version") == version and attempt.get("result") == result

        return self.wait(matches, timeout=timeout, what=f"version {version} {result}")
