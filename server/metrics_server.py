"""`GET /metrics` on an address of its own, without a token (`--metrics-host`, `--metrics-port`).

For a Prometheus that reaches the server on a private interface (or a sidecar on loopback) and
should hold no credential: the metrics port answers `GET /metrics` to anyone who can connect,
and nothing else (404; no GraphQL, no console). On the main port `/metrics` still needs the
OPERATOR's token. One process: with `--workers N` each worker counts for itself and only one
could bind the port, so the settings refuse the two together (server/settings.py).

Served by prometheus-client's WSGI app on the standard library's threading WSGI server, in a
daemon thread, so that a scrape never waits for the event loop except to read the seats, which
the app's loop computes (`Metrics.refresh_seats`) while the scrape waits for it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer
from prometheus_client.metrics_core import Metric
from seatkeeper.rules.engine import Engine
from seatkeeper.server.metrics import Metrics

#: Longest a scrape waits for the event loop to read the seats.
SCRAPE_TIMEOUT_SECONDS = 10.0

_NOT_FOUND = b"only /metrics is served here\n"


class _ScrapeTime:
    """The registry as a scrape on the metrics port reads it: the seats read first, on the
    app's event loop (the scrape runs in the server's thread)."""

    def __init__(self, metrics: Metrics, engine: Engine, loop: asyncio.AbstractEventLoop) -> None:
        self.metrics = metrics
        self.engine = engine
        self.loop = loop

    def _refresh(self) -> None:
        refreshing = self.metrics.refresh_seats(self.engine)
        asyncio.run_coroutine_threadsafe(refreshing, self.loop).result(SCRAPE_TIMEOUT_SECONDS)

    def collect(self) -> Iterable[Metric]:
        self._refresh()
        return self.metrics.registry.collect()

    def restricted_registry(self, names: Iterable[str]) -> Any:
        """`?name[]=…`, as prometheus-client's exposition asks for it."""
        self._refresh()
        return self.metrics.registry.restricted_registry(names)


class _Quiet(WSGIRequestHandler):
    """No line on stderr per scrape (the server's log is the app's)."""

    def log_message(self, format: str, *args: Any) -> None:
        return None


def _only_metrics(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    def answer(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [_NOT_FOUND]
        return app(environ, start_response)

    return answer


class MetricsServer:
    """The metrics port of one app: started and stopped by the app's lifespan."""

    def __init__(self, metrics: Metrics, engine: Engine, host: str, port: int) -> None:
        self.metrics = metrics
        self.engine = engine
        self.host = host
        self.port = port
        self._server: ThreadingWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Listen (OSError when the address cannot be bound) and serve in a daemon thread."""
        registry = _ScrapeTime(self.metrics, self.engine, loop)

        class Server(ThreadingWSGIServer):
            address_family = _family(self.host, self.port)

        app = _only_metrics(make_wsgi_app(registry))
        self._server = make_server(self.host, self.port, app, Server, handler_class=_Quiet)
        self.port = self._server.server_address[1]  # the one bound, when 0 asked for any
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="seatkeeper-metrics", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)


def _family(host: str, port: int) -> socket.AddressFamily:
    """IPv6 for an IPv6 host (`::1`, `::`), else IPv4."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
