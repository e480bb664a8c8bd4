"""The app's own ASGI middleware and the error answer they share (server/app.py stacks them).

`RequestGuard` runs ahead of every route and fast path: a request id for every request, the token
checked first (server/authentication.py), request bodies bounded (413). `GraphQLFirst` sends
`/graphql` straight to its endpoint, past Starlette's router. `cors_middleware_factory` adapts
server/cors.py to Starlette's `add_middleware`.
"""

from __future__ import annotations

import orjson
from seatkeeper.domain.entropy import random_hex
from seatkeeper.server.authentication import (
    Authenticate,
    authenticate_request,
    get_route_path,
    needs_token,
)
from seatkeeper.server.cors import with_cors
from seatkeeper.server.throttle import Throttle
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    pass


class RequestGuard:
    """Pure ASGI middleware ahead of every route and fast path: a request id for every request,
    the token checked first (server/authentication.py: 401 before anything reads the body), and a
    bound on request bodies.

    Bodies are refused with 413 from their Content-Length when it is given, else as they stream in.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        authenticate: Authenticate | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.authenticate = authenticate
        self.throttle = throttle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = random_hex(16)  # as random as uuid4().hex (domain/entropy.py)
        scope.setdefault("state", {})["request_id"] = request_id
        if (
            self.authenticate is not None
            and needs_token(scope)
            and not await authenticate_request(
                scope, _with_request_id(send, request_id), self.authenticate, self.throttle
            )
        ):
            return  # answered 401 (or 503 when the storage is down), before the body is read
        limit = self.max_body_bytes
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > limit):
                await _too_large(limit, request_id)(scope, receive, send)
                return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                for name, _ in headers:
                    if name.lower() == b"x-request-id":
                        break  # once, not twice
                else:
                    headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, counting_receive, send_with_id)
        except BodyTooLarge:
            if not started:
                await _too_large(limit, request_id)(scope, receive, send)


def _with_request_id(send: Send, request_id: str) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
        await send(message)

    return sending


def _too_large(limit: int, request_id: str) -> Response:
    return error_response(
        413, f"request body larger than {limit} bytes", "PAYLOAD_TOO_LARGE", request_id
    )


def error_response(status: int, message: str, code: str, request_id: str | None = None) -> Response:
    headers = {"x-request-id": request_id} if request_id else None
    return Response(
        orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


class GraphQLFirst:
    """Pure ASGI: requests for /graphql to the GraphQL endpoint, anything else down the stack."""

    def __init__(self, app: ASGIApp, endpoint: ASGIApp) -> None:
        self.app = app
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and get_route_path(scope) == "/graphql":
            await self.endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def cors_middleware_factory(app: ASGIApp, origins: list[str]) -> ASGIApp:
    """Starlette's `add_middleware` takes a factory: CORS for `origins` (server/cors.py)."""
    return with_cors(app, origins)
