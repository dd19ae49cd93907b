"""Failover (docs/benchmarks.md, "Cloud cluster"): kill -9 of the node the uplink and a plain client use,
and the time until each has a PUBACK from another node."""

from __future__ import annotations

import argparse
import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import paho.mqtt.client as paho
from cluster_common import HOST, admin_options, fmt_s, log, payload, status, uplink_options, wait_for
from wharf_e2e import codec
from wharf_e2e.broker import free_port
from wharf_e2e.gateway import Gateway
from wharf_e2e.rabbitmq import RabbitCluster
from wharf_e2e.raw import RawClient


class Stream(threading.Thread):
    """QoS 1 messages into wharfd at a steady rate (paho, MQTT 5), until stopped."""

    def __init__(self, port: int, topic: str, rate: int) -> None:
        super().__init__(daemon=True)
        self.topic = topic
        self.rate = rate
        self.stop_event = threading.Event()
        client_id = f"bench-stream-{random.randrange(1 << 30)}"
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.connect(HOST, port)
        self.client.loop_start()

    def run(self) -> None:
        sequence = 0
        per_tick = max(1, round(self.rate / 100))  # ~10 ms apart
        next_at = time.monotonic()
        while not self.stop_event.is_set():
            for _ in range(per_tick):
                sequence += 1
                self.client.publish(self.topic, payload("stream", sequence, 32), 1)
            next_at += per_tick / self.rate
            time.sleep(max(0.0, next_at - time.monotonic()))

    def stop(self) -> None:
        self.stop_event.set()
        self.join(5)
        self.client.disconnect()
        self.client.loop_stop()


