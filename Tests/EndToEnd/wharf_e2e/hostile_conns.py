"""Connection-level attacks for the hostile-client suite (test_14): connect/close cycles,
slowloris, wrong passwords at full speed, mutated packet sequences, many connections.

Each attack runs on a few threads (blocking sockets release the GIL), has a deadline and
a `keep_going` callback, and returns counts for the case to judge and report.
"""

from __future__ import annotations

import random
import select
import selectors
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from collections.abc import Callable

from . import codec
from .hostile_load import Address, KeepGoing, PacketStream, reset
from .mutate import hostile_sequence

V311, V5 = codec.MQTT311, codec.MQTT5


@dataclass
class Tally:
    """Outcomes of an attack, by name, and the first few unexpected ones in full."""

    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: str, error: str | None = None) -> None:
        with self._lock:
            self.counts[outcome] += 1
            if error is not None and len(self.errors) < 5:
                self.errors.append(error)

    def __str__(self) -> str:
        return ", ".join(f"{name} {count}" for name, count in sorted(self.counts.items()))


def on_threads(threads: int, work: Callable[[int], None]) -> None:
    """Runs work(index) on `threads` threads and waits for all."""
    pool = [threading.Thread(target=work, args=(index,), daemon=True) for index in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def _readable(sock: socket.socket) -> bool:
    """Whether the socket has data or an EOF waiting (poll: descriptors may exceed select's 1024)."""
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def _wait_closed(stream: PacketStream, seconds: float) -> bool:
    """True when the broker closed the connection within `seconds` (packets before it are skipped)."""
    end = time.monotonic() + seconds
    try:
        while stream.next(end) is not None:
            pass
        return True
    except TimeoutError:
        return False
    except (OSError, codec.MalformedError):
        return True


def connect_close_cycles(
    address: Address, cycles: int, *, threads: int, deadline: float, keep_going: KeepGoing
) -> Tally:
    """`cycles` complete CONNECT/CONNACK exchanges, each closed one of four ways.

    Cycle kinds rotate: a 3.1.1 clean session closed with DISCONNECT; an MQTT 5 session that
    subscribes and is reset; a 3.1.1 persistent session from a small pool of client ids per
    thread (resumed, never accumulated) closed with DISCONNECT; an MQTT 5 session reset right
    after its CONNACK. DISCONNECTs wait for the broker's close, so the TIME_WAIT stays there.
    """
    tally = Tally()

    def work(index: int) -> None:
        for cycle in range(index, cycles, threads):
            if time.monotonic() > deadline or not keep_going():
                tally.add("not run")
                continue
            kind = cycle % 4
            version = V5 if kind in (1, 3) else V311
            client_id = f"hostile-pool-{index}-{cycle % 8}" if kind == 2 else f"hostile-cycle-{cycle}"
            try:
                with socket.create_connection(address, timeout=10) as sock:
                    stream = PacketStream(sock)
                    sock.sendall(codec.connect(client_id, version=version, clean=kind != 2))
                    frame = stream.next(time.monotonic() + 10)
                    if frame is None or frame[0] >> 4 != codec.CONNACK:
                        tally.add("no CONNACK", f"cycle {cycle}: {frame!r}")
                        continue
                    if kind == 1:
                        sock.sendall(codec.subscribe(1, [(f"hostile/cycle/{cycle}/#", 1)], version=V5))
                        stream.next(time.monotonic() + 10)
                    if kind in (0, 2):
                        sock.sendall(codec.disconnect(version=version))
                        if not _wait_closed(stream, 10):
                            tally.add("not closed after DISCONNECT", f"cycle {cycle}")
                            continue
                    else:
                        reset(sock)
                    tally.add("ok")
            except (OSError, TimeoutError, codec.MalformedError) as error:
                tally.add("error", f"cycle {cycle}: {error!r}")

    on_threads(threads, work)
    return tally


class Slowloris:
    """Connections that send the first few bytes of a CONNECT and then nothing."""

    def __init__(self, address: Address, count: int, *, seed: int) -> None:
        rng = random.Random(seed)
        self.socks: list[socket.socket] = []
        self.failed: list[str] = []
        for index in range(count):
            frame = codec.connect(f"slowloris-{index}", version=rng.choice((V311, V5)))
            try:
                sock = socket.create_connection(address, timeout=10)
                sock.sendall(frame[: rng.randrange(1, len(frame))])
                self.socks.append(sock)
            except OSError as error:
                self.failed.append(f"connection {index}: {error!r}")

    def still_open(self) -> int:
        """How many connections the broker has not closed yet."""
        open_count = 0
        for sock in self.socks:
            if not _readable(sock):
                open_count += 1
                continue
            try:
                if sock.recv(1, socket.MSG_PEEK):
                    open_count += 1  # it answered something; still open
            except OSError:
                pass
        return open_count

    def close(self) -> None:
        for sock in self.socks:
            reset(sock)


def wrong_password_flood(
    address: Address, username: str, *, in_flight: int, deadline: float, keep_going: KeepGoing
) -> Tally:
    """CONNECTs of a known user with wrong passwords until the deadline, `in_flight` at a time:
    each on a new non-blocking connection, the next one opened as soon as one is answered."""
    tally = Tally()
    selector = selectors.DefaultSelector()
    attempt = 0

    def open_one() -> None:
        nonlocal attempt
        attempt += 1
        version = V5 if attempt % 2 else V311
        frame = codec.connect(
            f"hostile-guess-{attempt}", version=version, username=username, password=f"guess{attempt}".encode()
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.connect_ex(address)
        selector.register(sock, selectors.EVENT_WRITE, [frame, b"", time.monotonic()])

    def finish(sock: socket.socket, outcome: str, error: str | None = None) -> None:
        selector.unregister(sock)
        reset(sock)
        tally.add(outcome, error)

    for _ in range(in_flight):
        open_one()
    while selector.get_map() and time.monotonic() < deadline + 30:
        opening = time.monotonic() < deadline and keep_going()
        for key, events in selector.select(0.2):
            sock, state = key.fileobj, key.data
            try:
                if events & selectors.EVENT_WRITE:
                    sent = sock.send(state[0])
                    state[0] = state[0][sent:]
                    if not state[0]:
                        selector.modify(sock, selectors.EVENT_READ, state)
                    continue
                chunk = sock.recv(64)
            except BlockingIOError:
                continue
            except OSError as error:
                finish(sock, "error", f"{error!r}")
            else:
                state[1] += chunk
                if not chunk:
                    finish(sock, "closed without CONNACK")
                elif len(state[1]) < 4:
                    continue
                elif state[1][0] >> 4 == codec.CONNACK and state[1][3] != 0:  # the reason code, 3.1.1 and 5
                    finish(sock, "refused")
                else:
                    finish(sock, "ACCEPTED", f"a wrong password was answered {state[1]!r}")
            if opening:
                open_one()
        for key in list(selector.get_map().values()):
            if time.monotonic() - key.data[2] > 30:
                finish(key.fileobj, "unanswered after 30 s")  # type: ignore[arg-type]
    for key in list(selector.get_map().values()):
        finish(key.fileobj, "unanswered at the end")  # type: ignore[arg-type]
    selector.close()
    return tally


def mutated_clients(
    address: Address, connections: int, *, threads: int, seed: int, deadline: float, keep_going: KeepGoing
) -> Tally:
    """Connections that send a hostile packet sequence (see mutate.py), linger briefly, then close.

    The broker may answer anything or close; a connection it leaves open after the sequence is
    closed by the client after 0.3 s, alternately with DISCONNECT, a FIN or a RST.
    """
    tally = Tally()

    def work(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        for number in range(index, connections, threads):
            if time.monotonic() > deadline or not keep_going():
                tally.add("not run")
                continue
            name, packets = hostile_sequence(rng, number)
            try:
                sock = socket.create_connection(address, timeout=10)
            except OSError as error:
                tally.add("connect failed", f"{name}: {error!r}")
                continue
            stream = PacketStream(sock)
            try:
                for data in packets:
                    sock.sendall(data)
                closed = _wait_closed(stream, 0.3)
                tally.add(f"{name}: {'closed by broker' if closed else 'left open'}")
                if not closed:
                    ending = number % 3
                    if ending == 0:
                        sock.sendall(codec.disconnect(version=V311))
                    elif ending == 1:
                        sock.shutdown(socket.SHUT_WR)
                        _wait_closed(stream, 0.5)
            except OSError:
                tally.add(f"{name}: closed by broker")
            finally:
                reset(sock)

    on_threads(threads, work)
    return tally


def hold_connections(address: Address, count: int, *, connect: bool) -> tuple[list[socket.socket], int]:
    """Opens `count` TCP connections (each sending a CONNECT when `connect`); returns the sockets
    and how many could not be opened. Nothing is read here."""
    socks, failed = [], 0
    for index in range(count):
        try:
            sock = socket.create_connection(address, timeout=5)
            if connect:
                sock.sendall(codec.connect(f"hostile-hold-{index}", version=V311))
            socks.append(sock)
        except OSError:
            failed += 1
    return socks, failed


def connacks_received(socks: list[socket.socket]) -> tuple[int, int]:
    """(accepted CONNACKs, closed) among the held connections, without blocking."""
    accepted = closed = 0
    for sock in socks:
        if not _readable(sock):
            continue
        try:
            data = sock.recv(4, socket.MSG_PEEK)
        except OSError:
            closed += 1
            continue
        if not data:
            closed += 1
        elif data[0] == 0x20 and len(data) == 4 and data[3] == 0:
            accepted += 1
    return accepted, closed
