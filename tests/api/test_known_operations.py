"""The Sync fast path (server/known_operations.py) answers exactly what the generic path answers.

Two apps on two memory storages read one fake clock; one answers the contract's Sync through the
fast path, the other (fast path off) through Strawberry. Every request goes to both, in the same
order, and the answers must be the same bytes (request ids aside). A spy on the generic path
proves which requests the fast path took, so that a comparison cannot pass by both apps taking the
generic path. SPEC 4 (sync) and SPEC 9 (access) are the rules whose answers are compared.
"""

from __future__ import annotations

import re
import secrets

import pytest
from graphql import parse, print_ast
from seatkeeper.server.app import SeatkeeperGraphQL, create_app
from seatkeeper.server.known_operations import SYNC_OPERATION

from tests.api.api_support import DOCUMENT, Api, TestClient

MINIFIED_SYNC = (
    "mutation Sync($input: SyncInput!) { sync(input: $input) { ok license { type temporary trial expiresAt } "
    "error { code reason message licenseType } user { id email } userErrors { code message field } } }"
)
REQUEST_ID = re.compile(rb"[0-9a-f]{32}")


def graphql_view(app) -> SeatkeeperGraphQL:
    return next(
        route for route in app.routes if getattr(route, "path", None) == "/graphql"
    ).endpoint


class Twin:
    """One side of the comparison: an app, its client, its tokens, and a count of generic runs."""

    def __init__(self, clock, operator: str, fast: bool) -> None:
        self.app = create_app("memory://", clock=clock, operator_token=operator)
        self.view = graphql_view(self.app)
        if not fast:
            self.view.known_operations = None
        self.generic_runs = 0
        original_run = self.view.run

        async def counting_run(*args, **kwargs):
            self.generic_runs += 1
            return await original_run(*args, **kwargs)

        self.view.run = counting_run
        self.client = TestClient(self.app).__enter__()
        self.api = Api(self.client, operator, clock)
        self.tokens: dict[str, str] = {}

    def close(self) -> None:
        self.client.__exit__(None, None, None)


@pytest.fixture
def twins(clock):
    operator = "op_" + secrets.token_urlsafe(16)
    fast, generic = Twin(clock, operator, fast=True), Twin(clock, operator, fast=False)
    for twin in (fast, generic):
        api = twin.api
        acme = api.create_org("Acme")
        trial = api.create_org("Trial Co", trial_days=30)
        api.add_subscription(acme, "STANDARD", seats=2)
        api.add_subscription(acme, "EXTERNAL")
        api.create_users(
            acme,
            {"id": "pre-assigned", "standard": "ASSIGNED"},
            {"id": "blocked", "standard": "DISABLED"},
        )
        api.project(acme, "field", "INSPECTIONS")
        api.project(acme, "partners", "EXTERNAL")
        reader = api.data(
            "CreateToken",
            {"input": {"organizationId": acme.id, "role": "READER", "name": "r"}},
            api.operator,
        )["createToken"]["token"]
        twin.tokens = {
            "sync": acme.sync,
            "admin": acme.admin,
            "trial": trial.sync,
            "reader": reader,
            "operator": operator,
        }
        twin.generic_runs = 0  # count from here on: the setup above went through the generic path
    yield fast, generic
    fast.close()
    generic.close()


def both(
    twins,
    body,
    token: str | None = "sync",
    *,
    content: bytes | None = None,
    headers: dict | None = None,
):
    """Send one request to both apps; assert the same status, type and bytes; return the fast one."""
    answers = []
    for twin in twins:
        all_headers = dict(headers or {})
        if token:
            all_headers["authorization"] = f"Bearer {twin.tokens[token]}"
        if content is not None:
            response = twin.client.post("/graphql", content=content, headers=all_headers)
        else:
            response = twin.client.post("/graphql", json=body, headers=all_headers)
        answers.append(response)
    fast, generic = answers
    assert fast.status_code == generic.status_code
    assert fast.headers.get("content-type") == generic.headers.get("content-type")
    assert REQUEST_ID.sub(b"<id>", fast.content) == REQUEST_ID.sub(b"<id>", generic.content), (
        fast.text,
        generic.text,
    )
    return fast


def sync_body(sync_input: dict, whole_document: bool = True) -> dict:
    if whole_document:
        return {"query": DOCUMENT, "operationName": "Sync", "variables": {"input": sync_input}}
    return {"query": MINIFIED_SYNC, "variables": {"input": sync_input}}


def test_the_fast_path_serves_the_contracts_own_sync_operation():
    contract_sync = next(
        d for d in parse(DOCUMENT).definitions if getattr(d.name, "value", None) == "Sync"
    )
    assert print_ast(contract_sync) == print_ast(parse(SYNC_OPERATION).definitions[0])


