"""Hostile and broken requests: each gets the right status and a clear error, never a 500 or a trace.

Limits (schema/root.py, server/app.py): depth 10, 5000 tokens, 30 aliases, `first` 1-500,
request bodies 20 MB by default. Anything unexpected is masked and carries a request id.
"""

from __future__ import annotations

import base64
import logging

import orjson
import pytest
from graphql import parse
from seatkeeper.schema import root
from seatkeeper.server.app import DEFAULT_MAX_BODY_BYTES, create_app
from seatkeeper.storage import StorageError

from tests.api.api_support import DOCUMENT, TestClient, assert_clean


@pytest.fixture
def client(client, operator_token):
    """Hostile bodies here come with a valid token: without one, every request is 401 before its
    body is read (tests/api/test_issue_9_authenticate_first.py)."""
    client.headers["Authorization"] = f"Bearer {operator_token}"
    return client


def _errors(response) -> list[dict]:
    """The JSON errors of a response, after checking it is clean JSON with a request id."""
    assert_clean(response)
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-request-id")
    errors = response.json()["errors"]
    assert errors and all(e["message"] for e in errors)
    return errors


def _raw(client, content: bytes, content_type: str = "application/json", **headers):
    return client.post(
        "/graphql", content=content, headers={"content-type": content_type, **headers}
    )


def _bad_request(response) -> str:
    """A transport-level refusal: 400, one BAD_REQUEST error; returns its message."""
    errors = _errors(response)
    assert response.status_code == 400
    assert [e["extensions"]["code"] for e in errors] == ["BAD_REQUEST"]
    return errors[0]["message"]


def _graphql_error(response) -> str:
    """A request that reached GraphQL and was refused: 200, no data, the first message."""
    errors = _errors(response)
    assert response.status_code == 200
    assert response.json().get("data") is None
    return errors[0]["message"]


# ---------------------------------------------------------------- malformed requests


def test_malformed_json_is_400(client):
    assert (
        _bad_request(_raw(client, b'{"query": "{ __typename }"'))
        == "Unable to parse request body as JSON"
    )
    assert (
        _bad_request(_raw(client, b"\xff\xfe not utf-8")) == "Unable to parse request body as JSON"
    )


@pytest.mark.parametrize(
    ("body", "kind"),
    [(b'"a string"', "string"), (b"42", "number"), (b"null", "null"), (b"true", "boolean")],
)
def test_a_json_body_that_is_not_an_object_is_400(client, body, kind):
    assert _bad_request(_raw(client, body)) == f"Expected a JSON object, got a JSON {kind}"


def test_a_batch_is_refused(client):
    assert _bad_request(_raw(client, b'[{"query": "{ __typename }"}]')) == "Batching is not enabled"


@pytest.mark.parametrize("body", [{}, {"query": None}, {"query": ""}, {"variables": {}}])
def test_a_missing_query_is_400(client, body):
    assert (
        _bad_request(client.post("/graphql", json=body)) == "No GraphQL query found in the request"
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"query": 5}, "`query` must be a string"),
        ({"query": "{ __typename }", "variables": "abc"}, "`variables` must be an object"),
        ({"query": "{ __typename }", "variables": [1]}, "`variables` must be an object"),
    ],
)
def test_badly_typed_request_fields_are_400(client, body, message):
    assert message in _bad_request(client.post("/graphql", json=body))


def test_an_unsupported_content_type_is_415(client):
    response = _raw(client, b"{ __typename }", "text/plain")
    assert response.status_code == 415
    assert [e["extensions"]["code"] for e in _errors(response)] == ["UNSUPPORTED_MEDIA_TYPE"]


def test_a_syntax_error_is_reported_with_its_location(client):
    message = _graphql_error(client.post("/graphql", json={"query": "{ users { totalCount "}))
    assert message.startswith("Syntax Error")


def test_an_unknown_operation_name_is_400(api, org):
    response = api.client.post(
        "/graphql",
        json={"query": DOCUMENT, "operationName": "DropEverything"},
        headers={"Authorization": f"Bearer {org.admin}"},
    )
    assert _bad_request(response) == 'Unknown operation named "DropEverything".'


