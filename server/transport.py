"""Transport limits (issue 9 finding 4): what one connection may hold of the server.

Found: 50 connections sending a byte every 10-20 s were all held; 20,400 connections exhausted the
file descriptors and `/healthz` failed for the whole attack; a 64 MB header and 2M headers were
accepted. uvicorn has a keep-alive timeout (used) but no header count, no header or body read
timeout, and with httptools no header size bound; a connection cap (`limit_concurrency`) that
still accepts the socket. So the HTTP protocol class is extended here:

- a request line and headers larger than `max_header_bytes`, or more than `max_headers` headers:
  431, connection closed;
- headers not complete `header_timeout` seconds after the connection opened (or after the first
  byte of a next request): 408, connection closed;
- a body that stays idle `body_timeout` seconds while the server waits for it: connection closed
  (the application sees a disconnect);
- more than `max_connections` open connections in this process: the new one is closed at once,
  before anything is read, so descriptors and memory stay bounded and `/healthz` keeps answering
  on the connections already open.

Per process: with several workers each holds its own count. uvicorn builds the protocol from
the class, which a worker process imports by name, so the limits are a class attribute, set by
`install_limits` from the server's settings before uvicorn serves (server/settings.py; in a worker
process, by the app factory, which uvicorn calls before it builds any protocol); never set, the
defaults below apply.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, ClassVar

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


@dataclass(frozen=True)
class TransportLimits:
    """The limits of one server process (flags and variables: server/settings.py)."""

    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    header_timeout: float = 10.0
    body_timeout: float = 10.0
    max_connections: int = 2_000
    keep_alive: float = 5.0

    def uvicorn_settings(self) -> dict[str, Any]:
        """What uvicorn itself enforces: the keep-alive timeout, and this protocol class."""
        return {"timeout_keep_alive": self.keep_alive, "http": LimitedHttpToolsProtocol}


def install_limits(limits: TransportLimits) -> None:
    """The limits every connection of this process gets from now on (see the module docstring)."""
    LimitedHttpToolsProtocol.limits = limits


class _Refused(Exception):
    """Raised inside a parser callback to stop parsing; the status is answered by data_received."""


_REASONS = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits of the module docstring."""

    limits: ClassVar[TransportLimits] = TransportLimits()  # see install_limits
    open_connections: ClassVar[int] = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._limits: TransportLimits = LimitedHttpToolsProtocol.limits
        self._timer: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._header_count = 0
        self._refusal: tuple[int, str] | None = None
        self._counted = False
        self._waiting_for = "headers"
        self._pending_header_bytes = 0
        self._message_completed = False

    # ---------------------------------------------------------------- connections

    # asyncio's BaseProtocol takes a BaseTransport; a stream server hands a Transport.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn's own method narrows it alike
        super().connection_made(transport)
        if LimitedHttpToolsProtocol.open_connections >= self._limits.max_connections:
            transport.abort()  # nothing read, nothing answered: the cheapest refusal
            return
        LimitedHttpToolsProtocol.open_connections += 1
        self._counted = True
        self._arm(self._limits.header_timeout, "headers")

    def connection_lost(self, exc: Exception | None) -> None:
        if self._counted:
            LimitedHttpToolsProtocol.open_connections -= 1
            self._counted = False
        self._disarm()
        super().connection_lost(exc)

    # ---------------------------------------------------------------- parsing

    def data_received(self, data: bytes) -> None:
        if self._refusal is not None:
            return
        if self._timer is None and self._waiting_for == "headers":
            self._arm(self._limits.header_timeout, "headers")  # the first byte of a next request
        began_in_headers = self._waiting_for == "headers"
        self._message_completed = False
        try:
            super().data_received(data)
        except _Refused:  # pragma: no cover - httptools wraps callback errors (below)
            pass
        # httptools hands a header over only once it is complete (it buffers a partial one, of
        # any size): the bytes of a request still in its headers are counted here as they come.
        # A chunk that ended a body (a message completed in it) is not header bytes, although
        # the parser waits for headers again after it (issue 11: every body over the limit was
        # refused 431).
        if (
            self._refusal is None
            and began_in_headers
            and not self._message_completed
            and self._waiting_for == "headers"
            and self.parser is not None
        ):
            self._pending_header_bytes += len(data)
            if self._pending_header_bytes > self._limits.max_header_bytes:
                self._refusal = (431, self._too_large())
                self._answer_and_close(*self._refusal)

    def send_400_response(self, msg: str) -> None:
        # httptools turns an exception raised in a callback into a parser error, which uvicorn
        # answers 400: ours carry their own status.
        if self._refusal is not None:
            status, message = self._refusal
            self._answer_and_close(status, message)
            return
        super().send_400_response(msg)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._header_count = 0
        self._waiting_for = "headers"

    def on_url(self, url: bytes) -> None:
        self._count_header_bytes(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_count += 1
        if self._header_count > self._limits.max_headers:
            self._refuse(431, f"more than {self._limits.max_headers} headers")
        self._count_header_bytes(len(name) + len(value))
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._pending_header_bytes = 0
        self._disarm()
        super().on_headers_complete()
        self._waiting_for = "body"
        self._arm(self._limits.body_timeout, "body")

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._arm(self._limits.body_timeout, "body")

    def on_message_complete(self) -> None:
        self._message_completed = True
        self._pending_header_bytes = 0
        self._disarm()
        self._waiting_for = "headers"
        super().on_message_complete()

    # ---------------------------------------------------------------- limits

    def _count_header_bytes(self, size: int) -> None:
        self._header_bytes += size
        if self._header_bytes > self._limits.max_header_bytes:
            self._refuse(431, self._too_large())

    def _too_large(self) -> str:
        return f"request line and headers larger than {self._limits.max_header_bytes} bytes"

    def _refuse(self, status: int, message: str) -> None:
        self._refusal = (status, message)
        raise _Refused(message)

    def _arm(self, seconds: float, what: str) -> None:
        self._disarm()
        self._timer = self.loop.call_later(seconds, self._timed_out, what)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timed_out(self, what: str) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        if what == "body":
            if self.flow.read_paused:  # the application is slow, not the client: wait on
                self._arm(self._limits.body_timeout, "body")
                return
            self.transport.close()  # the application sees a disconnect
            return
        self._refusal = (408, f"headers not received within {self._limits.header_timeout} s")
        self._answer_and_close(*self._refusal)

    def _answer_and_close(self, status: int, message: str) -> None:
        body = message.encode("ascii")
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, _REASONS[status], len(body), body)
        )
        self.transport.close()


__all__ = ["LimitedHttpToolsProtocol", "TransportLimits", "httptools", "install_limits"]
