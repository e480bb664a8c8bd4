"""GraphQL over HTTP at `/graphql`, as the GraphQL-over-HTTP specification says.

Media types: a POST body must be `application/json` (matched as a media type: case-insensitive,
parameters parsed, a charset other than UTF-8 refused) else 415. The answer is
`application/graphql-response+json` or `application/json` as the Accept header prefers
(`application/json` without an Accept header, for `*/*` and `application/*`); 406 when neither
is acceptable. Under `application/graphql-response+json` a request error (the document does not
parse or validate, the variables do not coerce) is a 400 without a `data` key; under
`application/json` it is a 200 (without `data` too). Methods: GET (queries only) and POST; any
other method, and a mutation over GET, is 405 with an `Allow` header. Every error carries
`extensions.code` (README, "Error codes").

Apollo's automatic persisted queries: `extensions.persistedQuery.sha256Hash` instead of (or with)
the document; an unknown hash answers `PersistedQueryNotFound` and the client sends the document
with its hash. Trusted operations (server/documents.py) are persisted under their fingerprint.

Order of refusals: 405 (method), then 413 (RequestGuard), 415 (content type), 406 (Accept), 400
(malformed request), then GraphQL (a mutation over GET is 405 once its document is known).

This module holds the endpoint (`GraphQLHTTP`: methods, APQ, the trusted or general route, the
answer and its status); the media types and the request's fields are checked in
server/graphql_http_request.py.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import orjson
from graphql import GraphQLError
from graphql.execution import get_variable_values
from graphql.execution.values import VariableValues
from seatkeeper.resolvers.common import Context
from seatkeeper.rules.access import Caller
from seatkeeper.schema.limits import CACHE_BYTES, BoundedCache
from seatkeeper.schema.root import is_unexpected, mask_error
from seatkeeper.server.documents import Documents, Prepared
from seatkeeper.server.graphql_http_request import (
    CONTENT_TYPES,
    GRAPHQL_RESPONSE,
    JSON,
    RequestError,
    accepts_html,
    check_content_type,
    decode_body,
    from_query_string,
    negotiate,
    not_acceptable,
    read_body,
    request_fields,
)
from seatkeeper.storage import StorageError
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send
from strawberry import Schema

log = logging.getLogger("seatkeeper")

ALLOWED_METHODS = "GET, POST"
#: APQ documents kept (per process): each at most MAX_APQ_DOCUMENT characters, CACHE_BYTES in all.
MAX_APQ_DOCUMENT = 64 * 1024


Authenticate = Callable[[str], Awaitable[Caller | None]]


# ---------------------------------------------------------------- the endpoint


class GraphQLHTTP:
    """The `/graphql` endpoint as a pure ASGI app (no Request/Response objects on the hot path)."""

    def __init__(
        self,
        schema: Schema,
        documents: Documents,
        context_for: Callable[[Scope, str, str], Awaitable[Context]],
        graphiql_html: str | None,
    ) -> None:
        """`context_for(scope, authorization_header, request_id)` builds a request's context."""
        self.schema = schema
        self.documents = documents
        self.context_for = context_for
        self.graphiql_html = graphiql_html
        # APQ: hash -> document, bounded by the documents' length (1,000 of 64 KB were 64 MB).
        self.persisted: BoundedCache[str] = BoundedCache(CACHE_BYTES)
        #: Counts of executions by route, for tests and the benchmarks ("trusted"/"general").
        self.runs = {"trusted": 0, "general": 0}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = scope.get("state", {}).get("request_id") or "-"
        media = JSON
        try:
            method = scope["method"]
            if method not in ("GET", "POST"):
                raise RequestError(
                    405,
                    f"{method} is not allowed; use POST (or GET for queries)",
                    "METHOD_NOT_ALLOWED",
                    {"allow": ALLOWED_METHODS},
                )
            content_type = accept = None
            authorization = ""
            for name, value in scope["headers"]:  # the first of each, as Starlette reads them
                if name == b"content-type" and content_type is None:
                    content_type = value.decode("latin-1")
                elif name == b"accept" and accept is None:
                    accept = value.decode("latin-1")
                elif name == b"authorization" and not authorization:
                    authorization = value.decode("latin-1")
            if method == "GET":
                params = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
                if (
                    self.graphiql_html is not None
                    and "query" not in params
                    and "extensions" not in params
                    and accepts_html(accept)
                ):
                    await _send(send, 200, self.graphiql_html.encode(), b"text/html; charset=utf-8")
                    return
                chosen = negotiate(accept)
                if chosen is None:
                    raise not_acceptable()
                media = chosen
                body = from_query_string(params)
            else:
                check_content_type(content_type)
                chosen = negotiate(accept)
                if chosen is None:
                    raise not_acceptable()
                media = chosen
                # Not inside the `except Exception` below: RequestGuard's refusal of a body over
                # the limit, raised by `receive`, must reach RequestGuard.
                body = decode_body(await read_body(receive))
            status, answer = await self._answer_masked(
                scope, body, method, authorization, request_id, media
            )
        except ClientDisconnect:
            # Nobody to answer, and nothing wrong with the server: one line (issue 9).
            log.info("client disconnected before its request %s was read", request_id)
            return
        except RequestError as error:
            headers = [(k.encode(), v.encode()) for k, v in error.headers.items()]
            answer = orjson.dumps(
                {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
            )
            await _send(send, error.status, answer, CONTENT_TYPES[media], headers)
            return
        await _send(send, status, answer, CONTENT_TYPES[media])

    async def _answer_masked(
        self,
        scope: Scope,
        body: dict[str, Any],
        method: str,
        authorization: str,
        request_id: str,
        media: str,
    ) -> tuple[int, bytes]:
        try:
            return await self.answer(scope, body, method, authorization, request_id, media)
        except RequestError:
            raise
        except Exception as error:
            # Outside the resolvers (authentication reads the storage): masked like a resolver's
            # error, and logged with the request id the client is shown. A storage failure is 503.
            log.error("unexpected error in request %s", request_id, exc_info=error)
            if isinstance(error, StorageError):
                status, code, what = 503, "STORAGE_UNAVAILABLE", "The storage is unavailable"
            else:
                status, code, what = 500, "INTERNAL_SERVER_ERROR", "Unexpected error"
            message = f"{what} (request id {request_id})."
            return status, orjson.dumps(
                {"errors": [{"message": message, "extensions": {"code": code}}]}
            )

    async def answer(
        self,
        scope: Scope,
        body: dict[str, Any],
        method: str,
        authorization: str,
        request_id: str,
        media: str,
    ) -> tuple[int, bytes]:
        """Status and JSON body for a well-formed request."""
        query, operation_name, variables, extensions = request_fields(body)
        query = self._persisted_query(query, extensions, media)
        prepared = self.documents.prepare(query, operation_name)
        state = scope.get("state")
        if state is not None:  # the operation's label for the metrics (server/metrics.py)
            state["operation"] = prepared.label
        if prepared.bad_operation_name:
            first = prepared.errors[0]
            code = (first.extensions or {}).get("code", "BAD_REQUEST")
            raise RequestError(400, first.message, code)
        if prepared.errors:
            return self._request_errors(prepared.errors, media)
        if method == "GET" and not _is_query(prepared):
            raise RequestError(
                405,
                "mutations are not allowed when using GET",
                "METHOD_NOT_ALLOWED",
                {"allow": "POST"},
            )
        if prepared.is_subscription:
            raise RequestError(400, "subscriptions are not supported", "BAD_REQUEST")
        operation = prepared.operation
        assert operation is not None
        compiled = prepared.compiled
        coerced: VariableValues | list[GraphQLError] | None = None
        if compiled is not None and compiled.variables is not None:
            coerced = compiled.variables.coerce(variables or {})  # None: graphql-core decides
        if coerced is None:
            coerced = get_variable_values(
                self.documents.schema,
                operation.variable_definitions or (),
                variables or {},
                max_errors=50,
            )
        if isinstance(coerced, list):
            for error in coerced:
                error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
            return self._request_errors(coerced, media)
        self._remember(extensions, query)
        context = await self.context_for(scope, authorization, request_id)
        result_extensions = None
        if compiled is not None:
            self.runs["trusted"] += 1
            data, errors = await compiled.execute(context, coerced)
            if errors:
                errors = [mask_error(e, request_id) if is_unexpected(e) else e for e in errors]
        else:
            self.runs["general"] += 1
            result = await self.schema.execute(query, variables, context, None, operation_name)
            data, errors = result.data, list(result.errors or ())
            result_extensions = result.extensions
        response: dict[str, Any] = {"data": data}
        if errors:
            response["errors"] = [error.formatted for error in errors]
        if result_extensions:
            response["extensions"] = result_extensions
        return 200, orjson.dumps(response)

    def _request_errors(self, errors: list[GraphQLError], media: str) -> tuple[int, bytes]:
        status = 400 if media == GRAPHQL_RESPONSE else 200
        return status, orjson.dumps({"errors": [error.formatted for error in errors]})

    # ------------------------------------------------------------ persisted queries

    def _persisted_query(
        self, query: str | None, extensions: dict[str, Any] | None, media: str
    ) -> str:
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            if query is None:
                raise RequestError(400, "No GraphQL query found in the request", "BAD_REQUEST")
            return query
        if not isinstance(persisted, dict) or persisted.get("version") != 1:
            raise RequestError(
                400, "Unsupported persisted query version", "PERSISTED_QUERY_NOT_SUPPORTED"
            )
        digest = persisted.get("sha256Hash")
        if not isinstance(digest, str) or len(digest) != 64:
            raise RequestError(400, "`sha256Hash` must be 64 hex digits", "BAD_REQUEST")
        digest = digest.lower()
        if query is not None:
            if hashlib.sha256(query.encode("utf-8")).hexdigest() != digest:
                raise RequestError(400, "provided sha does not match query", "BAD_REQUEST")
            return query
        known = self.persisted.get(digest) or self.documents.text_of(digest)
        if known is None:
            # Apollo's clients read the error and send the document: 200 for application/json
            # (as Apollo's older servers), 404 under graphql-response+json (as Apollo Server 4).
            status = 404 if media == GRAPHQL_RESPONSE else 200
            raise RequestError(status, "PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
        return known

    def _remember(self, extensions: dict[str, Any] | None, query: str) -> None:
        """Keep a document sent with its hash (it validated), for hash-only requests to come."""
        persisted = (extensions or {}).get("persistedQuery")
        if not isinstance(persisted, dict) or len(query) > MAX_APQ_DOCUMENT:
            return
        digest = str(persisted.get("sha256Hash", "")).lower()
        self.persisted.put(digest, query, len(query))


def _is_query(prepared: Prepared) -> bool:
    return not prepared.is_mutation and not prepared.is_subscription


async def _send(
    send: Send,
    status: int,
    body: bytes,
    content_type: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-length", str(len(body)).encode("latin-1")),
                (b"content-type", content_type),
                *(headers or ()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
