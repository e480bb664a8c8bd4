"""Issue 9 finding 4: slow or greedy clients cannot hold the server (server/transport.py).

A real uvicorn server (the protocol class `seatkeeper serve` uses) in a thread, and raw sockets:
oversized and too many headers are 431, headers that do not arrive in time are 408, an idle body
is cut, connections over the cap are closed at once while `/healthz` keeps answering. Timeouts
are set short here (fractions of a second) so that the tests wait little.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from seatkeeper.server.app import create_app
from seatkeeper.server.settings import Settings
from seatkeeper.server.transport import LimitedHttpToolsProtocol, TransportLimits

LIMITS = TransportLimits(
    max_header_bytes=4096,
    max_headers=20,
    header_timeout=0.5,
    body_timeout=0.5,
    max_connections=8,
    keep_alive=0.5,
)


@pytest.fixture
def server(clock, monkeypatch) -> Iterator[tuple[str, int]]:
    monkeypatch.setattr(LimitedHttpToolsProtocol, "limits", LIMITS)
    monkeypatch.setattr(LimitedHttpToolsProtocol, "open_connections", 0)
    app = create_app("memory://", clock=clock, operator_token="op")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", **LIMITS.uvicorn_settings()
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not running.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield "127.0.0.1", port
    running.should_exit = True
    thread.join(timeout=10)


def _connect(address) -> socket.socket:
    connection = socket.create_connection(address, timeout=5)
    return connection


def _read_all(connection: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = connection.recv(65536)
        except (ConnectionResetError, TimeoutError):
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _status(response: bytes) -> int:
    return int(response.split(b" ", 2)[1]) if response else 0


def _healthz(address) -> int:
    with _connect(address) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        return _status(_read_all(connection))


def test_finding_4_a_huge_header_is_431(server):
    with _connect(server) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: " + b"a" * 100_000)
        assert _status(_read_all(connection)) == 431
    assert _healthz(server) == 200


def test_finding_4_too_many_headers_are_431(server):
    headers = b"".join(b"x-h%d: v\r\n" % i for i in range(LIMITS.max_headers + 1))
    with _connect(server) as connection:
        connection.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n" + headers + b"\r\n")
        response = _read_all(connection)
    assert _status(response) == 431
    assert b"more than 20 headers" in response


def test_headers_within_the_limits_are_served(server):
    headers = b"".join(b"x-h%d: v\r\n" % i for i in range(LIMITS.max_headers - 2))
    with _connect(server) as connection:
        connection.sendall(
            b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n" + headers + b"\r\n"
        )
        assert _status(_read_all(connection)) == 200


def test_finding_4_headers_sent_a_byte_at_a_time_are_cut_at_the_header_timeout(server):
    with _connect(server) as connection:
        started = time.monotonic()
        connection.sendall(b"GET /healthz HTTP/1.1\r\n")
        for _ in range(20):  # a byte every 0.1 s: never idle, never complete
            time.sleep(0.1)
            try:
                connection.sendall(b"x")
            except OSError:
                break
        response = _read_all(connection)
        assert _status(response) == 408
        assert time.monotonic() - started < 5


def test_finding_4_a_connection_that_sends_nothing_is_closed(server):
    with _connect(server) as connection:
        assert _status(_read_all(connection)) == 408


def test_finding_4_an_idle_body_is_cut(server):
    with _connect(server) as connection:
        connection.sendall(
            b"POST /graphql HTTP/1.1\r\nhost: x\r\nauthorization: Bearer op\r\n"
            b"content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"
        )
        started = time.monotonic()
        _read_all(connection)  # closed by the server, not answered
        assert time.monotonic() - started < 5


def test_finding_4_connections_over_the_cap_are_closed_and_healthz_keeps_answering(server):
    held = [_connect(server) for _ in range(LIMITS.max_connections)]
    try:
        time.sleep(0.1)
        extra = _connect(server)
        assert _read_all(extra) == b""  # closed at once, nothing read
        extra.close()
    finally:
        for connection in held:
            connection.close()
    time.sleep(0.1)
    assert _healthz(server) == 200


def test_limits_come_from_the_environment():
    """Through the server's settings (server/settings.py, issue 10), which serve and its workers
    install in the protocol class."""
    environ = {
        "SEATKEEPER_STORAGE": "memory://",
        "SEATKEEPER_MAX_HEADERS": "7",
        "SEATKEEPER_BODY_TIMEOUT": "2.5",
    }
    limits = Settings.from_environment(environ).transport
    assert (limits.max_headers, limits.body_timeout) == (7, 2.5)
    assert limits.max_connections == TransportLimits().max_connections == 2000


def test_a_body_larger_than_the_header_limit_is_not_taken_for_headers(server):
    """Issue 11 (found by the SQLite crash test): the chunk that completed a large body was
    counted as the next request's header bytes, so every import over 16 KB was refused 431."""
    body = b'{"query": "{ __typename }", "padding": "' + b"x" * 100_000 + b'"}'
    with _connect(server) as connection:
        connection.sendall(
            b"POST /graphql HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            b"authorization: Bearer op\r\n"
            b"connection: close\r\ncontent-length: %d\r\n\r\n" % len(body)
        )
        time.sleep(0.05)  # the body arrives in its own large chunks, as a big upload does
        connection.sendall(body)
        assert _status(_read_all(connection)) == 200