def test_a_mutation_sent_with_get_is_refused_and_changes_nothing(api, org):
    params = {
        "query": DOCUMENT,
        "operationName": "Sync",
        "variables": orjson.dumps({"input": {"userId": "u1", "email": "u1@example.com"}}).decode(),
    }
    response = api.client.get(
        "/graphql", params=params, headers={"Authorization": f"Bearer {org.sync}"}
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert [e["extensions"]["code"] for e in _errors(response)] == ["METHOD_NOT_ALLOWED"]
    assert api.user(org, "u1") is None
    assert api.data("SyncLog", token=org.admin)["syncLog"]["edges"] == []


def test_a_query_sent_with_get_is_answered(api, org):
    params = {"query": DOCUMENT, "operationName": "Users", "variables": '{"first": 5}'}
    response = api.client.get(
        "/graphql", params=params, headers={"Authorization": f"Bearer {org.admin}"}
    )
    assert_clean(response)
    assert response.json() == {
        "data": {
            "users": {
                "totalCount": 0,
                "pageInfo": {"hasNextPage": False, "endCursor": None},
                "edges": [],
            }
        }
    }


def test_other_methods_and_paths(client):
    response = client.put("/graphql", json={"query": "{ __typename }"})
    assert_clean(response)
    assert response.status_code == 405
    response = client.get("/no/such/path")
    assert_clean(response)
    assert response.status_code == 404


# ---------------------------------------------------------------- size limits


def _nested(levels: int) -> str:
    """A query `levels` fields deep (the fields do not exist: the depth rule reports first)."""
    inner = "leaf"
    for level in range(levels - 1, 0, -1):
        inner = f"f{level} {{ {inner} }}"
    return "query Deep { " + inner + " }"


def test_a_query_deeper_than_10_is_refused(client):
    assert root.MAX_DEPTH == 10
    too_deep = _errors(client.post("/graphql", json={"query": _nested(12)}))
    assert "'Deep' exceeds maximum operation depth of 10" in [e["message"] for e in too_deep]
    at_limit = _errors(client.post("/graphql", json={"query": _nested(11)}))
    assert not any("maximum operation depth" in e["message"] for e in at_limit)


def test_a_deep_introspection_query_is_refused(client):
    inner = "name"
    for _ in range(6):
        inner = f"name fields {{ type {{ ofType {{ {inner} }} }} }}"
    response = client.post(
        "/graphql", json={"query": '{ __type(name: "__Type") { ' + inner + " } }"}
    )
    assert _graphql_error(response) == "Maximum introspection depth exceeded"


def test_more_than_30_aliases_are_refused(client):
    assert root.MAX_ALIASES == 30

    def aliased(count: int) -> str:
        return "{ " + " ".join(f"a{i}: __typename" for i in range(count)) + " }"

    assert (
        _graphql_error(client.post("/graphql", json={"query": aliased(31)}))
        == "31 aliases found. Allowed: 30"
    )
    response = client.post("/graphql", json={"query": aliased(30)})
    assert_clean(response)
    assert len(response.json()["data"]) == 30


def test_more_than_5000_tokens_are_refused(client):
    assert root.MAX_TOKENS == 5000
    query = "{ " + "__typename " * 5000 + "}"  # 5002 tokens
    message = _graphql_error(client.post("/graphql", json={"query": query}))
    assert "Document contains more than 5000 tokens" in message


def test_the_contract_document_fits_the_token_limit():
    """Clients send the whole contract document: it must stay under MAX_TOKENS."""
    parse(DOCUMENT, max_tokens=root.MAX_TOKENS)


@pytest.fixture
def small_client(clock):
    """An app that takes bodies up to 2048 bytes (the limit is configurable; small is fast)."""
    with TestClient(
        create_app("memory://", clock=clock, operator_token="op", max_body_bytes=2048)
    ) as client:
        client.headers["Authorization"] = "Bearer op"
        yield client


def _padded(size: int) -> bytes:
    """A valid request body of exactly `size` bytes."""
    body = b'{"query": "{ __typename }"}'
    return body[:-1] + b" " * (size - len(body)) + b"}"


def test_a_body_over_the_limit_is_413_and_at_the_limit_is_served(small_client):
    over = _raw(small_client, _padded(2049))
    assert over.status_code == 413
    assert _errors(over) == [
        {
            "message": "request body larger than 2048 bytes",
            "extensions": {"code": "PAYLOAD_TOO_LARGE"},
        }
    ]
    at_limit = _raw(small_client, _padded(2048))
    assert_clean(at_limit)
    assert at_limit.json() == {"data": {"__typename": "Query"}}


def test_a_streamed_body_without_length_is_cut_at_the_limit(small_client):
    def chunks():
        for _ in range(100):
            yield b" " * 1000

    response = small_client.post(
        "/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert _errors(response)[0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


def test_the_default_body_limit_is_20_mb(client):
    assert DEFAULT_MAX_BODY_BYTES == 20 * 1024 * 1024
    # The declared length decides before any byte is read: no need to send 21 MB.
    response = _raw(client, b"{}", **{"content-length": str(21 * 1024 * 1024)})
    assert response.status_code == 413
    assert _errors(response)[0]["message"] == f"request body larger than {20 * 1024 * 1024} bytes"


# ---------------------------------------------------------------- bad values


def test_wrong_variable_types_are_refused(api, org):
    def message(operation, variables, token=org.admin):
        status, body = api.gql(operation, variables, token)
        assert status == 200 and "data" not in body  # a request error: nothing was executed
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        return body["errors"][0]["message"]

    assert "Variable '$first'" in message("Users", {"first": "ten"})
    assert "Int cannot represent non 32-bit signed integer" in message(
        "UpdateSettings", {"input": {"inactivityDays": 2**40}}
    )
    assert "Value 'DESKTOP' does not exist in 'Client' enum" in message(
        "Sync",
        {"input": {"userId": "u1", "email": "u1@example.com", "client": "DESKTOP"}},
        org.sync,
    )
    assert "Variable '$input'" in message("Sync", {"input": {"email": "u1@example.com"}}, org.sync)
    assert "Variable '$input'" in message("Sync", {"input": "u1"}, org.sync)
    assert api.user(org, "u1") is None


GARBAGE_CURSOR = [
    (
        "the cursor `after` is not one this server gave out",
        {"code": "BAD_USER_INPUT", "field": ["after"]},
    )
]


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize("operation", ["Users", "SyncLog", "AuditLog"])
@pytest.mark.parametrize(
    "cursor", ["garbage!", "é", _b64(b"[1, 2]"), _b64(b'["only one"]'), _b64(b'{"a": 1}')]
)
def test_a_garbage_cursor_is_a_clear_error(api, org, operation, cursor):
    status, body = api.gql(operation, {"after": cursor}, org.admin)
    assert status == 200
    assert [(e["message"], e["extensions"]) for e in body["errors"]] == GARBAGE_CURSOR


@pytest.mark.parametrize("operation", ["SyncLog", "AuditLog"])
def test_a_users_cursor_is_no_log_cursor(api, org, operation):
    api.create_users(org, {"id": "u1"}, {"id": "u2"})
    users_cursor = api.data("Users", {"first": 1}, org.admin)["users"]["pageInfo"]["endCursor"]
    _status, body = api.gql(operation, {"after": users_cursor}, org.admin)
    assert [(e["message"], e["extensions"]) for e in body["errors"]] == GARBAGE_CURSOR


@pytest.mark.parametrize("operation", ["Users", "SyncLog", "AuditLog"])
@pytest.mark.parametrize("first", [0, -1, 501])
def test_spec_6a_first_outside_1_to_500_is_a_clear_error(api, org, operation, first):
    _status, body = api.gql(operation, {"first": first}, org.admin)
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (f"`first` must be between 1 and 500, got {first}", "BAD_USER_INPUT")
    ]


@pytest.mark.parametrize("operation", ["Users", "SyncLog", "AuditLog"])
def test_spec_6a_first_500_is_allowed(api, org, operation):
    api.data(operation, {"first": 500}, org.admin)


def test_spec_6a_a_search_longer_than_256_is_a_clear_error(api, org):
    _status, body = api.gql("Users", {"search": "x" * 257}, org.admin)
    assert body["errors"][0]["message"] == "`search` is longer than 256 characters"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2025-01-06T09:00:00", "has no offset; add Z or +00:00"),
        ("yesterday", "is not an ISO 8601 date and time"),
        ("2025-01-06T09:00:00Z" + " " * 40, "DateTime must be an ISO 8601 string with an offset"),
        (1736154000, "DateTime must be an ISO 8601 string with an offset"),
    ],
)
def test_a_bad_datetime_is_a_clear_error(api, org, value, message):
    status, body = api.gql("SyncLog", {"filter": {"since": value}}, org.admin)
    assert status == 200 and "data" not in body  # a request error: nothing was executed
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in body["errors"][0]["message"]