# Every SPEC 4 outcome a phone can see, in an order that exercises them against the same state.
SYNC_CASES = [
    ({"userId": "pre-assigned", "email": "pre-assigned@example.com"}, "sync"),  # 4.4 covered seat
    (
        {"userId": "newcomer", "email": "new@example.com", "fullName": "New Comer"},
        "sync",
    ),  # 4.7 temporary
    (
        {"userId": "newcomer", "email": "new@example.com", "fullName": None, "projectId": None},
        "sync",
    ),
    ({"userId": "blocked", "email": "blocked@example.com"}, "sync"),  # 4.5 disabled
    (
        {"userId": "fielder", "email": "f@example.com", "projectId": "field", "client": "WEB"},
        "sync",
    ),
    (
        {"userId": "partner", "email": "p@example.com", "projectId": "partners", "client": "API"},
        "sync",
    ),  # 4.3
    ({"userId": "somebody", "email": "new@example.com"}, "sync"),  # 4.1 EMAIL_TAKEN
    ({"userId": "", "email": "not-an-email"}, "sync"),  # 4.1 INVALID_INPUT, two user errors
    (
        {"userId": "x", "email": "x@example.com", "projectId": "nope"},
        "sync",
    ),  # 4.1 PROJECT_NOT_FOUND
    ({"userId": "7C9E6679-7425-40DE-944B-E07FC1F90AE7", "email": "guid@example.com"}, "sync"),
    ({"userId": "{7c9e6679-7425-40de-944b-e07fc1f90ae7}", "email": "guid@example.com"}, "sync"),
    ({"userId": "trialist", "email": "t@example.com"}, "trial"),  # 4.2 trial
    ({"userId": "admin-synced", "email": "a@example.com"}, "admin"),  # ADMIN may sync too (SPEC 9)
]


@pytest.mark.parametrize("whole_document", [True, False], ids=["whole-contract", "sync-alone"])
def test_spec_4_every_sync_outcome_is_the_same_bytes_on_both_paths(twins, clock, whole_document):
    fast, generic = twins
    for sync_input, token in SYNC_CASES:
        both(twins, sync_body(sync_input, whole_document), token)
    clock.advance(days=30)  # 4.7: the newcomer's temporary window has ended
    both(twins, sync_body({"userId": "newcomer", "email": "new@example.com"}, whole_document))
    assert fast.generic_runs == 0, "the fast path did not answer the known Sync"
    assert generic.generic_runs == len(SYNC_CASES) + 1


@pytest.mark.parametrize(
    ("body", "token"),
    [
        (
            sync_body({"userId": 42, "email": "n@example.com"}),
            "sync",
        ),  # an Int ID: coerced by GraphQL
        (sync_body({"userId": "u", "email": 42}), "sync"),  # not a String
        (sync_body({"userId": "u"}), "sync"),  # email missing
        (sync_body({"userId": "u", "email": "u@example.com", "client": None}), "sync"),
        (sync_body({"userId": "u", "email": "u@example.com", "client": "PHONE"}), "sync"),
        (sync_body({"userId": "u", "email": "u@example.com", "extra": 1}), "sync"),
        (
            {
                "query": DOCUMENT,
                "operationName": "Sync",
                "variables": {"input": {"userId": "u", "email": "u@e.com"}, "x": 1},
            },
            "sync",
        ),
        ({"query": DOCUMENT, "operationName": "Sync"}, "sync"),  # no variables
        (
            {"query": DOCUMENT, "variables": {"input": {"userId": "u", "email": "u@e.com"}}},
            "sync",
        ),  # no name
        (
            {
                "query": DOCUMENT,
                "operationName": "Users",
                "variables": {"input": {"userId": "u", "email": "u@e.com"}},
            },
            "admin",
        ),
        (
            {
                "query": MINIFIED_SYNC.replace("email } userErrors", "email fullName } userErrors"),
                "variables": {"input": {"userId": "u", "email": "u@e.com"}},
            },
            "sync",
        ),  # another selection
        (
            {
                "query": MINIFIED_SYNC + " query Broken { nope }",
                "operationName": "Sync",
                "variables": {"input": {"userId": "u", "email": "u@e.com"}},
            },
            "sync",
        ),  # invalid document
        ({**sync_body({"userId": "u", "email": "u@example.com"}), "extensions": {"a": 1}}, "sync"),
        (sync_body({"userId": "u", "email": "u@example.com"}), "reader"),  # SPEC 9 FORBIDDEN
        (sync_body({"userId": "u", "email": "u@example.com"}), "operator"),  # SPEC 9 FORBIDDEN
        ([sync_body({"userId": "u", "email": "u@example.com"})], "sync"),  # a batch
    ],
)
def test_spec_9_anything_else_takes_the_generic_path_with_the_same_answer(twins, body, token):
    fast, _ = twins
    both(twins, body, token)
    assert fast.generic_runs == 1


