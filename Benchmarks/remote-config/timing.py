"""Remote configuration timing (docs/benchmarks.md, "Remote configuration"): from the publish of a
desired document on the cloud broker (a real Mosquitto) to the gateway's reported outcome, for a
change applied live (adapters) and for one applied by a restart (uplink forward rules).

Three intervals per push, measured on the cloud broker by a subscriber to the reported topic:
  pending   publish -> report `pending-confirmation` (checked, staged with fsync, applied or restarted)
  applied   publish -> report `applied` with `confirm_after: 0s` (the uplink and the health checks
            pass at once, so this is the whole path including the confirmation write)

Run by scripts/bench-remote-config.sh with the release wharfd; prints a Markdown table.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "EndToEnd"))

from wharf_e2e.broker import BrokerOptions  # noqa: E402
from wharf_e2e.client import MqttClient  # noqa: E402
from wharf_e2e.cloud import Cloud  # noqa: E402
from wharf_e2e.gateway import Gateway, UplinkOptions  # noqa: E402
from wharf_e2e.remote_config import CloudView, Signer, remote_yaml  # noqa: E402

REPEAT = int(os.environ.get("REMOTE_BENCH_REPEAT", "10"))


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_report(view: CloudView, version: int, result: str, timeout: float = 60.0) -> float:
    """The monotonic time the first report of `version` with `result` was seen (polled every 1 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in view.client.messages.snapshot():
            if message.topic != view.reported:
                continue
            report = json.loads(message.payload)
            attempt = report.get("last_attempt") or {}
            if attempt.get("version") == version and attempt.get("result") == result:
                return time.monotonic()
        time.sleep(0.001)
    raise AssertionError(f"no report of version {version} {result} within {timeout} s")


def measure(kind: str, workdir: Path) -> tuple[list[float], list[float]]:
    cloud = Cloud(workdir / "cloud")
    cloud.start()
    signer = Signer(workdir / "operator")
    options = BrokerOptions(wharf_extra_yaml=remote_yaml(signer.trusted, confirm_within="60s", confirm_after="0s"))
    gateway = Gateway(options, workdir / "gateway", UplinkOptions(port=cloud.port))
    (workdir / "gateway").mkdir(parents=True)
    gateway.start()
    client = MqttClient(cloud.host, cloud.port)
    client.connect()
    view = CloudView(client)
    view.wait(lambda r: r["running_version"] is None, what="the first report")
    pending: list[float] = []
    applied: list[float] = []
    try:
        for version in range(1, REPEAT + 1):
            if kind == "live":
                # An adapter-only change: a CoAP server adapter on a new UDP port each time.
                adapter = {"name": "coap-lan", "type": "coap", "bind": "127.0.0.1", "port": free_udp_port()}
                sections = {"adapters": [adapter]}
            else:
                sections = {"uplink": {"forward": [{"name": f"r{version}", "filter": "plant/#", "remote_prefix": "site/"}]}}
            document = signer.sign(sections, version=version)
            client.messages.clear()
            started = time.monotonic()
            view.push(document)
            pending.append(wait_report(view, version, "pending-confirmation") - started)
            applied.append(wait_report(view, version, "applied") - started)
    finally:
        client.close()
        gateway.stop()
        cloud.stop()
    return pending, applied


def describe(values: list[float]) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return f"{statistics.median(values) * 1000:.0f} ms | {p90 * 1000:.0f} ms | {max(values) * 1000:.0f} ms"


def main() -> None:
    rows = []
    for kind, label in (("live", "adapters (live)"), ("restart", "uplink.forward (restart)")):
        with tempfile.TemporaryDirectory(prefix="wharf-rc-bench-") as directory:
            pending, applied = measure(kind, Path(directory))
        rows.append(f"| {label} | pending-confirmation | {describe(pending)} |")
        rows.append(f"| {label} | applied | {describe(applied)} |")
    print(f"{REPEAT} pushes each; publish on the cloud broker to the report's arrival there.\n")
    print("| change | reported | median | p90 | max |")
    print("|---|---|--:|--:|--:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
