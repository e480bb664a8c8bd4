"""Authenticate first (SPEC 9, issue 9): the bearer token is checked before any body is read.

A missing or unknown token costs a hash and a look-up, and is answered 401 with
`WWW-Authenticate: Bearer` and a JSON body whose `errors[0].extensions.code` is
`UNAUTHENTICATED`, before the body is parsed as JSON or GraphQL and before variables are
coerced (issue 9 finding 3: an 18 MB body of variables, sent without a token, blocked the server
for 6 s). The caller found here is kept in `scope["state"]["caller"]` for every path behind
(the generic GraphQL view, the Sync fast path, the CSV routes): none authenticates again.

Public without a token: `/healthz`, `/readyz`, CORS preflights, and static pages (GraphiQL's
page, the console's files). Never a GraphQL operation, introspection included.

Order of refusal: 405 (the router, for a method a route does not take), then 401 (here), then
413/415/406 (the body and media types), then GraphQL errors.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

import orjson
from seatkeeper.rules.access import Caller
from seatkeeper.server.throttle import Throttle, client_address
from seatkeeper.storage import StorageError
from starlette.types import Scope, Send

log = logging.getLogger("seatkeeper")

#: Paths whose every request needs a token (GraphQL operations, CSV downloads, metrics).
PROTECTED_PREFIXES = ("/graphql", "/export/", "/metrics")
#: Methods that reach a protected route; any other is a 405, decided first (by the router, or
#: by the /graphql endpoint itself, which answers HEAD, PUT… with 405 and `Allow`).
API_METHODS = frozenset({"GET", "POST"})

Authenticate = Callable[[str], Awaitable[Caller | None]]


def get_route_path(scope: Scope) -> str:
    """The path as the router matches it: `path` without the `root_path` it is mounted under
    (what Starlette's private `get_route_path` does; private APIs change without notice)."""
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path) and path != root_path:
        if path[len(root_path)] == "/":
            return path[len(root_path) :]
    elif root_path and path == root_path:
        return ""
    return path


def needs_token(scope: Scope) -> bool:
    """Whether this request must carry a valid token before anything else is done with it."""
    method = scope["method"]
    if method == "POST":
        return True  # no public route takes a body
    if method == "OPTIONS":
        return False  # a CORS preflight, or the router's 405: neither runs an operation
    path = get_route_path(scope)
    if not path.startswith(PROTECTED_PREFIXES) or method not in API_METHODS:
        return False  # static pages (console, GraphiQL's files), health, the router's 405
    return not (path == "/graphql" and _asks_for_the_ide(scope))


def _asks_for_the_ide(scope: Scope) -> bool:
    """GET /graphql from a browser, without an operation: the GraphiQL page (strawberry's rule)."""
    query_string = scope.get("query_string", b"").decode("latin-1")
    if "query" in parse_qs(query_string, keep_blank_values=True):
        return False
    accept = _header(scope, b"accept") or ""
    return "text/html" in accept or "*/*" in accept


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            text: str = value.decode("latin-1")
            return text
    return None


def error_body(message: str, code: str) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})


UNAUTHENTICATED_BODY = error_body(
    "a valid bearer token is required (Authorization: Bearer <token>)", "UNAUTHENTICATED"
)


async def send_json(
    send: Send, status: int, body: bytes, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("latin-1")),
        *(extra_headers or ()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


TOO_MANY_BODY = error_body("too many requests: try again later", "TOO_MANY_REQUESTS")


async def _too_many(send: Send, retry_after: int) -> None:
    headers = [(b"retry-after", str(retry_after).encode("ascii"))]
    await send_json(send, 429, TOO_MANY_BODY, headers)


async def authenticate_request(
    scope: Scope, send: Send, authenticate: Authenticate, throttle: Throttle | None = None
) -> bool:
    """Authenticate a request that needs a token; False when it has been answered
    (401, 429, 503 or 500).

    The caller is kept in `scope["state"]["caller"]` for every path behind. With a throttle, a
    wrong token from an address that failed too often is 429 with Retry-After (a valid one always
    passes), and a token over its own request budget (off by default) is 429 too.
    """
    state = scope.setdefault("state", {})
    try:
        caller = await authenticate(_header(scope, b"authorization") or "")
    except Exception as error:
        request_id = state.get("request_id", "-")
        if isinstance(error, StorageError):
            status, code, what = 503, "STORAGE_UNAVAILABLE", "The storage is unavailable"
        else:
            log.error("unexpected error in request %s", request_id, exc_info=error)
            status, code, what = 500, "INTERNAL_SERVER_ERROR", "Unexpected error"
        await send_json(send, status, error_body(f"{what} (request id {request_id}).", code))
        return False
    if caller is None:
        if throttle is not None:
            address = client_address(scope, throttle.trusted_proxies)
            retry_after = throttle.failures.retry_after(address)
            if retry_after is not None:
                await _too_many(send, retry_after)
                return False
            throttle.failures.take(address)
        await send_json(send, 401, UNAUTHENTICATED_BODY, [(b"www-authenticate", b"Bearer")])
        return False
    if throttle is not None:
        # A token's own budget overrides the server-wide one (off by default).
        own = caller.requests_per_second
        buckets = throttle.own if own is not None else throttle.per_token
        if buckets is not None:
            key = caller.token_id or caller.role.value
            retry_after = buckets.retry_after(key, own)
            if retry_after is not None:
                await _too_many(send, retry_after)
                return False
            buckets.take(key, own)
    state["caller"] = caller
    return True
