"""Assertions shared by several suites."""

from __future__ import annotations

import time

from . import codec
from .broker import Broker
from .client import MqttClient, Received, unique_id
from .raw import Closed, RawClient


def assert_serves(broker: Broker) -> None:
    """The broker is alive and a fresh MQTT 5 client can subscribe, publish and receive."""
    broker.assert_alive()
    client = MqttClient(broker.host, broker.port, client_id=unique_id("alive"))
    try:
        client.connect()
        topic = f"e2e/alive/{client.client_id}"
        assert client.subscribe(topic, 1) == [1]
        client.publish(topic, b"still here", 1)
        [message] = client.messages.wait(1, topic=topic)
        assert message.payload == b"still here"
        client.disconnect()
    finally:
        client.close()
    broker.assert_alive()


def messages_before_marker(
    watcher: MqttClient, publisher: MqttClient, topic: str, *, settle: float = 0.0
) -> list[Received]:
    """Waits `settle` seconds, publishes a marker on `topic` and returns what `watcher` got before it.

    A message that the broker would have sent before the marker (because its cause
    happened earlier) shows up in the returned list; this turns "nothing arrives"
    into a positive, bounded check.
    """
    if settle:
        time.sleep(settle)
    marker = f"marker-{unique_id()}".encode()
    publisher.publish(topic, marker, 1)
    items = watcher.messages.wait_for(lambda got: any(m.payload == marker for m in got))
    index = next(i for i, m in enumerate(items) if m.payload == marker)
    return items[:index]


def assert_subscription_refused(client: RawClient) -> None:
    """The SUBSCRIBE just sent on `client` (one filter) was refused: a SUBACK failure code, or a
    DISCONNECT with an error code, or a plain close. No answer at all fails (TimeoutError)."""
    try:
        answer = client.recv()
    except Closed:
        return
    if answer.type == codec.SUBACK:
        assert answer.reasons[0] >= 0x80, answer
        return
    assert answer.type == codec.DISCONNECT and answer.reason >= 0x80, answer
    client.wait_closed()
