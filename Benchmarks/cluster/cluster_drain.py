"""The backlog drain (docs/benchmarks.md, "Cloud cluster"): wharfd's stored backlog, mosquitto_pub and paho,
the same messages to node 1, counted by one subscriber on node 2."""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
from cluster_common import (
    GATEWAY_NODE,
    HOST,
    SUBSCRIBER_NODE,
    admin_options,
    log,
    payload,
    status,
    uplink_options,
    wait_for,
)
from wharf_e2e.broker import free_port
from wharf_e2e.gateway import GATEWAY_ID, Gateway
from wharf_e2e.rabbitmq import RabbitCluster

CASES = ("wharfd", "mosquitto_pub", "paho")
MOSQUITTO_PUB = os.environ.get("MOSQUITTO_PUB", "mosquitto_pub")


# --- the subscriber on node 2 ------------------------------------------------------------------ #


@dataclass
class Arrivals:
    """What one case delivered to the subscriber."""

    distinct: set[int] = field(default_factory=set)
    copies: int = 0
    first: float | None = None
    last: float | None = None


class Counter:
    """A paho subscriber (MQTT 3.1.1, QoS 0) on one node, counting messages per case (the topic's last level).

    QoS 0 on purpose: RabbitMQ delivers to a QoS 1 subscriber with at most `mqtt.prefetch` (10)
    messages unacknowledged, about 1 700 msg/s here, slower than any publisher; at QoS 0 the
    subscriber keeps up and the publishers set the pace. A message lost on the way to it would show
    as a case that never completes.
    """

    def __init__(self, port: int, topic_filter: str) -> None:
        self.cases: dict[str, Arrivals] = {}
        self._cond = threading.Condition()
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=f"bench-counter-{random.randrange(1 << 30)}",
            protocol=paho.MQTTv311, clean_session=True,
        )
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.connect(HOST, port)
        self.client.loop_start()
        self.client.subscribe(topic_filter, 0)
        if not subscribed.wait(10):
            raise AssertionError(f"no SUBACK from port {port}")

    def _on_message(self, client, userdata, message: paho.MQTTMessage) -> None:  # noqa: ANN001
        now = time.monotonic()
        case = message.topic.rsplit("/", 1)[-1]
        sequence = int(message.payload.split(b":", 2)[1])
        with self._cond:
            arrivals = self.cases.setdefault(case, Arrivals())
            arrivals.copies += 1
            if sequence not in arrivals.distinct:
                arrivals.distinct.add(sequence)
                arrivals.first = now if arrivals.first is None else arrivals.first
                arrivals.last = now
            self._cond.notify_all()

    def wait(self, case: str, count: int, timeout: float) -> Arrivals:
        with self._cond:
            done = self._cond.wait_for(lambda: len(self.cases.get(case, Arrivals()).distinct) >= count, timeout)
            got = self.cases.get(case, Arrivals())
            if not done:
                raise AssertionError(f"{case}: {len(got.distinct)} of {count} messages within {timeout:.0f} s")
            return got

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# --- CPU ------------------------------------------------------------------------------------ #

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int | str) -> list[str]:
    """The fields of /proc/PID/stat after the command name (which may hold spaces): state is [0]."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def process_cpu(pid: int) -> float:
    """utime + stime of one process (all its threads), in seconds."""
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS


def cluster_cpu(cluster: RabbitCluster) -> float:
    """utime + stime of every process in the nodes' process groups (the Erlang VMs and their helpers)."""
    groups = {node.proc.pid for node in cluster.nodes if node.proc is not None}
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat_fields(entry.name)
        except (OSError, ValueError):
            continue  # gone meanwhile
        if int(fields[2]) in groups:
            total += (int(fields[11]) + int(fields[12])) / TICKS
    return total


# --- drain ---------------------------------------------------------------------------------- #


@dataclass
class DrainCase:
    """One drain case of one round."""

    case: str
    rate: float  # messages per second at the subscriber, first to last
    duplicates: int
    # CPU seconds per message of the publisher (wharfd, mosquitto_pub; None for paho, which runs in this
    # process with the subscriber) and of the three nodes, over the case.
    publisher_cpu: float | None
    cluster_cpu: float
    # Seconds from the plain publisher's end to the subscriber's last message: below zero, the subscriber
    # had everything before the publisher was done (it kept up).
    lag: float | None = None