class Poller(threading.Thread):
    """The uplink's state, endpoint and acknowledged count from the admin API, every `interval` seconds."""

    def __init__(self, admin_port: int, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.admin_port = admin_port
        self.interval = interval
        self.samples: list[tuple[float, str, str | None, int]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                uplink = status(self.admin_port)["uplink"]
                self.samples.append((time.monotonic(), uplink["state"], uplink.get("endpoint"), uplink["acknowledged"]))
            except (OSError, ValueError):
                pass
            time.sleep(self.interval)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(5)


@dataclass
class UplinkFailover:
    """Seconds from the kill: the link seen down, connected to another node, first PUBACK from it."""

    down: float | None
    connected: float | None
    first_ack: float | None
    endpoint: str | None


def read_failover(samples: list[tuple[float, str, str | None, int]], killed_at: float, dead: str) -> UplinkFailover:
    after = [s for s in samples if s[0] >= killed_at]
    down = next((s for s in after if s[1] != "connected" or s[2] != dead), None)
    connected = next((s for s in after if s[1] == "connected" and s[2] != dead), None)
    if connected is None:
        return UplinkFailover(down and down[0] - killed_at, None, None, None)
    # PUBACKs the dead node sent before it died are counted by the time the link is seen down.
    baseline = (down or connected)[3]
    first_ack = next((s for s in after if s[0] >= connected[0] and s[2] == connected[2] and s[3] > baseline), None)
    return UplinkFailover(
        down[0] - killed_at if down else None, connected[0] - killed_at,
        first_ack[0] - killed_at if first_ack else None, connected[2],
    )


class Probe(threading.Thread):
    """A plain MQTT 3.1.1 client with a session like the uplink's: clean session false, a retained QoS 1
    will, a QoS 1 subscription (the uplink subscribes to its remote configuration topic: the session is
    a queue at the cloud), one QoS 1 publish at a time, on the first node. After that node dies it
    reconnects at once to the next node (in the uplink's order, the same client id) and publishes again:
    from the kill to that PUBACK is the cluster's takeover time, with nothing of a client's backoff in it."""

    def __init__(self, ports: list[int], client_id: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.ports = ports
        self.topic = topic
        self.index = 0
        self.client_id = client_id
        self.stop_event = threading.Event()
        self.down: float | None = None
        self.connack: float | None = None
        self.puback: float | None = None
        self.attempts: list[str] = []
        self.client = self._connect(self.ports[self.index])
        self.client.subscribe(f"probe/{client_id}/desired", 1)
        self.client.publish(self.topic, b"probe:0:", qos=1)

    def _connect(self, port: int) -> RawClient:
        client = RawClient(HOST, port, version=codec.MQTT311, timeout=10)
        will = codec.Will(topic=f"status/{self.client_id}", payload=b"offline", qos=1, retain=True)
        client.connect(self.client_id, clean=False, keepalive=60, will=will)
        return client

    def run(self) -> None:
        try:
            while not self.stop_event.is_set():
                self.client.publish(self.topic, b"probe:1:", qos=1)
                time.sleep(0.01)
        except (AssertionError, OSError):
            pass
        if self.stop_event.is_set():
            return
        self.down = time.monotonic()
        self.client.close()
        while self.puback is None and not self.stop_event.is_set():
            self.index = (self.index + 1) % len(self.ports)
            port = self.ports[self.index]
            try:
                self.client = self._connect(port)
                self.connack = time.monotonic()
                self.client.publish(self.topic, b"probe:2:", qos=1)
                self.puback = time.monotonic()
                self.attempts.append(f"{port}: accepted")
            except (AssertionError, OSError) as error:
                self.attempts.append(f"{port}: {str(error).splitlines()[0][:80]}")
                try:
                    self.client.close()
                except OSError:
                    pass
                time.sleep(0.02)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(15)
        self.client.close()


class Consumer:
    """A persistent QoS 1 subscriber (clean session false: a quorum queue on the three nodes) on `port`;
    closed, its session ends (a clean-session connect deletes the queue)."""

    def __init__(self, port: int, topic_filter: str) -> None:
        self.port = port
        self.client_id = f"bench-consumer-{random.randrange(1 << 30)}"
        self.client = self._client(clean=False)
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.connect(HOST, port)
        self.client.loop_start()
        self.client.subscribe(topic_filter, 1)
        if not subscribed.wait(10):
            raise AssertionError(f"no SUBACK from port {port}")

    def _client(self, clean: bool) -> paho.Client:
        return paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=paho.MQTTv311, clean_session=clean
        )

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        cleaner = self._client(clean=True)
        try:
            cleaner.connect(HOST, self.port)
            cleaner.loop_start()
            time.sleep(0.5)
            cleaner.disconnect()
            cleaner.loop_stop()
        except OSError:
            pass  # the queue stays in this run's throwaway cluster


@dataclass
class FailoverRound:
    """Seconds from the kill, for the uplink and for the plain client (probe)."""

    uplink: UplinkFailover
    # When the quorum queue of the uplink's session at the cloud had a new leader (RabbitMQ's log).
    uplink_election: float | None
    probe_down: float | None
    probe_connack: float | None
    probe_puback: float | None
    probe_election: float | None
    probe_attempts: list[str]
    uplink_log: list[str]


_LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z?)")
_RABBIT_LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+[+-]\d\d:\d\d) ")


def leader_elected(cluster: RabbitCluster, client_id: str, wall_kill: float) -> float | None:
    """Seconds from the kill until a node logged that the quorum queue of `client_id`'s session (RabbitMQ
    keeps an MQTT session with a QoS 1 subscription as `mqtt-subscription-<id>qos1`) has a new leader."""
    needle = f"queue 'mqtt-subscription-{client_id}qos1' in vhost '/': candidate -> leader"
    first: float | None = None
    for node in cluster.nodes:
        try:
            text = node.log_path.read_text(errors="replace")
        except FileNotFoundError:
            continue
        for line in text.splitlines():
            match = _RABBIT_LOG_TIME.match(line)
            if needle not in line or match is None:
                continue
            when = datetime.fromisoformat(match.group(1)).timestamp() - wall_kill
            if when > 0 and (first is None or when < first):
                first = when
    return first


def uplink_log_since(text: str, wall_kill: float, until: float) -> list[str]:
    """The uplink's log lines from the kill (seconds since the epoch) for `until` seconds, each
    with its time after the kill instead of its timestamp."""
    out = []
    for line in text.splitlines():
        match = _LOG_TIME.match(line)
        if "Uplink" not in line or match is None:
            continue
        try:
            when = datetime.fromisoformat(match.group(1).replace("Z", "+00:00")).timestamp() - wall_kill
        except ValueError:
            continue
        if -0.05 <= when <= until:
            out.append(f"+{when:.3f} s {line[match.end():].strip()}")
    return out


