"""A fast path for the one operation every phone sends on every sync: the contract's `Sync`.

Why: through Strawberry and graphql-core a sync costs about a millisecond of Python per request
(request parsing, extension hooks, variable coercion, field-by-field execution and completion);
the licensing decision itself costs tens of microseconds. Issue 6 asks for `sync` at half the
speed of a bare HTTP endpoint, which only a path that skips the generic machinery can reach.

What: a request whose document is *known* is answered here, without Strawberry. A document is
known for an operation name when it parses, validates against the schema with the server's own
limits (so the generic path would run it without errors), and the operation it selects is, once
printed canonically, exactly the contract's Sync operation (any formatting, any other operations
around it: clients send the whole contract file with `operationName: "Sync"`). That verdict is
computed once per (document text, operation name) and kept in a small LRU cache.

Everything else goes to the generic path, which stays the reference: anything unexpected in the
request (other keys, variables of other types or shapes, a missing or unauthorized token, an
`extensions` entry, a batch, another content type) is simply not taken here. The answer built
here is byte for byte the generic path's (tests/api/test_known_operations.py runs both and
compares), resolver errors included.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import orjson
from graphql import GraphQLError, OperationDefinitionNode, parse, print_ast, specified_rules
from seatkeeper.domain.records import Client, Role
from seatkeeper.rules.access import Action
from seatkeeper.rules.engine import Engine, SyncRequest
from seatkeeper.rules.outcomes import SyncOutcome
from seatkeeper.schema.limits import document_errors, parse_bounded
from seatkeeper.schema.types import _serialize_datetime as serialize_datetime
from starlette._utils import get_route_path  # the router's own reading of the path

log = logging.getLogger("seatkeeper")

#: The contract's Sync operation (tests/contract/operations.graphql; a test keeps them equal).
SYNC_OPERATION = """
mutation Sync($input: SyncInput!) {
  sync(input: $input) {
    ok
    license { type temporary trial expiresAt }
    error { code reason message licenseType }
    user { id email }
    userErrors { code message field }
  }
}
"""

#: Documents longer than this are never cached (the whole contract file is about 9 KB).
MAX_CACHED_DOCUMENT = 64 * 1024
VERDICT_CACHE_SIZE = 64
#: Larger request bodies are never a known Sync (its document, variables and all, is far smaller).
MAX_FAST_BODY = MAX_CACHED_DOCUMENT + 16 * 1024

_INPUT_KEYS = frozenset({"userId", "email", "fullName", "projectId", "client"})
_BODY_KEYS = frozenset({"query", "variables", "operationName", "extensions"})
_CLIENTS = {member.name: member for member in Client}


def _canonical(operation: OperationDefinitionNode) -> str:
    return print_ast(operation)


_SYNC_CANONICAL = _canonical(parse(SYNC_OPERATION).definitions[0])


class KnownOperations:
    """Answers the contract's Sync directly; `answer` returns None for anything else."""

    def __init__(self, schema, engine: Engine, authenticate) -> None:
        """`authenticate(authorization_header) -> Caller | None`, as the generic path reads it."""
        self._schema = schema._schema  # graphql-core's schema, as the generic path validates with
        self._rules = tuple(specified_rules)  # and the limits of schema/limits.py, as there
        self._engine = engine
        self._authenticate = authenticate
        # (document text, operation name) -> the `sync` field node (for error locations), or None.
        self._verdicts: OrderedDict[tuple[str, str | None], object] = OrderedDict()

    # ------------------------------------------------------------ which documents are known

    def sync_field(self, query: str, operation_name: str | None):
        """The `sync` field node when `query` run as `operation_name` is the contract's Sync."""
        key = (query, operation_name)
        verdicts = self._verdicts
        if key in verdicts:
            verdicts.move_to_end(key)
            return verdicts[key]
        if len(query) > MAX_CACHED_DOCUMENT:
            return None
        verdict = self._judge(query, operation_name)
        verdicts[key] = verdict
        if len(verdicts) > VERDICT_CACHE_SIZE:
            verdicts.popitem(last=False)
        return verdict

    def _judge(self, query: str, operation_name: str | None):
        try:
            document = parse_bounded(query)
        except GraphQLError:
            return None
        if document_errors(self._schema, query, document, self._rules):
            return None
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if operation_name is None:
            chosen = operations[0] if len(operations) == 1 else None
        else:
            chosen = next(
                (o for o in operations if o.name and o.name.value == operation_name), None
            )
        if chosen is None or _canonical(chosen) != _SYNC_CANONICAL:
            return None
        return chosen.selection_set.selections[0]

    # ------------------------------------------------------------ answering

    async def answer(self, scope, body: bytes) -> bytes | None:
        """The JSON answer to a known Sync request, or None to let the generic path answer."""
        content_type = accept = authorization = None
        for name, value in scope["headers"]:  # the first of each, as Starlette's Headers.get
            if name == b"content-type" and content_type is None:
                content_type = value.decode("latin-1")
            elif name == b"accept" and accept is None:
                accept = value.decode("latin-1")
            elif name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
        if (
            content_type is None
            or content_type.split(";", 1)[0].strip().lower() != "application/json"
        ):
            return None
        if accept is not None and ("text/event-stream" in accept or "multipart/mixed" in accept):
            return None
        try:
            request = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if (
            type(request) is not dict
            or not request.keys() <= _BODY_KEYS
            or request.get("extensions") is not None
        ):
            return None
        query, operation_name = request.get("query"), request.get("operationName")
        if type(query) is not str or (
            operation_name is not None and type(operation_name) is not str
        ):
            return None
        sync_request = _sync_request(request.get("variables"))
        if sync_request is None:
            return None
        field_node = self.sync_field(query, operation_name)
        if field_node is None:
            return None
        try:  # RequestGuard authenticated it already (server/authentication.py)
            caller = scope.get("state", {}).get("caller") or await self._authenticate(
                authorization or ""
            )
        except Exception:  # noqa: BLE001 — read-only: the generic path authenticates again and answers
            return None
        if caller is None or caller.role is Role.OPERATOR or not caller.may(Action.SYNC):
            return None  # the generic path answers UNAUTHENTICATED / FORBIDDEN
        try:
            outcome = await self._engine.sync(caller.organization_id, sync_request)
        except Exception as error:  # what MaskUnexpectedErrors does to a resolver's exception
            request_id = scope.get("state", {}).get("request_id") or "-"
            log.error("unexpected error in request %s", request_id, exc_info=error)
            masked = GraphQLError(
                f"Unexpected error (request id {request_id}).",
                nodes=[field_node],
                path=["sync"],
                extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
            )
            return orjson.dumps({"data": None, "errors": [masked.formatted]})
        return orjson.dumps({"data": {"sync": _sync_payload(outcome)}})


