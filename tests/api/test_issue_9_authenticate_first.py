"""SPEC 9 and issue 9 finding 3: the token is checked before the body is read.

An 18 MB body of variables sent without a token blocked the server for 6-7 s and added 430 MB:
the body was parsed as JSON, the document as GraphQL, and the variables coerced before the
resolver found no caller. Now a request that runs an operation is answered 401 before a single
byte of its body is received.
"""

from __future__ import annotations

import asyncio

import orjson
import pytest
from seatkeeper.server.app import create_app
from seatkeeper.storage import StorageError

from tests.api.api_support import DOCUMENT, TestClient, assert_unauthenticated


def _asgi(app, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes):
    """One request straight to ASGI; returns (status, headers, body, how many times the app
    called `receive`)."""
    reads = 0
    sent: list[dict] = []

    async def receive():
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), content, reads


HUGE_VARIABLES = orjson.dumps(
    {
        "query": DOCUMENT,
        "operationName": "DeleteUsers",
        "variables": {"userIds": [f"u{i}" for i in range(200_000)]},
    }
)
#: What the Sync fast path would answer, were the token valid.
SYNC = orjson.dumps(
    {
        "query": DOCUMENT,
        "operationName": "Sync",
        "variables": {"input": {"userId": "u", "email": "u@example.com"}},
    }
)


@pytest.mark.parametrize("authorization", [None, b"Bearer sk_not-a-token", b"Basic eDp5"])
@pytest.mark.parametrize("body", [HUGE_VARIABLES, SYNC], ids=["huge-variables", "sync"])
def test_spec_9_finding_3_a_request_without_a_valid_token_is_401_before_its_body_is_read(
    clock, authorization, body
):
    app = create_app("memory://", clock=clock, operator_token="op")
    headers = [(b"content-type", b"application/json")]
    if authorization:
        headers.append((b"authorization", authorization))
    status, response_headers, content, reads = _asgi(app, "POST", "/graphql", headers, body)
    assert status == 401
    assert reads == 0, "the body was read before the token was checked"
    assert response_headers[b"www-authenticate"] == b"Bearer"
    assert response_headers[b"content-type"] == b"application/json"
    body = orjson.loads(content)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.fixture
def anonymous(clock):
    with TestClient(create_app("memory://", clock=clock, operator_token="op")) as client:
        yield client


@pytest.mark.parametrize(
    "query",
    [
        "{ __typename }",
        "{ __schema { types { name } } }",  # introspection is an operation too
        "query { users { totalCount } }",
        "{ ",  # not even a document: still 401, not a syntax error
    ],
)
def test_spec_9_no_graphql_operation_runs_without_a_token(anonymous, query):
    assert_unauthenticated(anonymous.post("/graphql", json={"query": query}))
    assert_unauthenticated(anonymous.get("/graphql", params={"query": query}))


def test_spec_9_a_malformed_body_without_a_token_is_401_not_400(anonymous):
    response = anonymous.post(
        "/graphql", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_unauthenticated(response)
    response = anonymous.post("/graphql", content=b"x", headers={"content-type": "text/plain"})
    assert_unauthenticated(response)


def test_spec_9_order_of_refusal_405_then_401_then_413(clock):
    app = create_app("memory://", clock=clock, operator_token="op", max_body_bytes=100)
    with TestClient(app) as client:
        assert client.delete("/graphql").status_code == 405  # the method first
        big = b"{" + b" " * 200 + b"}"
        plain = {"content-type": "application/json"}
        assert_unauthenticated(client.post("/graphql", content=big, headers=plain))
        with_token = {**plain, "Authorization": "Bearer op"}
        assert client.post("/graphql", content=big, headers=with_token).status_code == 413


def test_spec_9_order_of_refusal_401_before_415_and_406(clock):
    """The documented order: 405, then 401, then 413/415/406 — a request without a token that is
    also of an unsupported media type or accepts nothing we produce is 401, with a token 415/406."""
    app = create_app("memory://", clock=clock, operator_token="op")
    with TestClient(app) as client:
        plain = {"content-type": "text/plain"}
        csv_only = {"accept": "text/csv"}
        assert_unauthenticated(client.post("/graphql", content=b"{}", headers=plain))
        assert_unauthenticated(client.post("/graphql", json={"query": "{ a }"}, headers=csv_only))
        assert_unauthenticated(client.get("/graphql", params={"query": "{ a }"}, headers=csv_only))
        token = {"Authorization": "Bearer op"}
        assert client.post("/graphql", content=b"{}", headers={**plain, **token}).status_code == 415
        answer = client.post("/graphql", json={"query": "{ a }"}, headers={**csv_only, **token})
        assert answer.status_code == 406


def test_public_without_a_token_health_ide_page_and_preflight(anonymous):
    assert anonymous.get("/healthz").json() == {"status": "ok"}
    assert anonymous.get("/readyz").json() == {"status": "ready"}
    page = anonymous.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and "<html" in page.text.lower()
    preflight = anonymous.options(
        "/graphql",
        headers={"origin": "https://example.com", "access-control-request-method": "POST"},
    )
    assert preflight.status_code != 401


def test_csv_downloads_are_401_without_a_token_with_the_same_answer(anonymous):
    for path in ("/export/licenses.csv", "/export/users.csv?search=secret"):
        assert_unauthenticated(anonymous.get(path))


def test_readyz_reason_names_no_host_or_credential(clock):
    app = create_app("memory://", clock=clock, operator_token="op")

    async def down():
        raise StorageError("cannot reach mongodb://admin:hunter2@db.internal.example:27017")

    with TestClient(app) as client:
        app.state.engine.storage.ping = down
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "hunter2" not in response.text and "db.internal" not in response.text
    assert response.json() == {"status": "unavailable", "reason": "the storage does not answer"}


def test_a_valid_token_is_checked_once_per_request(clock):
    """The guard hands its caller to the view: authentication is not repeated."""
    app = create_app("memory://", clock=clock, operator_token="op")
    with TestClient(app) as client:
        engine = app.state.engine
        calls = []
        real = engine.authenticate

        async def counting(secret):
            calls.append(secret)
            return await real(secret)

        engine.authenticate = counting
        created = client.post(
            "/graphql",
            json={
                "query": 'mutation { createOrganization(input: {name: "A"}) '
                "{ adminToken userErrors { code } } }"
            },
            headers={"Authorization": "Bearer op"},
        ).json()
        admin = created["data"]["createOrganization"]["adminToken"]
        calls.clear()
        response = client.post(
            "/graphql",
            json={"query": "{ users { totalCount } }"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert response.json() == {"data": {"users": {"totalCount": 0}}}
        assert calls == [admin]
