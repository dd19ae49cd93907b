"""A minimal MQTT 5 server standing in for a cloud broker that refuses: CONNACK with a chosen
Maximum QoS, PUBACK with a reason code chosen per PUBLISH by a script, PINGRESP, SUBACK, DISCONNECT.

Just enough of MQTT 5 for wharfd's uplink; it keeps every PUBLISH it received and every one it
accepted (PUBACK 0x00), in arrival order."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Callable

from . import codec
from .broker import HOST

# Decides the PUBACK reason code for a PUBLISH: (topic, payload, how many PUBLISHes came before) -> code.
Script = Callable[[str, bytes, int], int]


@dataclass(frozen=True)
class Arrival:
    topic: str
    payload: bytes
    qos: int
    dup: bool
    reason: int


class ScriptedCloud:
    """Runs on its own event-loop thread; `port` is where wharfd's uplink connects."""

    def __init__(self, script: Script = lambda topic, payload, index: 0, *, maximum_qos: int | None = None) -> None:
        self.script = script
        self.maximum_qos = maximum_qos
        self._lock = threading.Lock()
        self._arrivals: list[Arrival] = []
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    def start(self) -> "ScriptedCloud":
        self._thread.start()
        assert self._ready.wait(5), "scripted cloud did not start"
        return self

    def close(self) -> None:
        def stop() -> None:
            if self._server is not None:
                self._server.close()
            self._loop.stop()

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(5)

    def arrivals(self) -> list[Arrival]:
        with self._lock:
            return list(self._arrivals)

    def accepted(self) -> list[Arrival]:
        return [a for a in self.arrivals() if a.qos == 0 or a.reason == 0]

    def wait(self, predicate: Callable[["ScriptedCloud"], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate(self):
            assert time.monotonic() < deadline, (
                f"condition not met; {len(self.arrivals())} PUBLISH received, {len(self.accepted())} accepted, "
                f"last {self.arrivals()[-3:]}"
            )
            time.sleep(0.05)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def serve() -> None:
            self._server = await asyncio.start_server(self._connection, HOST, 0)
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()

        self._loop.run_until_complete(serve())
        self._loop.run_forever()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        buffer = b""
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    return
                buffer += chunk
                while (frame := codec.split_frame(buffer)) is not None:
                    size = frame[0] + frame[1]
                    raw, buffer = buffer[:size], buffer[size:]
                    reply = self._answer(raw)
                    if reply is None:
                        return
                    if reply:
                        writer.write(reply)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    def _answer(self, raw: bytes) -> bytes | None:
        kind = raw[0] >> 4
        if kind == codec.CONNECT:
            properties = [(codec.MAXIMUM_QOS, self.maximum_qos)] if self.maximum_qos is not None else []
            return codec.packet(codec.CONNACK << 4, bytes([0, 0]) + codec.encode_properties(properties))
        if kind == codec.PUBLISH:
            packet = codec.decode(raw, codec.MQTT5)
            with self._lock:
                index = len(self._arrivals)
            reason = self.script(packet.topic, packet.payload, index) if packet.qos else 0
            with self._lock:
                self._arrivals.append(Arrival(packet.topic, packet.payload, packet.qos, packet.dup, reason))
            if packet.qos == 0:
                return b""
            properties = [(codec.REASON_STRING, f"scripted 0x{reason:02x}")] if reason else None
            return codec.ack(codec.PUBACK, packet.packet_id, reason=reason, properties=properties)
        if kind == codec.SUBSCRIBE:
            identifier = int.from_bytes(raw[codec.split_frame(raw)[0] :][:2], "big")  # type: ignore[index]
            return codec.packet(codec.SUBACK << 4, codec.u16(identifier) + b"\x00" + b"\x01")
        if kind == codec.PINGREQ:
            return codec.packet(codec.PINGRESP << 4, b"")
        if kind == codec.DISCONNECT:
            return None
        return b""
