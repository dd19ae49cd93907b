"""Topics with very many levels for the hostile-client suite (test_14).

A broker may accept such topics or refuse them (a SUBACK failure code, a closed connection,
a DISCONNECT); what it must not do is crash, stall or deliver inconsistently: a granted
subscription receives every message whose PUBLISH was acknowledged, and a retained one.
"""

from __future__ import annotations

import threading
import time

from . import codec
from .broker import Broker
from .client import unique_id
from .hostile import HostileCase, time_bound
from .hostile_load import Flood
from .raw import Closed, RawClient


def deep_names(levels: int) -> tuple[str, list[str]]:
    """A topic of `levels` levels and three filters that match it: itself, `+` at every level,
    and `hostile/deep/#`."""
    topic = "hostile/deep/" + "/".join(["x"] * (levels - 2))
    return topic, [topic, "/".join(["+"] * levels), "hostile/deep/#"]


def _closes(client: RawClient) -> bool:
    """Whether the broker closed (or, within 2 s, closes) the connection."""
    try:
        client.wait_closed(2)
        return True
    except AssertionError:
        return False


class DeepSubscriber:
    """A raw MQTT 5 client with one QoS 1 subscription; a thread acknowledges and counts the
    messages on `topic` (so that none waits in the broker's queue)."""

    def __init__(self, broker: Broker, topic_filter: str, topic: str) -> None:
        self.topic = topic.encode()
        self.received = 0
        self.client = RawClient(broker.host, broker.port, timeout=10)
        self.client.connect(unique_id("hostile-deep"))
        try:
            self.codes: list[int] | str = list(self.client.subscribe(topic_filter, 1).reasons)
        except AssertionError as error:  # closed (perhaps after a DISCONNECT), or no SUBACK in time
            self.codes = "closed" if _closes(self.client) else f"{error}"
            return
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    @property
    def granted(self) -> bool:
        return isinstance(self.codes, list) and self.codes[0] < 0x80

    def _read(self) -> None:
        while not self.client.closed:
            try:
                packet = self.client.recv(1)
            except TimeoutError:
                continue
            except (Closed, OSError, codec.MalformedError):
                return
            if packet.type == codec.PUBLISH:
                if packet.qos:
                    try:
                        self.client.send_quietly(codec.ack(codec.PUBACK, packet.packet_id))
                    except OSError:
                        return  # closed by close() meanwhile
                if packet.topic.encode() == self.topic:
                    self.received += 1

    def wait(self, count: int, timeout: float) -> bool:
        end = time.monotonic() + timeout
        while self.received < count and time.monotonic() < end and not self.client.closed:
            time.sleep(0.02)
        return self.received >= count

    def close(self) -> None:
        self.client.close()


def deep_topic_round(broker: Broker, case: HostileCase, levels: int, count: int) -> list[str]:
    """Subscribes three clients with deep filters, publishes `count` QoS 1 messages and one
    retained message on a `levels`-level topic, and returns what went wrong."""
    topic, filters = deep_names(levels)
    problems: list[str] = []
    subscribers = [DeepSubscriber(broker, topic_filter, topic) for topic_filter in filters]
    outcome = {
        f[:16]: f"SUBACK {s.codes}" if isinstance(s.codes, list) else s.codes
        for f, s in zip(filters, subscribers, strict=True)
    }
    for subscriber in subscribers:
        if not isinstance(subscriber.codes, list) and subscriber.codes != "closed":
            problems.append(f"a {levels}-level SUBSCRIBE got no SUBACK, yet the connection is open: {subscriber.codes}")
    try:
        flood = Flood(broker.address, qos=1, window=100)
        result = flood.run(
            count, topic=topic, payload=b"deep", deadline=time.monotonic() + time_bound(60), keep_going=case.keep_going
        )
        flood.wait_acked(result.published, 30)
        acked = flood.acked
        outcome["publish"] = f"{acked} of {count} acknowledged" + (f", {result.stopped}" if result.stopped else "")
        if flood.closed_by_broker:
            outcome["publish"] += ", connection closed by the broker"
        elif acked != count:
            problems.append(
                f"{acked} of {count} {levels}-level publishes acknowledged, connection open: {result.stopped}"
            )
        flood.close()
        for subscriber in subscribers:
            if subscriber.granted and not subscriber.wait(acked, 30):
                problems.append(
                    f"a granted {levels}-level subscription got {subscriber.received} of {acked} acknowledged messages"
                )
        problems.extend(_retained_round(broker, topic, levels, outcome))
    finally:
        for subscriber in subscribers:
            subscriber.close()
        case.note(f"{levels} levels: " + ", ".join(f"{k}: {v}" for k, v in outcome.items()))
    return problems


def _retained_round(broker: Broker, topic: str, levels: int, outcome: dict[str, str]) -> list[str]:
    """A retained message on the deep topic reaches a later `hostile/deep/#` subscriber; then cleared."""
    publisher = RawClient(broker.host, broker.port, timeout=10)
    watcher: DeepSubscriber | None = None
    try:
        publisher.connect(unique_id("hostile-deep-retain"))
        try:
            puback = publisher.publish(topic, b"retained", qos=1, retain=True)
        except AssertionError:
            closed = _closes(publisher)
            outcome["retained"] = "publish refused" + (" (closed)" if closed else "")
            return [] if closed else [f"a retained {levels}-level publish got no PUBACK, connection open"]
        if puback is not None and puback.reason >= 0x80:
            # Refused with a reason code (MQTT 5: 0x90 Topic Name invalid): nothing was retained.
            outcome["retained"] = f"publish refused (PUBACK 0x{puback.reason:02x})"
            return []
        watcher = DeepSubscriber(broker, "hostile/deep/#", topic)
        if not watcher.granted:
            return [f"hostile/deep/# not granted: {watcher.codes}"]
        if not watcher.wait(1, 10):
            return [f"an acknowledged retained {levels}-level message was not delivered to hostile/deep/#"]
        outcome["retained"] = "delivered"
        publisher.publish(topic, b"", qos=1, retain=True)
        return []
    finally:
        publisher.close()
        if watcher is not None:
            watcher.close()
