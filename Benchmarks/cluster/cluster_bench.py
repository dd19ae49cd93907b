"""The uplink against a real 3-node RabbitMQ cluster (docs/benchmarks.md, "Cloud cluster").

Two measurements, in the same run, on the cluster of the end-to-end suite (wharf_e2e/rabbitmq.py):

drain     A backlog of N records, stored by wharfd while its uplink had no cloud to go to, drained by
          the uplink to node 1; against the same N messages published to node 1 by plain MQTT 3.1.1
          clients with the same in-flight window (mosquitto_pub, libmosquitto in C, and paho in
          Python). One subscriber on node 2 counts every message of every case; the rate is N-1 over
          the time from its first to its last message of the case, so connects and process starts
          are not part of it. The cases alternate their order every round.

failover  Under a steady stream, `kill -9` of the node the uplink is connected to (node 1, where a
          fresh wharfd and session start each round): the time from the kill to the first PUBACK
          from another node, read from the admin API (polled every 5 ms). In the same kill a plain
          client with a session like the uplink's (raw socket, MQTT 3.1.1, clean session false, a
          will, a QoS 1 subscription) connected to node 1 reconnects at once to the next node, with
          the same client id, and publishes at QoS 1: its time from the kill to that PUBACK is the
          cluster's own takeover time. The target is under 2 x the uplink's backoff base plus that
          takeover time. A persistent QoS 1 consumer on node 3 reads both; node 1 starts again
          between rounds.

Run by scripts/bench-cluster.sh with the release wharfd; prints a Markdown fragment, progress on stderr.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

# The sibling modules, also when this file is loaded by path (the end-to-end suite's smoke test).
sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster_common import (  # noqa: E402
    GATEWAY_NODE,
    SUBSCRIBER_NODE,
    duration,
    fmt_n,
    fmt_s,
    log,
    positive,
    seconds,
    spread,
)
from cluster_drain import CASES, DrainCase, DrainRun  # noqa: E402
from cluster_failover import FailoverRound, FailoverRun  # noqa: E402
from wharf_e2e.rabbitmq import RabbitCluster  # noqa: E402


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=positive, default=3, help="rounds of each measurement (3)")
    parser.add_argument("--messages", type=positive, default=30000, help="messages per drain case (30000)")
    parser.add_argument("--window", type=positive, default=100, help="in-flight window, uplink and plain (100)")
    parser.add_argument("--payload", type=positive, default=64, help="payload bytes (64)")
    parser.add_argument("--backoff-base", type=duration, default="1s", help="uplink.backoff.base (1s, shipped)")
    parser.add_argument("--keepalive", type=duration, default="60s", help="uplink.keepalive (60s, shipped)")
    parser.add_argument("--stream-rate", type=positive, default=200, help="msg/s into wharfd while failing over")
    parser.add_argument(
        "--cases", default="drain,failover", help="drain, failover or both (drain,failover)",
        type=lambda text: [part.strip() for part in text.split(",") if part.strip()],
    )
    parser.add_argument("--workdir", type=Path, help="keep the nodes' and wharfd's files and logs here (new directory)")
    args = parser.parse_args(argv)
    unknown = set(args.cases) - {"drain", "failover"}
    if unknown or not args.cases:
        parser.error(f"--cases: drain and/or failover, not {sorted(unknown) or 'nothing'}")
    if args.payload < 32:
        parser.error("--payload: at least 32 bytes (the case's name and sequence number go in it)")
    return args


def drain_report(rounds: list[list[DrainCase]], args: argparse.Namespace) -> list[str]:
    by_case = {case: [c for r in rounds for c in r if c.case == case] for case in CASES}
    label = {
        "wharfd": "wharfd uplink, stored backlog",
        "mosquitto_pub": f"mosquitto_pub -l -M {args.window}",
        "paho": f"paho 2 (Python), {args.window} in flight",
    }
    lines = [
        f"Backlog drain: {args.messages} messages of {args.payload} bytes per case, window {args.window}, "
        f"MQTT 3.1.1 QoS 1 to node {GATEWAY_NODE}, counted by a QoS 0 subscriber on node {SUBSCRIBER_NODE} "
        f"(msg/s from its first message of the case to its last); {len(rounds)} rounds, median (range). CPU per "
        "message over the case: the publisher's process, and the three nodes together.",
        "",
        "| publisher | msg/s | wharfd / this | publisher CPU µs/msg | cluster CPU µs/msg | duplicates |",
        "|---|--:|--:|--:|--:|--:|",
    ]

    def micro(value: float | None) -> str:
        return fmt_n(None if value is None else value * 1e6, 1)

    for case in CASES:
        ratios = [
            next(c.rate for c in r if c.case == "wharfd") / next(c.rate for c in r if c.case == case) for r in rounds
        ]
        lines.append(
            f"| {label[case]} | {spread([c.rate for c in by_case[case]], fmt_n)} | "
            f"{'–' if case == 'wharfd' else spread(ratios, lambda v: fmt_n(v, 2))} | "
            f"{spread([c.publisher_cpu for c in by_case[case]], micro)} | "
            f"{spread([c.cluster_cpu for c in by_case[case]], micro)} | "
            f"{sum(c.duplicates for c in by_case[case])} |"
        )
    return lines


def failover_report(rounds: list[FailoverRound], args: argparse.Namespace) -> list[str]:
    base = seconds(args.backoff_base)
    lines = [
        f"Failover: kill -9 of node 1, in use by the uplink and the plain client, under {args.stream_rate} msg/s "
        f"into wharfd; uplink backoff base {args.backoff_base}, keepalive {args.keepalive}; seconds from the kill. "
        "*Session led*: when RabbitMQ logged a new leader for the quorum queue that holds the client's session.",
        "",
        "| round | uplink: link down | session led | connected to node 2 | first PUBACK | plain client: link down "
        "| session led | CONNACK | first PUBACK = takeover | target 2 × base + takeover | met |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for number, r in enumerate(rounds, 1):
        target = None if r.probe_puback is None else 2 * base + r.probe_puback
        met = r.uplink.first_ack is not None and target is not None and r.uplink.first_ack < target
        lines.append(
            f"| {number} | {fmt_s(r.uplink.down)} | {fmt_s(r.uplink_election)} | {fmt_s(r.uplink.connected)} | "
            f"{fmt_s(r.uplink.first_ack)} | {fmt_s(r.probe_down)} | {fmt_s(r.probe_election)} | "
            f"{fmt_s(r.probe_connack)} | {fmt_s(r.probe_puback)} | {fmt_s(target)} | {'yes' if met else 'no'} |"
        )

    def after(end: float | None, start: float | None) -> float | None:
        return None if end is None or start is None else end - start

    def ms(value: float | None) -> str:
        return "–" if value is None else f"{value * 1000:.0f} ms"

    lines += [
        "",
        f"Median (range): uplink first PUBACK {spread([r.uplink.first_ack for r in rounds], fmt_s)}, plain client "
        f"{spread([r.probe_puback for r in rounds], fmt_s)}; from the new leader of the session's queue to the "
        f"first PUBACK: uplink {spread([after(r.uplink.first_ack, r.uplink_election) for r in rounds], ms)}, "
        f"plain client {spread([after(r.probe_puback, r.probe_election) for r in rounds], ms)}.",
    ]
    return lines


def measure(cluster: RabbitCluster, args: argparse.Namespace, workdir: Path) -> str:
    """Runs the measurements `args` asks for on a running cluster; the Markdown fragment."""
    out: list[str] = []
    if "drain" in args.cases:
        out += drain_report(DrainRun(cluster, args, workdir).run(), args)
    if "failover" in args.cases:
        out += ([""] if out else []) + failover_report(FailoverRun(cluster, args, workdir).run(), args)
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wharf-cluster-bench-") as directory:
        workdir = args.workdir or Path(directory)
        workdir.mkdir(parents=True, exist_ok=args.workdir is None)
        cluster = RabbitCluster(workdir / "cluster")
        log("starting the 3-node RabbitMQ cluster")
        started = time.monotonic()
        cluster.start_all()
        log(f"cluster up in {time.monotonic() - started:.0f} s")
        try:
            fragment = measure(cluster, args, workdir)
        finally:
            cluster.stop_all()
    print(fragment)


if __name__ == "__main__":
    main()