class FailoverRun:
    """Every failover round on one cluster. Each round starts a wharfd of its own (a gateway id of its own,
    so a new session at the cloud) and a new plain client, both connected to node 1, which holds their
    sessions' queues as it would for a gateway that stays on its preferred node; node 1 is killed and
    started again. A persistent QoS 1 consumer on node 3 reads what they publish throughout."""

    def __init__(self, cluster: RabbitCluster, args: argparse.Namespace, workdir: Path) -> None:
        self.cluster = cluster
        self.args = args
        self.workdir = workdir
        self.ports = [cluster.mqtt_port(n) for n in cluster.numbers]
        self.tag = f"f{random.randrange(1 << 20)}"

    def run(self) -> list[FailoverRound]:
        # The messages have a consumer, as in a real cloud: a persistent QoS 1 session (a quorum queue
        # led by node 3), so a PUBACK waits for that queue to take the message. It is closed last: a queue
        # deleted while a publisher routes to it makes RabbitMQ 3.10 close the publisher's connection.
        consumer = Consumer(self.ports[-1], f"site/+/bench/failover/{self.tag}/#")
        try:
            return [self.round(round_) for round_ in range(self.args.rounds)]
        finally:
            consumer.close()

    def round(self, round_: int) -> FailoverRound:
        admin_port = free_port()
        directory = self.workdir / f"failover-{round_}"
        directory.mkdir()
        endpoints = tuple(f"{HOST}:{port}" for port in self.ports)
        # A gateway id of its own: a new session at the cloud, whose queue node 1 leads.
        gateway_id = f"{self.tag}-gw{round_}"
        uplink = uplink_options(self.args, endpoints)
        gateway = Gateway(admin_options(admin_port), directory, uplink, gateway_id=gateway_id)
        gateway.start()
        stream = Stream(gateway.port, f"bench/failover/{self.tag}/stream", self.args.stream_rate)
        stream.start()
        probe: Probe | None = None
        poller = Poller(admin_port)
        try:
            first = f"{HOST}:{self.ports[0]}"

            def flowing() -> bool:
                uplink = status(admin_port)["uplink"]
                return uplink["state"] == "connected" and uplink["acknowledged"] > 0 and uplink["endpoint"] == first

            wait_for(flowing, 60, "the uplink connected to node 1 and acknowledged")
            probe = Probe(self.ports, f"{self.tag}-probe{round_}", f"site/probe/bench/failover/{self.tag}/probe")
            probe.start()
            poller.start()
            time.sleep(2)  # a steady state: the stream flowing through node 1, the probe publishing
            wall_kill = time.time()
            killed_at = time.monotonic()
            self.cluster.kill9(1)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                result = read_failover(poller.samples, killed_at, first)
                if result.first_ack is not None and probe.puback is not None:
                    break
                time.sleep(0.1)
            time.sleep(0.2)
        finally:
            poller.stop()
            if probe is not None:
                probe.stop()
            stream.stop()
            gateway.stop()
        gateway.check_clean_exit()
        result = read_failover(poller.samples, killed_at, first)
        lines = uplink_log_since(gateway.log(), wall_kill, (result.first_ack or 60) + 1)
        measured = FailoverRound(
            result,
            leader_elected(self.cluster, f"wharf-{gateway_id}", wall_kill),
            probe.down - killed_at if probe.down else None,
            probe.connack - killed_at if probe.connack else None,
            probe.puback - killed_at if probe.puback else None,
            leader_elected(self.cluster, probe.client_id, wall_kill),
            probe.attempts, lines,
        )
        log(f"failover round {round_ + 1}: uplink first PUBACK {fmt_s(result.first_ack)} after the kill "
            f"(on {result.endpoint}; its session's queue led again at {fmt_s(measured.uplink_election)}), "
            f"plain client {fmt_s(measured.probe_puback)} (its queue at {fmt_s(measured.probe_election)})")
        for line in lines:
            log(f"  {line}")
        log(f"  plain client: {'; '.join(probe.attempts)}")
        self.cluster.start(1)
        self.cluster.check_cluster()
        return measured
