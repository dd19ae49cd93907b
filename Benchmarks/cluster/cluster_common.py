"""What the cluster benchmark's parts share: the harness of the end-to-end suite, wharfd's configuration
for the cluster, payloads, the admin API, and formatting."""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import urllib.request
from pathlib import Path
from typing import Callable, Sequence

# The end-to-end suite's harness (wharf_e2e): the cluster, wharfd and the MQTT clients.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "Tests" / "EndToEnd"))

from wharf_e2e.admin import wait_until  # noqa: E402
from wharf_e2e.broker import HOST, BrokerOptions  # noqa: E402
from wharf_e2e.gateway import Forward, UplinkOptions  # noqa: E402

GATEWAY_NODE = 1  # where the uplink (and every plain publisher) connects first
SUBSCRIBER_NODE = 2  # where the drain's messages are counted: they cross the cluster


def log(text: str) -> None:
    print(f"bench-cluster: {text}", file=sys.stderr, flush=True)


def seconds(text: str) -> float:
    """A duration as wharf.yaml writes it ("100ms", "1s", "2m") in seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (100ms, 1s, 2m)")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "ms" else value * 60 if unit == "m" else value


def duration(text: str) -> str:
    """`text` if it is a duration `seconds` reads (an argparse type)."""
    seconds(text)
    return text.strip()


def positive(text: str) -> int:
    """An integer of at least 1 (an argparse type)."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def uplink_options(args: argparse.Namespace, endpoints: tuple[str, ...]) -> UplinkOptions:
    """The uplink as deployed against the cluster: MQTT 3.1.1, the session kept at the cloud, every node an
    endpoint in order, no failback, the shipped backoff and in-flight window unless told otherwise;
    `bench/...` goes to `site/{gateway}/bench/...`."""
    return UplinkOptions(
        port=0, mqtt_version="3.1.1", clean_start=False, keepalive=args.keepalive, endpoints=endpoints,
        failback="never", backoff_base=args.backoff_base, backoff_cap="2m", stable_after="30s",
        max_inflight=args.window, forward=(Forward(filter="bench/#"),),
    )


def admin_options(admin_port: int) -> BrokerOptions:
    """wharfd's broker with room for fast local publishers, and its admin API on `admin_port`."""
    return BrokerOptions(
        max_inflight_messages=1000, max_queued_messages=100000, sys_interval=10,
        wharf_extra_yaml=f'admin:\n  listen: "{HOST}:{admin_port}"\n',
    )


def payload(source: str, sequence: int, size: int) -> str:
    """`source:sequence:xxx...`, `size` bytes, one line (mosquitto_pub -l takes one message a line)."""
    head = f"{source}:{sequence}:"
    return head + "x" * max(0, size - len(head))


def status(admin_port: int, timeout: float = 2.0) -> dict:
    with urllib.request.urlopen(f"http://{HOST}:{admin_port}/api/v1/status", timeout=timeout) as response:
        return json.loads(response.read())


def wait_for(probe: Callable[[], object], timeout: float, what: str) -> object:
    """The harness's wait, polling finely enough for the timings measured here."""
    return wait_until(probe, timeout, what, interval=0.02)


def fmt_s(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f} s"


def fmt_n(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}".replace(",", " ")


def spread(values: Sequence[float | None], fmt: Callable[[float | None], str]) -> str:
    present = [v for v in values if v is not None]
    if not present:
        return "–"
    if len(present) == 1:
        return fmt(present[0])
    return f"{fmt(statistics.median(present))} ({fmt(min(present))}–{fmt(max(present))})"
