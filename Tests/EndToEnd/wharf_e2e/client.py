"""paho-mqtt clients (MQTT 3.1, 3.1.1 and 5.0) with blocking, bounded helpers for tests."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

V31 = paho.MQTTv31
V311 = paho.MQTTv311
V5 = paho.MQTTv5
WAIT = 10.0

_names = itertools.count(1)

def unique_id(prefix: str = "e2e") -> str:
    return f"{prefix}-{next(_names)}-{int(time.time() * 1000) % 100000}"


def publish_properties(**values: object) -> Properties:
    """paho Properties for a PUBLISH, e.g. publish_properties(ResponseTopic="r", UserProperty=[("a", "1")])."""
    props = Properties(PacketTypes.PUBLISH)
    for name, value in values.items():
        setattr(props, name, value)
    return props


def connect_properties(**values: object) -> Properties:
    props = Properties(PacketTypes.CONNECT)
    for name, value in values.items():
        setattr(props, name, value)
    return props


@dataclass
class Received:
    """One delivered application message, detached from paho's objects."""

    topic: str
    payload: bytes
    qos: int
    retain: bool
    dup: bool
    properties: dict[str, object] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8", "replace")


@dataclass
class Connack:
    reason_code: int
    session_present: bool
    properties: dict[str, object]


class Collector:
    """Thread-safe list of received items with bounded blocking waits."""

    def __init__(self) -> None:
        self.items: list[Received] = []
        self._cond = threading.Condition()

    def add(self, item: Received) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = WAIT) -> list[Received]:
        with self._cond:
            if not self._cond.wait_for(lambda: predicate(self.items), timeout):
                raise AssertionError(f"condition not met within {timeout} s; received {self.items}")
            return list(self.items)

    def wait(self, count: int, timeout: float = WAIT, topic: str | None = None) -> list[Received]:
        """Waits until at least `count` messages (on `topic`, if given) arrived; returns them."""

        def matching(items: list[Received]) -> list[Received]:
            return [m for m in items if topic is None or m.topic == topic]

        self.wait_for(lambda items: len(matching(items)) >= count, timeout)
        return matching(self.snapshot())

    def snapshot(self) -> list[Received]:
        with self._cond:
            return list(self.items)

    def clear(self) -> None:
        with self._cond:
            self.items.clear()


