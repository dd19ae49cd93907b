"""14 hostile: clients that attack the broker, each case bounded in time.

Throughout every case a probe client's QoS 1 round trip on its own topic keeps working, fresh
connections get their CONNACK (both within PROBE_BOUND), and the broker's RSS stays under the
growth bound the case states; afterwards `$SYS/broker/clients/connected` returns to the
harness's own two clients and a new client is served (wharf_e2e/hostile.py). Sizes scale with
WHARF_E2E_HOSTILE_SCALE; WHARF_E2E_HOSTILE_SEED replays the random cases.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import time
from base64 import b64encode
from pathlib import Path

import pytest

from wharf_e2e.broker import Broker, BrokerOptions, broker_kind
from wharf_e2e.client import MqttClient, unique_id
from wharf_e2e.deep import deep_topic_round
from wharf_e2e.hostile import SCALE, HostileCase, cpu_seconds, open_file_limit, rss_mib, scaled, time_bound
from wharf_e2e.hostile_conns import (
    Slowloris,
    connacks_received,
    connect_close_cycles,
    hold_connections,
    mutated_clients,
    wrong_password_flood,
)
from wharf_e2e.hostile_load import Flood, FloodResult, NonReader, reset
from wharf_e2e.mutate import LOAD_TOPIC
from wharf_e2e.retained_load import subscribe_many, subscribe_retained

SEED = int(os.environ.get("WHARF_E2E_HOSTILE_SEED") or random.randrange(1 << 30))
KIB = b"k" * 1024
# sys_interval 1 s for the clients_connected counter; Mosquitto at its default log types
# (`log_type all` would write a line per packet and slow it down under these loads).
QUIET = {"sys_interval": 1, "mosquitto_log_types": ("error", "warning", "notice", "information")}
pytestmark = pytest.mark.broker_config(**QUIET)


@pytest.fixture
def case(broker: Broker, e2e_report):  # noqa: ANN001, ANN201
    def make(rss_growth_mib: float, **kwargs: object) -> HostileCase:
        return HostileCase(broker, rss_growth_mib, e2e_report, **kwargs)  # type: ignore[arg-type]

    return make


def _judge_flood(case: HostileCase, result: FloodResult, wanted: int) -> None:
    case.note(f"published {result.published} in {result.elapsed:.1f} s ({result.rate:.0f}/s)")
    if result.stopped:
        case.fail(f"the publish load stopped after {result.published} of {wanted} messages: {result.stopped}")


def _close_flood(case: HostileCase, flood: Flood) -> None:
    if not flood.close():
        case.fail("the broker had not read the whole publish load 30 s after it was written")


# --- mutated packets, second CONNECTs, empty client ids with clean session 0 -------------- #

MUTATED_CONNECTIONS = scaled(4000)
MUTATED_LOAD = scaled(60_000)
# None of the mutated clients may leave a session behind that outlives its connection
# (wharf_e2e/mutate.py), so the QoS 0 load after them (60 MB) has no one to be queued for.
# A broker that reads no faster than it routes holds a few socket buffers of it; 32 MiB is
# ample for that and allocator caches. A session left attached holds 40-90 KB per publish.
MUTATED_RSS_GROWTH_MIB = 32


@pytest.mark.timeout(time_bound(240))
def test_mutated_packets_then_publish_load(broker, case):
    with case(MUTATED_RSS_GROWTH_MIB) as c:
        tally = mutated_clients(
            broker.address,
            MUTATED_CONNECTIONS,
            threads=16,
            seed=SEED,
            deadline=time.monotonic() + time_bound(120),
            keep_going=c.keep_going,
        )
        c.note(f"seed {SEED}; {MUTATED_CONNECTIONS} hostile connections: {tally}")
        c.note(f"RSS {rss_mib(broker.proc.pid):.0f} MiB after them")
        if tally.counts["not run"] or tally.counts["connect failed"]:
            c.fail(f"hostile connections not made: {tally.errors}")
        c.settle("after the hostile connections")
        flood = Flood(broker.address)
        result = flood.run(
            MUTATED_LOAD,
            topic=LOAD_TOPIC,
            payload=KIB,
            deadline=time.monotonic() + time_bound(60),
            keep_going=c.keep_going,
        )
        _judge_flood(c, result, MUTATED_LOAD)
        _close_flood(c, flood)


# --- slowloris ----------------------------------------------------------------------------- #

SLOWLORIS_CONNECTIONS = scaled(2000)
SLOWLORIS_HOLD = 10.0  # seconds the half CONNECTs are held while the probe runs
# A connection that has not finished its CONNECT holds a socket and a small read buffer:
# 32 KiB each (62 MiB for 2,000) is several times that.
SLOWLORIS_RSS_GROWTH_MIB = 32 * SLOWLORIS_CONNECTIONS / 1024


@pytest.mark.timeout(time_bound(120))
def test_slowloris_connections(broker, case):
    with case(SLOWLORIS_RSS_GROWTH_MIB) as c:
        attack = Slowloris(broker.address, SLOWLORIS_CONNECTIONS, seed=SEED)
        try:
            if attack.failed:
                c.fail(f"{len(attack.failed)} connections could not be opened: {attack.failed[:3]}")
            time.sleep(SLOWLORIS_HOLD)
            c.note(
                f"seed {SEED}; {attack.still_open()} of {len(attack.socks)} half CONNECTs "
                f"still open after {SLOWLORIS_HOLD:.0f} s"
            )
        finally:
            attack.close()


# --- a subscriber that never reads -------------------------------------------------------- #

SLOW_CONSUMER_MESSAGES = scaled(500_000)
# A subscriber that never reads holds at most its queue (max_queued_messages 1000 here, about
# 1 MiB of 1 KB messages), its in-flight window and socket buffers; 64 MiB leaves ample room
# for allocator slack. Mosquitto 2.0.11 grows about 1 MiB; an unbounded write path grows by
# the whole load (500 MB).
SLOW_CONSUMER_RSS_GROWTH_MIB = 64


@pytest.mark.parametrize("qos", [0, 1], ids=["qos0", "qos1"])
@pytest.mark.timeout(time_bound(300))
def test_subscriber_that_never_reads(broker, case, qos):
    with case(SLOW_CONSUMER_RSS_GROWTH_MIB) as c:
        deaf = NonReader(broker.address, "hostile/slow/#", qos)
        reader = MqttClient(broker.host, broker.port, client_id=unique_id("hostile-reader"))
        flood = None
        try:
            reader.connect()
            assert reader.subscribe("hostile/slow/tick", 1) == [1]
            flood = Flood(broker.address, qos=qos)
            result = flood.run(
                SLOW_CONSUMER_MESSAGES,
                topic="hostile/slow/data",
                payload=KIB,
                tick_topic="hostile/slow/tick",
                deadline=time.monotonic() + time_bound(180),
                keep_going=c.keep_going,
            )
            _judge_flood(c, result, SLOW_CONSUMER_MESSAGES)
            if not flood.wait_acked(flood.identifiers_used, 30):
                c.fail(
                    f"the publisher got {flood.acked} of {flood.identifiers_used} PUBACKs "
                    "within 30 s of its last publish"
                )
            # The other subscriber keeps receiving: every tick (QoS 1), one per 1,000 messages.
            try:
                reader.messages.wait(flood.ticks, timeout=30, topic="hostile/slow/tick")
            except AssertionError:
                got = len(reader.messages.snapshot())
                c.fail(f"the reading subscriber got {got} of {flood.ticks} ticks within 30 s of the last publish")
            _close_flood(c, flood)
        finally:
            deaf.close()
            reader.close()
            if flood is not None:
                flood.close()


# --- connect/close cycles ---------------------------------------------------------------- #

CYCLES = scaled(20_000)
# Every cycle's session ends with it or is resumed from a pool of 64 client ids, so nothing
# should accumulate: a leak of 2 KiB per cycle would pass the 32 MiB bound.
CYCLES_RSS_GROWTH_MIB = 32


@pytest.mark.timeout(time_bound(300))
def test_connect_close_cycles(broker, case):
    with case(CYCLES_RSS_GROWTH_MIB) as c:
        tally = connect_close_cycles(
            broker.address, CYCLES, threads=8, deadline=time.monotonic() + time_bound(180), keep_going=c.keep_going
        )
        c.note(f"{CYCLES} cycles: {tally}")
        if tally.counts["ok"] != CYCLES:
            c.fail(f"only {tally.counts['ok']} of {CYCLES} cycles completed ({tally}); first errors {tally.errors}")


# --- 100,000 subscriptions from one client ------------------------------------------------ #

SUBSCRIPTIONS = scaled(100_000)
# All SUBSCRIBEs are sent at once without waiting for SUBACKs, 10,000 filters (~250 KB) each.
SUBSCRIBE_FILTERS_PER_PACKET = 10_000
# A subscription to a ~25-byte filter needs a trie node, the filter and the session's entry:
# 1 KiB each (98 MiB for 100,000) is several times that.
SUBSCRIPTIONS_RSS_GROWTH_MIB = 32 + SUBSCRIPTIONS / 1024


@pytest.mark.timeout(time_bound(240))
def test_many_subscriptions_from_one_client(broker, case):
    with case(SUBSCRIPTIONS_RSS_GROWTH_MIB) as c:
        filters = [
            f"hostile/subs/{i // 1000}/{i % 1000}" if i % 4 else f"hostile/subs/+/{i}/#" for i in range(SUBSCRIPTIONS)
        ]
        outcome = subscribe_many(
            broker.address,
            filters,
            per_packet=SUBSCRIBE_FILTERS_PER_PACKET,
            deadline=time.monotonic() + time_bound(90),
            keep_going=c.keep_going,
        )
        c.note(str(outcome))
        for problem in outcome.problems():
            c.fail(problem)


# --- 1,000-level topics ------------------------------------------------------------------ #

DEEP_MESSAGES = scaled(2000)
# Subscribers read as messages come (the queue limit is raised so that none is dropped while
# a subscriber catches up); a few thousand topics of 2-64 KB in flight at most.
DEEP_RSS_GROWTH_MIB = 64


@pytest.mark.parametrize("levels", [1000, 32_000], ids=["1000-levels", "32000-levels"])
@pytest.mark.broker_config(**QUIET, max_queued_messages=DEEP_MESSAGES + 100)
@pytest.mark.timeout(time_bound(180))
def test_deep_topics(broker, case, levels):
    with case(DEEP_RSS_GROWTH_MIB) as c:
        count = DEEP_MESSAGES if levels <= 1000 else max(1, DEEP_MESSAGES // 20)
        for problem in deep_topic_round(broker, c, levels, count):
            c.fail(problem)


# --- 100,000 retained messages, then SUBSCRIBEs with hundreds of wildcard filters --------- #

RETAINED = scaled(100_000, minimum=1000)
RETAINED_SUBSCRIBERS = 5
FILTERS_PER_SUBSCRIBE = 400
# 100,000 retained messages with ~25-byte topics and 64-byte payloads are ~9 MiB of data;
# 1 KiB each for the index and per-message overhead (98 MiB) plus 32 MiB is several times that.
RETAINED_RSS_GROWTH_MIB = 32 + RETAINED / 1024


@pytest.mark.timeout(time_bound(300))
def test_retained_messages_then_wildcard_subscribes(broker, case):
    with case(RETAINED_RSS_GROWTH_MIB) as c:
        flood = Flood(broker.address)
        try:
            result = flood.run(
                RETAINED,
                topic=lambda i: f"hostile/retained/{i // 100}/{i % 100}",
                payload=b"r" * 64,
                retain=True,
                tick_topic="hostile/retained-done",
                deadline=time.monotonic() + time_bound(120),
                keep_going=c.keep_going,
            )
            _judge_flood(c, result, RETAINED)
            if not flood.wait_acked(flood.ticks, time_bound(120)):
                c.fail(f"the retained publishes were not all processed within {time_bound(120):.0f} s")
        finally:
            flood.close()
        if c.problems:
            return
        outcomes = subscribe_retained(
            broker.address,
            RETAINED,
            subscribers=RETAINED_SUBSCRIBERS,
            filters=FILTERS_PER_SUBSCRIBE,
            deadline=time.monotonic() + time_bound(90),
            keep_going=c.keep_going,
        )
        for outcome in outcomes:
            c.note(str(outcome))
            for problem in outcome.problems():
                c.fail(problem)


# --- wrong passwords at full speed ------------------------------------------------------- #

PASSWORD_FLOOD_SECONDS = max(5.0, 15.0 * min(1.0, SCALE))
# Refused CONNECTs leave nothing behind.
PASSWORD_RSS_GROWTH_MIB = 32


def _password_file(path: Path, iterations: int) -> Path:
    """'probe' with password 'right': from mosquitto_passwd (101 iterations), or a PBKDF2-SHA512
    entry in the same `$7$` format with wharfctl's default 10,000 iterations."""
    if iterations == 101:
        path.write_text("")
        done = subprocess.run(["mosquitto_passwd", "-b", str(path), "probe", "right"], capture_output=True, timeout=30)
        assert done.returncode == 0, done.stderr
    else:
        salt = os.urandom(12)
        digest = hashlib.pbkdf2_hmac("sha512", b"right", salt, iterations)
        path.write_text(f"probe:$7${iterations}${b64encode(salt).decode()}${b64encode(digest).decode()}\n")
    return path