class DrainRun:
    """Every drain case of every round, on one cluster."""

    def __init__(self, cluster: RabbitCluster, args: argparse.Namespace, workdir: Path) -> None:
        self.cluster = cluster
        self.args = args
        self.workdir = workdir
        self.endpoints = tuple(f"{HOST}:{cluster.mqtt_port(n)}" for n in cluster.numbers)
        self.tag = ""

    def lines(self, source: str) -> bytes:
        size = self.args.payload
        return "".join(payload(source, n, size) + "\n" for n in range(1, self.args.messages + 1)).encode()

    def mosquitto_pub(self, port: int, topic: str, source: str, client_id: str) -> tuple[float, float]:
        """Publishes the case's messages with mosquitto_pub -l at QoS 1, one line each (it exits once every
        PUBACK is in); the monotonic time it finished and the CPU seconds it used."""
        command = [
            MOSQUITTO_PUB, "-h", HOST, "-p", str(port), "-V", "mqttv311", "-q", "1", "-M", str(self.args.window),
            "-l", "-t", topic, "-i", client_id, "-c",
        ]
        with tempfile.TemporaryFile() as lines, tempfile.TemporaryFile() as errors:
            lines.write(self.lines(source))
            lines.seek(0)
            proc = subprocess.Popen(command, stdin=lines, stdout=subprocess.DEVNULL, stderr=errors)
            # wait4 rather than wait: the child's own CPU time comes with its status.
            _, status, usage = os.wait4(proc.pid, 0)
            finished = time.monotonic()
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                errors.seek(0)
                raise AssertionError(f"mosquitto_pub exited with {proc.returncode}: {errors.read()[-500:]!r}")
        return finished, usage.ru_utime + usage.ru_stime

    def paho_pub(self, port: int, topic: str, client_id: str) -> float:
        """Publishes the case's messages with paho (3.1.1, QoS 1, the window in flight); when the last PUBACK came."""
        client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv311, clean_session=False
        )
        client.max_inflight_messages_set(self.args.window)
        client.max_queued_messages_set(0)
        client.connect(HOST, port, keepalive=60)
        client.loop_start()
        try:
            infos = [
                client.publish(topic, payload("paho", n, self.args.payload), 1)
                for n in range(1, self.args.messages + 1)
            ]
            for info in infos:
                info.wait_for_publish(600)
                if not info.is_published():
                    raise AssertionError("paho: a publish got no PUBACK")
            return time.monotonic()
        finally:
            client.disconnect()
            client.loop_stop()

    def fill(self, round_: int) -> tuple[Gateway, int]:
        """A wharfd holding the backlog, and its admin port: its uplink pointed at a port nothing listens
        on while the messages come in, then stopped with them in its queue and given the cluster's nodes."""
        directory = self.workdir / f"drain-{round_}"
        directory.mkdir()
        admin_port = free_port()
        gateway = Gateway(admin_options(admin_port), directory, uplink_options(self.args, (f"{HOST}:{free_port()}",)))
        gateway.start()
        self.mosquitto_pub(gateway.port, f"bench/{self.tag}/wharfd", "wharfd", f"bench-fill-{round_}")
        depth = wait_for(
            lambda: (s := status(admin_port))["queue"]["depth"] >= self.args.messages and s,
            30, "the backlog in the queue")
        assert depth["uplink"]["acknowledged"] == 0, "the uplink reached a cloud while it should have none"
        gateway.stop()
        gateway.check_clean_exit()
        gateway.reconfigure(uplink=uplink_options(self.args, self.endpoints))
        return gateway, admin_port

    def round(self, round_: int, counter: Counter) -> list[DrainCase]:
        order = CASES[round_ % len(CASES):] + CASES[: round_ % len(CASES)]
        port = self.cluster.mqtt_port(GATEWAY_NODE)
        results = []
        budget = 60 + self.args.messages / 200
        messages = self.args.messages
        topic = f"site/{GATEWAY_ID}/bench/{self.tag}"
        for case in order:
            lag = None
            if case == "wharfd":
                gateway, admin_port = self.fill(round_)
                nodes_before = cluster_cpu(self.cluster)
                gateway.start()
                try:
                    assert gateway.proc is not None
                    arrivals = counter.wait(case, messages, budget)
                    nodes_cpu = cluster_cpu(self.cluster) - nodes_before
                    wait_for(lambda port=admin_port: status(port)["queue"]["depth"] == 0, 30, "an empty queue")
                    publisher_cpu: float | None = process_cpu(gateway.proc.pid)
                finally:
                    gateway.stop()
                gateway.check_clean_exit()
            elif case == "mosquitto_pub":
                nodes_before = cluster_cpu(self.cluster)
                finished, publisher_cpu = self.mosquitto_pub(port, f"{topic}/{case}", case, f"bench-{case}")
                arrivals = counter.wait(case, messages, budget)
                nodes_cpu = cluster_cpu(self.cluster) - nodes_before
                lag = (arrivals.last or finished) - finished
            else:
                nodes_before = cluster_cpu(self.cluster)
                finished = self.paho_pub(port, f"{topic}/{case}", f"bench-{case}")
                arrivals = counter.wait(case, messages, budget)
                nodes_cpu = cluster_cpu(self.cluster) - nodes_before
                publisher_cpu = None
                lag = (arrivals.last or finished) - finished
            assert arrivals.first is not None and arrivals.last is not None and arrivals.last > arrivals.first
            rate = (messages - 1) / (arrivals.last - arrivals.first)
            result = DrainCase(
                case, rate, arrivals.copies - len(arrivals.distinct),
                None if publisher_cpu is None else publisher_cpu / messages, nodes_cpu / messages, lag,
            )
            log(f"drain round {round_ + 1}: {case} {rate:,.0f} msg/s"
                + (f", {result.duplicates} duplicates" if result.duplicates else "")
                + ("" if lag is None else f", the subscriber's last message {lag * 1000:+.0f} ms after it ended"))
            results.append(result)
        return results

    def run(self) -> list[list[DrainCase]]:
        rounds = []
        for round_ in range(self.args.rounds):
            self.tag = f"r{round_}x{random.randrange(1 << 20)}"
            counter = Counter(self.cluster.mqtt_port(SUBSCRIBER_NODE), f"site/{GATEWAY_ID}/bench/{self.tag}/#")
            try:
                rounds.append(self.round(round_, counter))
            finally:
                counter.close()
        return rounds
