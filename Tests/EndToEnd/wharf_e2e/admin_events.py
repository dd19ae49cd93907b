"""A client of the admin API's server-sent events (GET /api/v1/events) on a raw socket: sends
the request, reads the head, then undoes the chunked transfer coding and splits events as a
browser's EventSource does (event, data lines, comments)."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Event:
    name: str
    data: str = ""
    comment: str | None = None

    def json(self) -> Any:
        return json.loads(self.data)


@dataclass
class EventStream:
    port: int
    timeout: float = 10.0
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""  # the answer's body when it is not a stream
    _sock: socket.socket | None = None
    _raw: bytes = b""  # received, not yet de-chunked
    _text: bytes = b""  # de-chunked, not yet split into events
    ended: bool = False  # the server ended the stream (last chunk or closed connection)

    def open(self, headers: str = "") -> "EventStream":
        self._sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        self._sock.sendall(
            f"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{headers}\r\n".encode()
        )
        while b"\r\n\r\n" not in self._raw:
            self._receive()
        head, self._raw = self._raw.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split(" ")[1])
        self.headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        if "content-length" in self.headers:
            length = int(self.headers["content-length"])
            while len(self._raw) < length:
                self._receive()
            self.body, self._raw = self._raw[:length], self._raw[length:]
        return self

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def _receive(self) -> None:
        assert self._sock is not None
        chunk = self._sock.recv(65536)
        if not chunk:
            self.ended = True
            raise EOFError("the server closed the connection")
        self._raw += chunk

    def _dechunk(self) -> None:
        """Moves every complete chunk from _raw to _text; the last (empty) chunk ends the stream."""
        while b"\r\n" in self._raw:
            size_line, rest = self._raw.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            if len(rest) < size + 2:
                return
            if size == 0:
                self.ended = True
                self._raw = b""
                return
            self._text += rest[:size]
            self._raw = rest[size + 2 :]

    def next_event(self, timeout: float | None = None) -> Event:
        """The next event or comment; EOFError when the stream ends, TimeoutError after `timeout`."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            self._dechunk()
            text = self._text.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            if b"\n\n" in text:
                block, rest = text.split(b"\n\n", 1)
                self._text = rest
                return _parse(block.decode())
            if self.ended:
                raise EOFError("the stream ended")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no event in time")
            assert self._sock is not None
            self._sock.settimeout(remaining)
            try:
                self._receive()
            except socket.timeout as error:
                raise TimeoutError("no event in time") from error

    def wait_for(self, name: str, predicate=lambda event: True, timeout: float = 15.0) -> Event:
        """The first event called `name` (or comment, name ':') that satisfies `predicate`."""
        deadline = time.monotonic() + timeout
        while True:
            event = self.next_event(max(0.01, deadline - time.monotonic()))
            if event.name == name and predicate(event):
                return event


def _parse(block: str) -> Event:
    name = "message"
    data: list[str] = []
    comment = None
    for line in block.split("\n"):
        if line.startswith(":"):
            comment = line[1:].strip()
            continue
        key, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if key == "event":
            name = value
        elif key == "data":
            data.append(value)
    if comment is not None and not data:
        return Event(":", comment=comment)
    return Event(name, "\n".join(data))
