"""46 admin API, server-sent events at /api/v1/events: status on connect and every 2 s, log lines
and samples as they come, a bounded number of streams, and streams that end when the client goes
away or the daemon stops."""

from __future__ import annotations

import socket
import struct
import time

import pytest

from wharf_e2e.admin import admin_yaml, get, metric, wait_for_admin, wait_until
from wharf_e2e.admin_events import EventStream
from wharf_e2e.broker import Broker, free_port

pytestmark = pytest.mark.wharf_only(reason="Wharf's admin HTTP API")

ADMIN_PORT = free_port()
REFUSAL = "refusing client: max_connections (1) reached"


def _stream(**kwargs) -> EventStream:
    return EventStream(ADMIN_PORT, **kwargs).open()


@pytest.mark.broker_config(max_connections=1, wharf_extra_yaml=admin_yaml(ADMIN_PORT, "  history_interval: 1s\n"))
def test_status_samples_and_log_lines_arrive(broker: Broker, raw) -> None:
    wait_for_admin(ADMIN_PORT)
    stream = _stream()
    try:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert stream.headers["cache-control"] == "no-store"
        assert stream.headers.get("transfer-encoding") == "chunked"
        first = stream.next_event()
        assert first.name == "status", "the status comes on connect"
        assert first.json()["gateway_id"] and first.json()["broker"]["clients_connected"] == 0

        holder = raw()
        holder.connect("holder")
        # The next statuses follow the broker.
        stream.wait_for("status", lambda e: e.json()["broker"]["clients_connected"] == 1)
        sample = stream.wait_for("sample")
        assert set(sample.json()) == {
            "time",
            "messages_in_per_second",
            "messages_out_per_second",
            "queue_depth",
            "queue_bytes",
            "connected_clients",
        }
        refused = raw()
        refused.connect("refused", expect_reason=None)
        log = stream.wait_for("log", lambda e: e.json()["message"] == REFUSAL)
        assert log.json()["level"] == "warning"
        assert log.json()["label"] == "wharf.broker"
    finally:
        stream.close()


@pytest.mark.broker_config(wharf_extra_yaml=admin_yaml(ADMIN_PORT, "  max_event_streams: 2\n"))
def test_streams_are_bounded_and_tools_still_get_in(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    streams = [_stream(), _stream()]
    try:
        for stream in streams:
            assert stream.status == 200
            assert stream.next_event().name == "status"
        refused = _stream()
        assert refused.status == 503
        assert b"max_event_streams" in refused.body
        assert refused.headers.get("retry-after") == "5"
        refused.close()
        # The streams do not take the connections of the other endpoints.
        assert get(ADMIN_PORT, "/healthz").status == 200
        assert get(ADMIN_PORT, "/api/v1/status").status == 200
        assert metric(get(ADMIN_PORT, "/metrics").body, "wharf_admin_requests_refused_total", 'reason="event-streams"') == 1
    finally:
        for stream in streams:
            stream.close()


@pytest.mark.broker_config(wharf_extra_yaml=admin_yaml(ADMIN_PORT, "  max_event_streams: 1\n"))
def test_a_client_that_goes_away_frees_its_stream(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    stream = _stream()
    for _ in range(3):
        assert stream.status == 200
        stream.next_event()
        _reset(stream)
        # The one place is free again (a refused attempt is closed as it is dropped).
        stream = wait_until(lambda: (s := _stream()).status == 200 and s, what="the place freed")
    _reset(stream)


def _reset(stream: EventStream) -> None:
    """Ends the connection abruptly: a reset (RST), as when a laptop drops off the network and
    comes back, not a polite FIN."""
    assert stream._sock is not None
    stream._sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    stream.close()


@pytest.mark.broker_config(wharf_extra_yaml=admin_yaml(ADMIN_PORT, "  max_event_streams: 1\n"))
def test_a_client_that_half_closes_frees_its_stream(broker: Broker) -> None:
    """A client that only shuts its sending side (FIN) is noticed at the next write."""
    wait_for_admin(ADMIN_PORT)
    stream = _stream()
    stream.next_event()
    assert stream._sock is not None
    stream._sock.shutdown(socket.SHUT_RDWR)
    stream.close()
    wait_until(
        lambda: (s := _stream()).status == 200 and (s.close() or True), timeout=20, what="the place freed"
    )


@pytest.mark.broker_config(wharf_extra_yaml=admin_yaml(ADMIN_PORT))
def test_streams_end_cleanly_at_shutdown(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    streams = [_stream(), _stream()]
    for stream in streams:
        stream.next_event()
    started = time.monotonic()
    broker.stop()  # SIGTERM; a failure to exit in time or a crash is reported by the fixture
    for stream in streams:
        with pytest.raises(EOFError):
            while True:
                stream.next_event(timeout=10)
        stream.close()
    assert time.monotonic() - started < 10, "the daemon waited for the streams"
    broker.check_clean_exit()


@pytest.mark.broker_config(wharf_extra_yaml=admin_yaml(ADMIN_PORT, "  max_event_streams: 0\n"))
def test_zero_streams_turns_them_off(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    refused = _stream()
    assert refused.status == 503
    assert b"off" in refused.body


@pytest.mark.broker_config(wharf_extra_yaml=admin_yaml(ADMIN_PORT))
def test_only_get_and_head(broker: Broker) -> None:
    wait_for_admin(ADMIN_PORT)
    with socket.create_connection(("127.0.0.1", ADMIN_PORT), timeout=5) as connection:
        connection.sendall(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 405 ")
    with socket.create_connection(("127.0.0.1", ADMIN_PORT), timeout=5) as connection:
        connection.sendall(b"HEAD /api/v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert b"text/event-stream" in answer