def test_other_transports_of_a_known_sync_take_the_generic_path(twins):
    fast, _ = twins
    body = (
        b'{"query": "'
        + MINIFIED_SYNC.encode()
        + b'", "variables": {"input": {"userId": "u", "email": "u@e.com"}}}'
    )
    both(twins, None, content=body, headers={"content-type": "text/plain"})
    both(twins, None, content=body[:-1], headers={"content-type": "application/json"})  # bad JSON
    both(
        twins,
        None,
        content=body.replace(b'"u"', b'"\\ud800"'),
        headers={"content-type": "application/json"},
    )
    assert fast.generic_runs == 3


def test_a_resolver_failure_is_masked_alike_on_both_paths(twins, caplog):
    for twin in twins:

        async def broken(*args, **kwargs):
            raise RuntimeError("storage exploded")

        twin.view.engine.sync = broken
        twin.view.known_operations and setattr(
            twin.view.known_operations, "_engine", twin.view.engine
        )
    for whole_document in (True, False):
        response = both(twins, sync_body({"userId": "u", "email": "u@example.com"}, whole_document))
        body = response.json()
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert "exploded" not in response.text
    assert twins[0].generic_runs == 0
    assert sum("unexpected error in request" in r.getMessage() for r in caplog.records) == 4


def test_spec_9_a_revoked_token_is_refused_by_the_fast_path_at_once(twins):
    fast, _ = twins
    body = sync_body({"userId": "u", "email": "u@example.com"})
    assert both(twins, body).json()["data"]["sync"]["ok"] is True
    for twin in twins:
        token_id = next(
            t["id"]
            for t in twin.api.data("Tokens", token=twin.tokens["admin"])["tokens"]
            if t["role"] == "SYNC"
        )
        twin.api.data("RevokeToken", {"id": token_id}, twin.tokens["admin"])
    fast.generic_runs = 0
    response = both(twins, body)
    assert response.status_code == 401  # SPEC 9: ahead of both paths (server/authentication.py)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert fast.generic_runs == 0


def test_a_storage_failure_while_authenticating_is_answered_alike(twins):
    """Authentication is read-only: the fast path hands the request over, the generic path answers."""
    from seatkeeper.storage import StorageError

    for twin in twins:

        async def unavailable(secret):
            raise StorageError("database down")

        twin.view.engine.authenticate = unavailable
    response = both(twins, sync_body({"userId": "u", "email": "u@example.com"}))
    assert response.status_code == 503
    assert twins[0].generic_runs == 0  # answered ahead of both paths


def _asgi_post(app, chunks: list[bytes], token: str) -> tuple[int, bytes]:
    """POST /graphql with the body cut into `chunks` (as a slow client sends it), straight to ASGI."""
    import asyncio

    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
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
        "headers": [
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    status, body = 0, []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    asyncio.run(app(scope, receive, send))
    return status, b"".join(body)


def test_a_body_in_several_chunks_is_read_whole_and_replayed_whole(twins):
    import orjson

    fast, generic = twins
    known = orjson.dumps(sync_body({"userId": "chunky", "email": "c@example.com"}))
    unknown = orjson.dumps({"query": "query { organization { name } }"})
    for body in (known, unknown):
        chunks = [body[:7], body[7:40], body[40:]]
        answers = [
            _asgi_post(twin.app, chunks, twin.tokens["sync" if body is known else "admin"])
            for twin in twins
        ]
        assert answers[0] == answers[1] and answers[0][0] == 200
        assert b'"errors"' not in answers[0][1]
    assert fast.generic_runs == 1 and generic.generic_runs == 2


def test_a_large_body_is_not_parsed_by_the_fast_path(twins, monkeypatch):
    """An import-sized request goes straight on: the fast path does not parse it a second time."""
    from seatkeeper.server import known_operations

    looked_at = []
    real_answer = known_operations.KnownOperations.answer

    async def spying_answer(self, scope, body):
        looked_at.append(len(body))
        return await real_answer(self, scope, body)

    monkeypatch.setattr(known_operations.KnownOperations, "answer", spying_answer)
    both(twins, sync_body({"userId": "u", "email": "u@example.com"}))
    assert len(looked_at) == 1  # the spy works: a small Sync is looked at
    padding = "x" * (known_operations.MAX_FAST_BODY + 1)
    both(twins, {**sync_body({"userId": "v", "email": "v@example.com"}), "padding": padding})
    assert len(looked_at) == 1 and twins[0].generic_runs == 1