class MqttClient:
    """A paho client whose connect, subscribe, publish and disconnect block until acknowledged."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        version: int = V5,
        client_id: str | None = None,
        clean: bool = True,
        keepalive: int = 60,
        session_expiry: int | None = None,
        connect_props: dict[str, object] | None = None,
        will: tuple[str, bytes | str, int, bool] | None = None,
        will_props: dict[str, object] | None = None,
        username: str | None = None,
        password: str | None = None,
        transport: str = "tcp",
    ) -> None:
        self.host, self.port = host, port
        self.version = version
        self.client_id = unique_id() if client_id is None else client_id
        self.clean = clean
        self.keepalive = keepalive
        self.session_expiry = session_expiry
        self.connect_props = dict(connect_props or {})
        self.messages = Collector()
        self.connack: Connack | None = None
        self.disconnect_reason: int | None = None
        self.disconnected = threading.Event()
        self._connected = threading.Event()
        self._acks: dict[int, object] = {}
        self._ack_cond = threading.Condition()
        self.paho = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=version,
            clean_session=clean if version != V5 else None,
            reconnect_on_failure=False,
            transport=transport,  # "websockets": MQTT over WebSocket (path /mqtt, subprotocol mqtt)
        )
        if will is not None:
            topic, payload, qos, retain = will
            props = None
            if will_props:
                props = Properties(PacketTypes.WILLMESSAGE)
                for name, value in will_props.items():
                    setattr(props, name, value)
            self.paho.will_set(topic, payload, qos, retain, properties=props)
        if username is not None:
            self.paho.username_pw_set(username, password)
        self.paho.on_connect = self._on_connect
        self.paho.on_disconnect = self._on_disconnect
        self.paho.on_message = self._on_message
        self.paho.on_subscribe = self._on_ack
        self.paho.on_unsubscribe = self._on_ack

    # -- callbacks (paho network thread) ----------------------------------- #

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        self.connack = Connack(int(reason_code.value), bool(flags.session_present), _props_dict(properties))
        self._connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        self.disconnect_reason = int(reason_code.value)
        self._connected.set()
        self.disconnected.set()

    def _on_message(self, client, userdata, message: paho.MQTTMessage) -> None:  # noqa: ANN001
        props = _props_dict(getattr(message, "properties", None))
        self.messages.add(
            Received(message.topic, bytes(message.payload), message.qos, bool(message.retain), bool(message.dup), props)
        )

    def _on_ack(self, client, userdata, mid, reason_codes, properties) -> None:  # noqa: ANN001
        with self._ack_cond:
            self._acks[mid] = [int(rc.value) for rc in reason_codes]
            self._ack_cond.notify_all()

    # -- blocking operations ------------------------------------------------ #

    def connect(self, *, expect_success: bool = True, clean: bool | None = None, timeout: float = WAIT) -> Connack:
        props = None
        if self.version == V5:
            values = dict(self.connect_props)
            if self.session_expiry is not None:
                values["SessionExpiryInterval"] = self.session_expiry
            if values:
                props = connect_properties(**values)
        self._connected.clear()
        self.disconnected.clear()
        self.connack = None
        kwargs: dict[str, object] = {"keepalive": self.keepalive, "properties": props}
        if self.version == V5:
            kwargs["clean_start"] = self.clean if clean is None else clean
        self.paho.connect(self.host, self.port, **kwargs)  # type: ignore[arg-type]
        self.paho.loop_start()
        if not self._connected.wait(timeout):
            raise AssertionError(f"{self.client_id}: no CONNACK within {timeout} s")
        if self.connack is None:
            raise AssertionError(f"{self.client_id}: connection closed before CONNACK (reason {self.disconnect_reason})")
        if expect_success:
            assert self.connack.reason_code == 0, f"{self.client_id}: CONNACK refused: {self.connack}"
        return self.connack

    def subscribe(
        self,
        topic: str | list[tuple[str, int]],
        qos: int = 0,
        *,
        options: SubscribeOptions | None = None,
        sub_id: int | None = None,
        timeout: float = WAIT,
    ) -> list[int]:
        """Subscribes and returns the SUBACK reason codes (granted QoS or failure)."""
        props = None
        if sub_id is not None:
            props = Properties(PacketTypes.SUBSCRIBE)
            props.SubscriptionIdentifier = sub_id
        if isinstance(topic, list):
            rc, mid = self.paho.subscribe(topic, properties=props)
        elif options is not None:
            rc, mid = self.paho.subscribe(topic, options=options, properties=props)
        else:
            rc, mid = self.paho.subscribe(topic, qos, properties=props)
        assert rc == paho.MQTT_ERR_SUCCESS and mid is not None, f"subscribe failed locally: {rc}"
        return self._wait_ack(mid, timeout)  # type: ignore[return-value]

    def unsubscribe(self, topic: str | list[str], timeout: float = WAIT) -> list[int]:
        rc, mid = self.paho.unsubscribe(topic)
        assert rc == paho.MQTT_ERR_SUCCESS and mid is not None
        return self._wait_ack(mid, timeout)  # type: ignore[return-value]

    def _wait_ack(self, mid: int, timeout: float) -> object:
        with self._ack_cond:
            if not self._ack_cond.wait_for(lambda: mid in self._acks, timeout):
                raise AssertionError(f"{self.client_id}: no acknowledgement for packet {mid} within {timeout} s")
            return self._acks.pop(mid)

    def publish(
        self,
        topic: str,
        payload: bytes | str = b"",
        qos: int = 0,
        retain: bool = False,
        *,
        properties: Properties | None = None,
        timeout: float = WAIT,
    ) -> None:
        """Publishes and waits until the QoS flow completed (for QoS 0: until written)."""
        info = self.paho.publish(topic, payload, qos, retain, properties=properties)
        assert info.rc == paho.MQTT_ERR_SUCCESS, f"publish failed locally: {info.rc}"
        info.wait_for_publish(timeout)
        assert info.is_published(), f"{self.client_id}: publish to {topic} not completed within {timeout} s"

    def disconnect(self, *, reason_code: int | None = None) -> None:
        if reason_code is not None:
            from paho.mqtt.reasoncodes import ReasonCode

            self.paho.disconnect(reasoncode=ReasonCode(PacketTypes.DISCONNECT, identifier=reason_code))
        else:
            self.paho.disconnect()
        self.disconnected.wait(WAIT)
        self.paho.loop_stop()

    def drop(self) -> None:
        """Closes the TCP connection without DISCONNECT (an abnormal disconnect)."""
        sock = self.paho.socket()
        self.paho.loop_stop()
        if sock is not None:
            try:
                import socket as _socket

                sock.shutdown(_socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self) -> None:
        """Best-effort cleanup at teardown."""
        try:
            if self.paho.is_connected():
                self.paho.disconnect()
        except Exception:  # noqa: BLE001 - teardown must not mask the test's result
            pass
        self.paho.loop_stop()

    @property
    def is_connected(self) -> bool:
        return self.paho.is_connected()


def _props_dict(props: Properties | None) -> dict[str, object]:
    """The properties that are present, by paho's compressed names (e.g. "UserProperty")."""
    if props is None:
        return {}
    out: dict[str, object] = {}
    for name in props.names:
        compressed = name.replace(" ", "")
        if hasattr(props, compressed):
            out[compressed] = getattr(props, compressed)
    return out


def options(qos: int = 0, **kwargs: object) -> SubscribeOptions:
    """SubscribeOptions(qos, noLocal=..., retainAsPublished=..., retainHandling=...)."""
    return SubscribeOptions(qos=qos, **kwargs)  # type: ignore[arg-type]


def topics_of(messages: Iterable[Received]) -> list[str]:
    return [m.topic for m in messages]
