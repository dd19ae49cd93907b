"""Subscription-heavy attacks for the hostile-client suite (test_14): one client's 100,000
subscriptions, and SUBSCRIBEs with hundreds of wildcard filters over 100,000 retained messages.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from . import codec
from .hostile_load import Address, KeepGoing, PacketStream, raw_connect, reset

V5 = codec.MQTT5
QUOTA_EXCEEDED = 0x97


def _suback_codes(body: bytes) -> tuple[int, list[int]]:
    """Packet identifier and reason codes of an MQTT 5 SUBACK body."""
    packet_id = int.from_bytes(body[:2], "big")
    length, multiplier, index = 0, 1, 2
    while True:
        digit = body[index]
        length += (digit & 0x7F) * multiplier
        multiplier *= 128
        index += 1
        if not digit & 0x80:
            break
    return packet_id, list(body[index + length :])


def _publish_topic(first: int, body: bytes) -> bytes:
    return body[2 : 2 + int.from_bytes(body[:2], "big")]


@dataclass
class ManySubscriptions:
    filters: int
    granted: int = 0
    refused: Counter[int] = field(default_factory=Counter)
    first_refused: int | None = None
    disconnect: int | None = None
    closed: bool = False
    elapsed: float = 0.0
    delivered: dict[str, bool] = field(default_factory=dict)

    @property
    def answered(self) -> int:
        return self.granted + sum(self.refused.values())

    def problems(self) -> list[str]:
        out = []
        if self.answered < self.filters and self.disconnect != QUOTA_EXCEEDED:
            how = "the broker closed the connection" if self.closed else "the deadline passed"
            out.append(f"{self.answered} of {self.filters} filters acknowledged when {how} ({self.elapsed:.1f} s)")
        if self.first_refused is not None and self.first_refused < 100:
            out.append(f"filter {self.first_refused} refused: a client's first 100 subscriptions must be granted")
        missing = [topic for topic, ok in self.delivered.items() if not ok]
        if missing:
            out.append(f"no message delivered for granted subscriptions to {missing}")
        return out

    def __str__(self) -> str:
        refused = f", refused {dict(self.refused)} from filter {self.first_refused}" if self.refused else ""
        ending = f", DISCONNECT 0x{self.disconnect:02x}" if self.disconnect is not None else ""
        return f"{self.filters} filters: {self.granted} granted in {self.elapsed:.1f} s{refused}{ending}"


def subscribe_many(
    address: Address,
    filters: list[str],
    *,
    deadline: float,
    keep_going: KeepGoing,
    per_packet: int = 100,
    window: int = 1000,
) -> ManySubscriptions:
    """Subscribes one MQTT 5 client to every filter (QoS 1), `per_packet` per SUBSCRIBE and at most
    `window` SUBSCRIBEs unanswered; then checks that a granted subscription delivers."""
    outcome = ManySubscriptions(len(filters))
    sock, stream = raw_connect(address, version=V5)
    start = time.monotonic()
    packets = [filters[i : i + per_packet] for i in range(0, len(filters), per_packet)]
    sent = answered = 0
    try:
        while answered < len(packets) and time.monotonic() < deadline and keep_going():
            while sent < len(packets) and sent - answered < window:
                sock.sendall(codec.subscribe(sent % 65535 + 1, [(f, 1) for f in packets[sent]], version=V5))
                sent += 1
            try:
                frame = stream.next(min(deadline, time.monotonic() + 1))
            except TimeoutError:
                continue
            if frame is None:
                outcome.closed = True
                break
            kind = frame[0] >> 4
            if kind == codec.DISCONNECT:
                outcome.disconnect = frame[1][0] if frame[1] else 0
                break
            if kind != codec.SUBACK:
                continue
            _, codes = _suback_codes(frame[1])
            for offset, code in enumerate(codes):
                if code < 0x80:
                    outcome.granted += 1
                else:
                    outcome.refused[code] += 1
                    if outcome.first_refused is None:
                        outcome.first_refused = answered * per_packet + offset
            answered += 1
        outcome.elapsed = time.monotonic() - start
        if outcome.answered == len(filters):
            _check_deliveries(sock, stream, outcome, filters)
    except OSError:
        outcome.closed = True
    finally:
        reset(sock)
    return outcome


def _check_deliveries(sock, stream: PacketStream, outcome: ManySubscriptions, filters: list[str]) -> None:  # noqa: ANN001
    """Publishes (QoS 0, to itself) on the first and, when all were granted, the last exact filter."""
    exact = [f for f in filters if "+" not in f and "#" not in f]
    topics = exact[:1] + (exact[-1:] if not outcome.refused and len(exact) > 1 else [])
    for topic in topics:
        sock.sendall(codec.publish(topic, b"delivered?", version=V5))
        outcome.delivered[topic] = False
        end = time.monotonic() + 10
        try:
            while (frame := stream.next(end)) is not None:
                if frame[0] >> 4 == codec.PUBLISH and _publish_topic(frame[0], frame[1]) == topic.encode():
                    outcome.delivered[topic] = True
                    break
        except TimeoutError:
            pass


@dataclass
class RetainedSubscribe:
    subscriber: int
    filters: int
    expected: int
    codes: list[int] = field(default_factory=list)
    received: int = 0
    suback_after: float | None = None
    all_after: float | None = None
    error: str = ""

    def problems(self) -> list[str]:
        name = f"retained subscriber {self.subscriber}"
        if self.error:
            return [f"{name}: {self.error}"]
        if self.suback_after is None:
            return [f"{name}: no SUBACK for its {self.filters} filters"]
        out = []
        refused = [c for c in self.codes if c >= 0x80]
        if refused or len(self.codes) != self.filters:
            out.append(f"{name}: SUBACK with {len(self.codes)} codes, {len(refused)} refused")
        if self.received != self.expected:
            out.append(f"{name}: {self.received} of {self.expected} matching retained messages delivered")
        return out

    def __str__(self) -> str:
        suback = "none" if self.suback_after is None else f"{self.suback_after:.1f} s"
        done = "never" if self.all_after is None else f"{self.all_after:.1f} s"
        retained = f"{self.received}/{self.expected} retained"
        return f"subscriber {self.subscriber}: SUBACK after {suback}, {retained}, all after {done}"


def retained_filters(groups: int, subscriber: int, count: int) -> tuple[list[str], int]:
    """`count` filters over retained topics hostile/retained/{0..groups-1}/{0..99}, and how many
    retained messages they match: two `hostile/retained/{a}/+` (100 each) and single-message
    `+/retained/{a}/{b}` filters, none overlapping."""
    wide = {(2 * subscriber) % groups, (2 * subscriber + 1) % groups}
    filters = [f"hostile/retained/{a}/+" for a in sorted(wide)]
    pairs = 0
    for index in random.Random(subscriber).sample(range(groups * 100), groups * 100):
        if len(filters) == count:
            break
        a, b = divmod(index, 100)
        if a not in wide:
            filters.append(f"+/retained/{a}/{b}")
            pairs += 1
    assert len(filters) == count, f"{groups * 100} retained messages are too few for {count} distinct filters"
    return filters, 100 * len(wide) + pairs


def subscribe_retained(
    address: Address, retained: int, *, subscribers: int, filters: int, deadline: float, keep_going: KeepGoing
) -> list[RetainedSubscribe]:
    """`subscribers` MQTT 5 clients send one SUBSCRIBE each with `filters` filters, at the same
    moment, and count the retained messages that arrive (each must arrive exactly once)."""
    outcomes = []
    for index in range(subscribers):
        chosen, expected = retained_filters(retained // 100, index, filters)
        outcomes.append((chosen, RetainedSubscribe(index, len(chosen), expected)))
    barrier = threading.Barrier(subscribers)

    def run(chosen: list[str], outcome: RetainedSubscribe) -> None:
        try:
            sock, stream = raw_connect(address, version=V5)
        except (OSError, AssertionError) as error:
            outcome.error = f"could not connect: {error!r}"
            barrier.abort()
            return
        try:
            barrier.wait(30)
            start = time.monotonic()
            sock.sendall(codec.subscribe(1, [(f, 1) for f in chosen], version=V5))
            settle_until = deadline
            while keep_going():
                try:
                    frame = stream.next(settle_until)
                except TimeoutError:
                    break
                if frame is None:
                    outcome.error = "the broker closed the connection"
                    break
                kind = frame[0] >> 4
                if kind == codec.SUBACK:
                    outcome.suback_after = time.monotonic() - start
                    outcome.codes = _suback_codes(frame[1])[1]
                elif kind == codec.PUBLISH and frame[0] & 0x01:
                    outcome.received += 1
                if (
                    outcome.all_after is None
                    and outcome.received >= outcome.expected
                    and outcome.suback_after is not None
                ):
                    outcome.all_after = time.monotonic() - start
                    settle_until = min(deadline, time.monotonic() + 0.5)  # duplicates would come now
        except (OSError, threading.BrokenBarrierError, codec.MalformedError) as error:
            outcome.error = outcome.error or f"{error!r}"
        finally:
            reset(sock)

    threads = [threading.Thread(target=run, args=pair, daemon=True) for pair in outcomes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [outcome for _, outcome in outcomes]