# Guesses in flight at once (each answered guess starts the next one at once). With 10,000
# iterations a verification costs 10-20 ms of CPU: a broker verifying on its only thread
# (Mosquitto) makes the probe wait for a round of 64 of them, about 1 s, well within the
# probe bound on a busy machine. A login from the attacker's own address rightly waits behind
# the guesses in flight, so fresh connections are only judged with the cheap hashes.
PASSWORD_CASES = [
    pytest.param(101, 512, id="mosquitto_passwd-512-in-flight"),
    pytest.param(10_000, 64, id="pbkdf2-10000-64-in-flight"),
]


@pytest.mark.parametrize("iterations,in_flight", PASSWORD_CASES)
@pytest.mark.timeout(time_bound(120))
def test_wrong_passwords_at_full_speed(tmp_path, e2e_report, iterations, in_flight):
    # A broker of its own: the password file must exist before it starts.
    options = BrokerOptions(
        allow_anonymous=False,
        password_file=str(_password_file(tmp_path / "passwd", iterations)),
        mosquitto_extra=("user root",) if os.geteuid() == 0 else (),
    ).with_changes(**QUIET)
    broker = Broker(broker_kind(), options, tmp_path)
    broker.start()
    try:
        credentials: dict[str, object] = {"username": "probe", "password": "right"}
        fresh = iterations < 1000
        with HostileCase(
            broker, PASSWORD_RSS_GROWTH_MIB, e2e_report, fresh_connections=fresh, credentials=credentials
        ) as c:
            tally = wrong_password_flood(
                broker.address,
                "probe",
                in_flight=in_flight,
                deadline=time.monotonic() + PASSWORD_FLOOD_SECONDS,
                keep_going=c.keep_going,
            )
            c.note(f"{sum(tally.counts.values())} wrong passwords in {PASSWORD_FLOOD_SECONDS:.0f} s: {tally}")
            if set(tally.counts) - {"refused", "closed without CONNACK"}:
                c.fail(f"wrong passwords: {tally}; {tally.errors}")
    finally:
        broker.stop()
    broker.check_clean_exit()


