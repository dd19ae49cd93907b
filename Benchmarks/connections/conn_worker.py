"""One process of the connection-memory benchmark's load generator: it holds idle MQTT connections
to one broker. Each connection sends CONNECT (clean session), waits for CONNACK, then sends
nothing but PINGREQ once per keep alive. Connections leave from the loopback source addresses it
is given (127.x.y.z are all loopback on Linux), so that ephemeral ports do not run out; the
target is the broker's address.

Driven by conn_bench.py over stdin/stdout, one JSON object a line:
  {"open": N}   opens N more connections; answers {"held": ..., "opened": ..., "failed": ..., "errors": {...}}
  {"status": 1} answers {"held": ..., "pings": ..., "pongs": ..., "lost": ...}
  {"close": 1}  resets every connection (SO_LINGER 0: no TIME_WAIT) and answers, then exits.

Python's standard library only: asyncio holds thousands of sockets in one process for a few
kilobytes each, and the per-connection work is a timer sweep once a second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import socket
import struct
import sys
import time

CONNECT_TIMEOUT = 30.0
OPENING_AT_ONCE = 128


def remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def mqtt_string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("!H", len(data)) + data


def connect_packet(client_id: str, version: str, keepalive: int) -> bytes:
    """CONNECT with clean session (3.1.1) or clean start and no session expiry (5)."""
    level = 5 if version == "5" else 4
    header = mqtt_string("MQTT") + bytes([level, 0x02]) + struct.pack("!H", keepalive)
    if level == 5:
        header += b"\x00"  # no properties
    body = header + mqtt_string(client_id)
    return b"\x10" + remaining_length(len(body)) + body


PINGREQ = b"\xc0\x00"


class Connection(asyncio.Protocol):
    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self.transport: asyncio.Transport | None = None
        self.connack: asyncio.Future[int] = worker.loop.create_future()
        self.buffer = b""
        self.next_ping = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= 2:
            length, multiplier, i = 0, 1, 1
            while True:
                if i >= len(self.buffer):
                    return
                byte = self.buffer[i]
                length += (byte & 0x7F) * multiplier
                multiplier *= 128
                i += 1
                if not byte & 0x80:
                    break
            if len(self.buffer) < i + length:
                return
            kind, body = self.buffer[0] >> 4, self.buffer[i : i + length]
            self.buffer = self.buffer[i + length :]
            if kind == 2 and not self.connack.done():
                self.connack.set_result(body[1] if len(body) > 1 else 255)
            elif kind == 13:
                self.worker.pongs += 1

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.connack.done():
            self.connack.set_exception(ConnectionError("closed before CONNACK"))
        elif self in self.worker.held:
            self.worker.held.discard(self)
            self.worker.lost += 1


class Worker:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.loop = asyncio.get_running_loop()
        self.sources = args.sources.split(",")
        self.held: set[Connection] = set()
        self.sequence = 0
        self.pings = 0
        self.pongs = 0
        self.lost = 0

    async def open_one(self, errors: dict[str, int]) -> bool:
        self.sequence += 1
        n = self.sequence
        source = self.sources[n % len(self.sources)]
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            # The port is chosen at connect(), by the full 4-tuple, not at bind().
            sock.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24), 1)
            sock.bind((source, 0))
            await asyncio.wait_for(self.loop.sock_connect(sock, (self.args.host, self.args.port)), CONNECT_TIMEOUT)
            _, connection = await self.loop.create_connection(lambda: Connection(self), sock=sock)
            assert connection.transport is not None
            connection.transport.write(
                connect_packet(f"{self.args.prefix}-{n}", self.args.mqtt, self.args.keepalive)
            )
            code = await asyncio.wait_for(asyncio.shield(connection.connack), CONNECT_TIMEOUT)
            if code != 0:
                errors[f"CONNACK {code}"] = errors.get(f"CONNACK {code}", 0) + 1
                connection.transport.close()
                return False
        except (OSError, TimeoutError, ConnectionError) as error:
            name = type(error).__name__ if not isinstance(error, OSError) or not error.errno else error.strerror
            errors[str(name)] = errors.get(str(name), 0) + 1
            return False
        # Pings spread over the keep alive, so that they do not all fall on one second.
        connection.next_ping = time.monotonic() + self.args.keepalive * (0.5 + (n % 100) / 200)
        self.held.add(connection)
        return True

    async def open(self, count: int) -> dict:
        errors: dict[str, int] = {}
        gate = asyncio.Semaphore(OPENING_AT_ONCE)

        async def one() -> bool:
            async with gate:
                return await self.open_one(errors)

        results = await asyncio.gather(*(one() for _ in range(count)))
        opened = sum(results)
        return {"held": len(self.held), "opened": opened, "failed": count - opened, "errors": errors}

    async def keep_alive(self) -> None:
        while True:
            await asyncio.sleep(1)
            now = time.monotonic()
            for connection in list(self.held):
                if connection.next_ping <= now and connection.transport is not None:
                    connection.transport.write(PINGREQ)
                    connection.next_ping = now + self.args.keepalive
                    self.pings += 1

    def close(self) -> dict:
        closed = 0
        for connection in list(self.held):
            transport = connection.transport
            if transport is None:
                continue
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
            closed += 1
        self.held.clear()
        return {"closed": closed}

    def status(self) -> dict:
        return {"held": len(self.held), "pings": self.pings, "pongs": self.pongs, "lost": self.lost}


async def serve(args: argparse.Namespace) -> None:
    worker = Worker(args)
    pinger = asyncio.create_task(worker.keep_alive())
    reader = asyncio.StreamReader()
    await worker.loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        command = json.loads(line)
        if "open" in command:
            answer = await worker.open(int(command["open"]))
        elif "status" in command:
            answer = worker.status()
        elif "close" in command:
            answer = worker.close()
            print(json.dumps(answer), flush=True)
            break
        else:
            answer = {"error": f"unknown command {command}"}
        print(json.dumps(answer), flush=True)
    pinger.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sources", required=True, help="comma-separated loopback source addresses")
    parser.add_argument("--mqtt", choices=("5", "3.1.1"), default="5")
    parser.add_argument("--keepalive", type=int, default=60)
    parser.add_argument("--prefix", required=True, help="client identifier prefix")
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