class KnownOperationsMiddleware:
    """Pure ASGI middleware, inside RequestGuard (request id, body limit), ahead of Starlette's
    exception middleware and router: a known Sync is answered without the layers in between.

    Anything else, or a Sync the fast path declines, continues down the stack with its body
    replayed exactly as received. `view.known_operations = None` turns the fast path off.
    """

    def __init__(self, app, view) -> None:
        self.app = app
        self.view = view

    async def __call__(self, scope, receive, send) -> None:
        known: KnownOperations | None = self.view.known_operations
        if (
            known is None
            or scope["type"] != "http"
            or scope["method"] != "POST"
            or get_route_path(scope) != "/graphql"
        ):
            await self.app(scope, receive, send)
            return
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        answer = None
        # A Sync request is small; a large body (an import) goes on without being parsed twice.
        if messages[-1]["type"] == "http.request" and size <= MAX_FAST_BODY:
            answer = await known.answer(scope, b"".join(m.get("body", b"") for m in messages))
        if answer is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        # The headers Starlette's Response(answer, media_type="application/json") sends.
        headers = [
            (b"content-length", str(len(answer)).encode("latin-1")),
            (b"content-type", b"application/json"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


def _replay(messages: list, receive):
    """A `receive` that hands out `messages` again, then whatever comes next."""
    pending = list(messages)

    async def replay():
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def _sync_request(variables) -> SyncRequest | None:
    """The SyncRequest the resolver would build, for variables of exactly the expected types."""
    if type(variables) is not dict or variables.keys() != {"input"}:
        return None
    given = variables["input"]
    if type(given) is not dict or not given.keys() <= _INPUT_KEYS:
        return None
    user_id, email = given.get("userId"), given.get("email")
    full_name, project_id = given.get("fullName"), given.get("projectId")
    if type(user_id) is not str or type(email) is not str:
        return None
    if (full_name is not None and type(full_name) is not str) or (
        project_id is not None and type(project_id) is not str
    ):
        return None
    client = Client.MOBILE
    if "client" in given:
        client = _CLIENTS.get(given["client"]) if type(given["client"]) is str else None
        if client is None:
            return None
    return SyncRequest(
        user_id=user_id, email=email, full_name=full_name, project_id=project_id, client=client
    )


def _datetime(value) -> str | None:
    """As the DateTime scalar writes it (its own serializer)."""
    return serialize_datetime(value) if value is not None else None


def _sync_payload(outcome: SyncOutcome) -> dict:
    """The contract's Sync selection of a SyncOutcome, field for field."""
    granted, refused, user = outcome.license, outcome.error, outcome.user
    return {
        "ok": outcome.ok,
        "license": {
            "type": granted.type.name,
            "temporary": granted.temporary,
            "trial": granted.trial,
            "expiresAt": _datetime(granted.expires_at),
        }
        if granted
        else None,
        "error": {
            "code": refused.code.name,
            "reason": refused.reason.name,
            "message": refused.message,
            "licenseType": refused.license_type.name,
        }
        if refused
        else None,
        "user": {"id": user.id, "email": user.email} if user else None,
        "userErrors": [
            {"code": e.code, "message": e.message, "field": list(e.field) if e.field else None}
            for e in outcome.user_errors
        ],
    }
