"""What a GraphQL-over-HTTP request says, checked before GraphQL (server/graphql_http.py).

Media types: the Accept header negotiated (`negotiate`), the Content-Type checked
(`check_content_type`). The request: its body read from ASGI and decoded as one JSON object, or
its query string for GET, and the `query`, `operationName`, `variables` and `extensions` fields
checked. Every refusal is a `RequestError` carrying its status, message and code.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import ClientDisconnect
from starlette.types import Message, Receive

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
#: What the response's Content-Type says for each media type.
CONTENT_TYPES = {JSON: b"application/json", GRAPHQL_RESPONSE: b"application/graphql-response+json"}

_JSON_KINDS = {str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}


class RequestError(Exception):
    """A request refused before GraphQL: status, message, code and extra headers."""

    def __init__(
        self, status: int, message: str, code: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.headers = headers or {}


# ---------------------------------------------------------------- media types


def parse_media_type(value: str) -> tuple[str, dict[str, str]]:
    """`Type/Subtype; a=b` -> ("type/subtype", {"a": "b"}) (RFC 9110: case-insensitive names)."""
    kind, *parameters = value.split(";")
    parsed: dict[str, str] = {}
    for parameter in parameters:
        name, _, raw = parameter.partition("=")
        parsed[name.strip().lower()] = raw.strip().strip('"')
    return kind.strip().lower(), parsed


def negotiate(accept: str | None) -> str | None:
    """The media type to answer in, from an Accept header; None when nothing acceptable."""
    if accept is None or not accept.strip():
        return JSON
    best: tuple[float, int, str] | None = None
    for position, item in enumerate(accept.split(",")):
        if not item.strip():
            continue
        kind, parameters = parse_media_type(item)
        try:
            quality = float(parameters.get("q", "1"))
        except ValueError:
            quality = 0.0
        if quality <= 0:
            continue
        if kind == GRAPHQL_RESPONSE:
            candidate, preference = GRAPHQL_RESPONSE, 2
        elif kind in (JSON, "application/*", "*/*"):
            candidate, preference = JSON, 1
        else:
            continue
        choice = (quality, preference, candidate)
        if best is None or choice[:2] > best[:2]:
            best = choice
    return best[2] if best else None


def accepts_html(accept: str | None) -> bool:
    return accept is not None and "text/html" in accept.lower()


# ---------------------------------------------------------------- the request


def not_acceptable() -> RequestError:
    return RequestError(
        406,
        f"none of the media types in Accept can be produced; use {GRAPHQL_RESPONSE} or {JSON}",
        "NOT_ACCEPTABLE",
    )


def check_content_type(content_type: str | None) -> None:
    if content_type is None:
        raise RequestError(415, f"Content-Type is required: {JSON}", "UNSUPPORTED_MEDIA_TYPE")
    kind, parameters = parse_media_type(content_type)
    charset = parameters.get("charset", "utf-8").lower()
    if kind != JSON or charset not in ("utf-8", "utf8"):
        raise RequestError(415, "Unsupported content type", "UNSUPPORTED_MEDIA_TYPE")


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def decode_body(body: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise RequestError(400, "Unable to parse request body as JSON", "BAD_REQUEST") from None
    if isinstance(value, list):
        raise RequestError(400, "Batching is not enabled", "BAD_REQUEST")
    if not isinstance(value, dict):
        kind = _JSON_KINDS.get(type(value), "value")
        raise RequestError(400, f"Expected a JSON object, got a JSON {kind}", "BAD_REQUEST")
    return value


def from_query_string(params: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "query": params.get("query"),
        "operationName": params.get("operationName"),
    }
    for name in ("variables", "extensions"):
        raw = params.get(name)
        if raw is None or raw == "":
            continue
        try:
            body[name] = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise RequestError(400, f"`{name}` must be a JSON object", "BAD_REQUEST") from None
    return body


def request_fields(
    body: dict[str, Any],
) -> tuple[str | None, str | None, dict[str, Any] | None, dict[str, Any] | None]:
    query = body.get("query")
    operation_name = body.get("operationName")
    variables = body.get("variables")
    extensions = body.get("extensions")
    if query is not None and not isinstance(query, str):
        raise RequestError(400, "`query` must be a string", "BAD_REQUEST")
    if query == "":
        query = None
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestError(400, "`operationName` must be a string", "BAD_REQUEST")
    if variables is not None and not isinstance(variables, dict):
        raise RequestError(400, "`variables` must be an object", "BAD_REQUEST")
    if extensions is not None and not isinstance(extensions, dict):
        raise RequestError(400, "`extensions` must be an object", "BAD_REQUEST")
    return query, operation_name, variables, extensions