# --- more connections than the open-file limit allows ------------------------------------ #

FILE_LIMIT = 256
FILE_LIMIT_CONNECTIONS = 400
IDLE_WINDOW = 3.0
# A daemon that stops accepting while it has no descriptor to spare uses next to no CPU while
# idle; one that retries accept() in a loop burns the whole window (3 s of CPU).
IDLE_CPU_SECONDS = 0.5
FILE_LIMIT_RSS_GROWTH_MIB = 32


@pytest.mark.broker_config(**QUIET, open_file_limit=FILE_LIMIT)
@pytest.mark.timeout(time_bound(120))
def test_more_connections_than_the_open_file_limit(broker, case):
    assert open_file_limit(broker.proc.pid) == FILE_LIMIT
    with case(FILE_LIMIT_RSS_GROWTH_MIB, fresh_connections=False) as c:
        socks, failed = hold_connections(broker.address, FILE_LIMIT_CONNECTIONS, connect=True)
        try:
            time.sleep(2)
            before = cpu_seconds(broker.proc.pid)
            time.sleep(IDLE_WINDOW)
            used = cpu_seconds(broker.proc.pid) - before
            accepted, closed = connacks_received(socks)
            c.note(
                f"{len(socks)} connections opened ({failed} failed): {accepted} CONNACKs, {closed} closed; "
                f"{used:.2f} s of CPU in a {IDLE_WINDOW:.0f} s idle window"
            )
            if used > IDLE_CPU_SECONDS:
                c.fail(f"the broker used {used:.2f} s of CPU in {IDLE_WINDOW:.0f} s while idle at its open-file limit")
        finally:
            for sock in socks:
                reset(sock)
        c.settle("after the connections closed")
        c.probe.fresh_connections.set()
        time.sleep(2)