def test_a_datetime_with_any_offset_is_accepted_as_utc(api, org, clock):
    api.sync(org.sync, "u1")  # at 09:00Z
    one_minute_later_in_paris = "2025-01-06T10:01:00+01:00"
    log = api.data("SyncLog", {"filter": {"until": one_minute_later_in_paris}}, org.admin)[
        "syncLog"
    ]
    assert [e["node"]["userId"] for e in log["edges"]] == ["u1"]
    log = api.data("SyncLog", {"filter": {"since": "2025-01-06T10:00:01+01:00"}}, org.admin)[
        "syncLog"
    ]
    assert log["edges"] == []


# ---------------------------------------------------------------- health and masking


def test_healthz_and_readyz(client):
    health = client.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


def test_readyz_is_503_when_the_storage_does_not_answer(app, client, monkeypatch):
    async def down():
        raise StorageError("database unreachable")

    monkeypatch.setattr(app.state.engine.storage, "ping", down)
    ready = client.get("/readyz")
    assert "Traceback" not in ready.text
    assert (ready.status_code, ready.json()) == (
        503,
        {"status": "unavailable", "reason": "the storage does not answer"},
    )
    assert client.get("/healthz").status_code == 200  # alive, not ready


def _boom(*args, **kwargs):
    raise RuntimeError("secret internals")


