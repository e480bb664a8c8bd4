"""Issue 9 finding 10 (logs): a client that disconnects is one INFO line, not a 19-line ERROR
traceback; the access log never holds query strings (search terms, personal data)."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import httpx
import uvicorn
from seatkeeper.server.app import create_app


def test_finding_10_a_client_disconnect_is_one_info_line(clock, caplog):
    app = create_app("memory://", clock=clock, operator_token="op")
    sent: list[dict] = []

    async def receive():
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"authorization", b"Bearer op")],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    caplog.set_level(logging.INFO)
    asyncio.run(app(scope, receive, send))
    records = [r for r in caplog.records if r.name.startswith("seatkeeper")]
    assert [(r.levelname, r.exc_info) for r in records] == [("INFO", None)]
    assert "disconnected" in records[0].getMessage()
    assert sent == []  # nobody to answer


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_finding_10_the_access_log_holds_no_query_string(clock):
    """A real uvicorn server and a real client: the access line names the path only."""
    app = create_app("memory://", clock=clock, operator_token="op")
    port = _free_port()
    # uvicorn configures its loggers here (its access logger does not propagate to the root).
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info"))
    records: list[logging.LogRecord] = []
    capture = logging.Handler()
    capture.emit = records.append  # type: ignore[method-assign]  # a handler that only collects
    access = logging.getLogger("uvicorn.access")
    access.addHandler(capture)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        base = f"http://127.0.0.1:{port}"
        httpx.get(f"{base}/export/users.csv", params={"search": "jane.doe@example.com"})
        httpx.get(f"{base}/graphql", params={"query": '{ users(search: "secret") { totalCount } }'})
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        access.removeHandler(capture)
    lines = [r.getMessage() for r in records]
    assert len(lines) == 2, lines
    assert all("?" not in line for line in lines), lines
    assert "jane.doe" not in " ".join(lines) and "secret" not in " ".join(lines)
    assert "/export/users.csv" in lines[0] and "401" in lines[0]