async def _async_boom(*args, **kwargs):
    _boom()


@pytest.mark.parametrize(
    ("method", "operation", "role"), [("list_users", "Users", "admin"), ("sync", "Sync", "sync")]
)
def test_an_unexpected_error_in_a_resolver_is_masked_and_logged(
    api, org, app, monkeypatch, caplog, method, operation, role
):
    monkeypatch.setattr(app.state.engine, method, _async_boom)
    variables = (
        {"input": {"userId": "u1", "email": "u1@example.com"}} if operation == "Sync" else {}
    )
    with caplog.at_level(logging.ERROR, logger="seatkeeper"):
        response = api.post(
            {"query": DOCUMENT, "operationName": operation, "variables": variables},
            getattr(org, role),
        )
    request_id = response.headers["x-request-id"]
    assert response.status_code == 200
    assert "secret internals" not in response.text
    [error] = response.json()["errors"]
    assert error["message"] == f"Unexpected error (request id {request_id})."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id}
    # The operator finds the cause in the log by the id the client reports.
    [record] = [r for r in caplog.records if request_id in r.getMessage()]
    assert "secret internals" in str(record.exc_info[1])


def test_an_unexpected_error_outside_the_resolvers_is_masked_too(
    api, org, app, monkeypatch, caplog
):
    """Authentication reads the storage before any resolver runs."""
    monkeypatch.setattr(app.state.engine, "authenticate", _async_boom)
    with caplog.at_level(logging.ERROR, logger="seatkeeper"):
        response = api.client.post(
            "/graphql",
            json={"query": "{ users { totalCount } }"},
            headers={"Authorization": "Bearer x"},
        )
    request_id = response.headers["x-request-id"]
    assert response.status_code == 500
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert response.json()["errors"][0]["message"] == f"Unexpected error (request id {request_id})."
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert any(request_id in r.getMessage() for r in caplog.records)


def test_a_storage_failure_during_authentication_is_503(api, app, monkeypatch):
    async def down(*args, **kwargs):
        raise StorageError("mongodb://secret-host:27017 unreachable")

    monkeypatch.setattr(app.state.engine, "authenticate", down)
    response = api.client.post(
        "/graphql",
        json={"query": "{ users { totalCount } }"},
        headers={"Authorization": "Bearer x"},
    )
    assert response.status_code == 503
    assert "secret-host" not in response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "STORAGE_UNAVAILABLE"


def test_every_response_carries_one_request_id(client):
    for response in (
        client.get("/healthz"),
        client.post("/graphql", json={"query": "{ __typename }"}),
        _raw(client, b"{"),
    ):
        assert len(response.headers.get_list("x-request-id")) == 1
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


def test_parsed_and_validated_documents_are_cached(api, org, monkeypatch):
    """The contract document is parsed and validated once, then served from the caches."""
    from seatkeeper.schema import limits

    api.data("Users", token=org.admin)
    calls = []
    real_parse, real_validate = limits.parse_bounded, limits.validate
    monkeypatch.setattr(limits, "parse_bounded", lambda *a: calls.append("parse") or real_parse(*a))
    monkeypatch.setattr(
        limits, "validate", lambda *a: calls.append("validate") or real_validate(*a)
    )
    api.data("Users", token=org.admin)
    api.data("SyncLog", token=org.admin)
    assert calls == []
