"""GraphQL over HTTP (issue 12): media types, statuses, methods and Apollo's persisted queries.

Each finding of the issue's audit is a test here: Accept was ignored; request errors answered 200
with `"data": null` under any media type; a mutation over GET was 400 (not 405); unsupported
content types were 400 (not 415) and `application/jsonx` was accepted; HEAD's 405 had no `Allow`;
405 bodies were text/plain; validation errors had no `extensions.code`.
"""

from __future__ import annotations

import hashlib

import orjson
import pytest

from tests.api.api_support import DOCUMENT, assert_clean

GRAPHQL_RESPONSE = "application/graphql-response+json"


@pytest.fixture(autouse=True)
def _with_a_token(client, api):
    """Every request here carries the operator's token unless it sets another (SPEC 9: no
    operation runs without one; the 401 comes before everything tested here but the 405)."""
    client.headers["authorization"] = f"Bearer {api.operator}"


TYPENAME = {"query": "{ __typename }"}


def _post(client, body, *, accept: str | None = None, content_type="application/json", token=None):
    headers = {"content-type": content_type}
    if accept is not None:
        headers["accept"] = accept
    if token:
        headers["authorization"] = f"Bearer {token}"
    content = body if isinstance(body, bytes) else orjson.dumps(body)
    response = client.post("/graphql", content=content, headers=headers)
    assert_clean(response)
    return response


def _codes(response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json()["errors"]]


# ---------------------------------------------------------------- media types


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/json"),
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        ("application/*", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),  # Apollo Client 4
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        ("Application/GraphQL-Response+JSON; charset=utf-8", GRAPHQL_RESPONSE),
        ("text/html, */*;q=0.1", "application/json"),
    ],
)
def test_the_response_media_type_is_negotiated_from_accept(client, accept, media_type):
    response = _post(client, TYPENAME, accept=accept)
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == media_type
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("accept", ["text/html", "application/xml", "application/json;q=0"])
def test_nothing_acceptable_is_406(client, accept):
    response = _post(client, TYPENAME, accept=accept)
    assert response.status_code == 406
    assert _codes(response) == ["NOT_ACCEPTABLE"]


@pytest.mark.parametrize(
    "content_type",
    [
        "APPLICATION/JSON",
        "application/json; charset=utf-8",
        "Application/Json ; Charset=UTF-8",
        'application/json; charset="utf-8"',
    ],
)
def test_content_types_are_matched_as_media_types(client, content_type):
    response = _post(client, TYPENAME, content_type=content_type)
    assert (response.status_code, response.json()) == (200, {"data": {"__typename": "Query"}})


@pytest.mark.parametrize(
    "content_type",
    [
        "application/jsonx",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "application/graphql",
        "",
    ],
)
def test_unsupported_content_types_are_415(client, content_type):
    response = _post(client, TYPENAME, content_type=content_type)
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/json"
    assert _codes(response) == ["UNSUPPORTED_MEDIA_TYPE"]


def test_a_post_without_content_type_is_415(client):
    response = client.post("/graphql", content=orjson.dumps(TYPENAME))
    assert response.status_code == 415


# ---------------------------------------------------------------- request errors


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": "{"}, "GRAPHQL_PARSE_FAILED"),
        ({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED"),
        (
            {"query": DOCUMENT, "operationName": "User", "variables": {"id": [1, 2]}},
            "BAD_USER_INPUT",
        ),
        ({"query": DOCUMENT, "operationName": "User", "variables": {}}, "BAD_USER_INPUT"),
    ],
)
def test_request_errors_are_400_without_data_under_graphql_response_json(client, body, code):
    strict = _post(client, body, accept=GRAPHQL_RESPONSE)
    assert strict.status_code == 400
    assert strict.headers["content-type"] == GRAPHQL_RESPONSE
    assert "data" not in strict.json()
    assert _codes(strict) == [code]
    legacy = _post(client, body, accept="application/json")
    assert legacy.status_code == 200  # what application/json clients expect
    assert "data" not in legacy.json()
    assert _codes(legacy) == [code]


def test_every_validation_error_has_a_code(client):
    response = _post(client, {"query": "{ nope also { x } }"})
    assert len(response.json()["errors"]) == 2
    assert set(_codes(response)) == {"GRAPHQL_VALIDATION_FAILED"}


def test_errors_of_an_executed_operation_are_200_with_data(client, org):
    """A resolver's error (here: a SYNC token reading users) is a field error: data, status 200."""
    body = {"query": "{ users { totalCount } }"}
    response = _post(client, body, accept=GRAPHQL_RESPONSE, token=org.sync)
    assert response.status_code == 200
    assert "data" in response.json()
    assert _codes(response) == ["FORBIDDEN"]


@pytest.mark.parametrize(
    "body",
    [
        {"query": {"obj": "ect"}},
        {"query": 0},
        {"query": "{ __typename }", "operationName": 0},
        {"query": "{ __typename }", "variables": "string"},
        {"query": "{ __typename }", "extensions": ["array"]},
    ],
)
def test_malformed_parameters_are_400_in_both_media_types(client, body):
    for accept in (GRAPHQL_RESPONSE, "application/json"):
        response = _post(client, body, accept=accept)
        assert response.status_code == 400
        assert _codes(response) == ["BAD_REQUEST"]


def test_null_parameters_and_extensions_are_allowed(client):
    body = {"query": "{ __typename }", "operationName": None, "variables": None, "extensions": {}}
    assert _post(client, body).json() == {"data": {"__typename": "Query"}}


# ---------------------------------------------------------------- methods


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
def test_other_methods_are_405_with_allow_and_a_json_body(client, method):
    """405 comes first: before the token is checked (issue 7's order: 405, 401, 413/415/406)."""
    del client.headers["authorization"]
    response = client.request(method, "/graphql")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    if method != "HEAD":
        assert response.headers["content-type"] == "application/json"
        assert _codes(response) == ["METHOD_NOT_ALLOWED"]


def test_a_mutation_over_get_is_405_allowing_post(client):
    response = client.get(
        "/graphql",
        params={"query": "mutation { __typename }"},
        headers={"accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert _codes(response) == ["METHOD_NOT_ALLOWED"]


def test_a_query_over_get_with_variables_and_extensions(api, org):
    response = api.client.get(
        "/graphql",
        params={
            "query": DOCUMENT,
            "operationName": "Users",
            "variables": '{"first": 2}',
            "extensions": "{}",
        },
        headers={"authorization": f"Bearer {org.admin}", "accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 200
    assert response.json()["data"]["users"]["totalCount"] == 0


def test_bad_json_in_get_parameters_is_400(client):
    response = client.get("/graphql", params={"query": "{ __typename }", "variables": "{"})
    assert response.status_code == 400


def test_graphiql_is_served_to_a_browser_only(client):
    page = client.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert client.get("/graphql", headers={"accept": "application/json"}).status_code == 400


# ---------------------------------------------------------------- automatic persisted queries


def _apq(query: str) -> dict:
    digest = hashlib.sha256(query.encode()).hexdigest()
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def test_apq_round_trip_for_a_sync(api, org):
    """Apollo's protocol: hash alone -> PersistedQueryNotFound; hash and document; hash alone."""
    query = "mutation Sync($input: SyncInput!) { sync(input: $input) { ok user { id } } }"
    variables = {"input": {"userId": "apq", "email": "apq@example.com"}}
    hash_only = {"variables": variables, "extensions": _apq(query)}
    first = _post(api.client, hash_only, token=org.sync)
    assert first.status_code == 200  # application/json: Apollo's clients read the error
    assert first.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert _codes(first) == ["PERSISTED_QUERY_NOT_FOUND"]
    strict = _post(api.client, hash_only, token=org.sync, accept=GRAPHQL_RESPONSE)
    assert strict.status_code == 404 and "data" not in strict.json()
    registered = _post(api.client, {**hash_only, "query": query}, token=org.sync)
    assert registered.json()["data"]["sync"] == {"ok": True, "user": {"id": "apq"}}
    again = _post(api.client, hash_only, token=org.sync)
    assert again.json()["data"]["sync"] == {"ok": True, "user": {"id": "apq"}}


def test_apq_documents_kept_are_bounded_by_their_length(app, client):
    """Issue 9 finding 2: the APQ store kept 1,000 documents of up to 64 KB (64 MB) by count; it
    is bounded by their length now, the least recently registered leaving first."""
    app.state.graphql.persisted.max_bytes = 100_000
    queries = [f"{{ a{i}: __typename }}" + "#" * 40_000 + "\n" for i in range(3)]
    for query in queries:
        assert _post(client, {"query": query, "extensions": _apq(query)}).status_code == 200
    answers = [_post(client, {"extensions": _apq(query)}).json() for query in queries]
    assert [e["extensions"]["code"] for e in answers[0]["errors"]] == ["PERSISTED_QUERY_NOT_FOUND"]
    assert answers[1]["data"] == {"a1": "Query"} and answers[2]["data"] == {"a2": "Query"}


def test_apq_with_a_hash_that_does_not_match_is_400_and_not_registered(client):
    query = "{ __typename }"
    wrong = {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}
    response = _post(client, {"query": query, "extensions": wrong})
    assert response.status_code == 400
    assert _codes(_post(client, {"extensions": wrong})) == ["PERSISTED_QUERY_NOT_FOUND"]


@pytest.mark.parametrize(
    "persisted",
    [{"version": 2, "sha256Hash": "0" * 64}, {"version": 1}, {"version": 1, "sha256Hash": 5}, "x"],
)
def test_apq_malformed_is_400(client, persisted):
    response = _post(client, {"extensions": {"persistedQuery": persisted}})
    assert response.status_code == 400


def test_apq_over_get_for_queries_only(api, org):
    query = "query Names { organizations { name } }"
    mutation = 'mutation { createOrganization(input: {name: "x"}) { userErrors { code } } }'
    for document in (query, mutation):
        _post(api.client, {"query": document, "extensions": _apq(document)}, token=api.operator)
    ok = api.client.get(
        "/graphql",
        params={"extensions": orjson.dumps(_apq(query)).decode()},
        headers={"authorization": f"Bearer {api.operator}"},
    )
    assert ok.status_code == 200 and "organizations" in ok.json()["data"]
    refused = api.client.get(
        "/graphql",
        params={"extensions": orjson.dumps(_apq(mutation)).decode()},
        headers={"authorization": f"Bearer {api.operator}"},
    )
    assert refused.status_code == 405


def test_a_document_that_does_not_validate_is_not_persisted(client):
    query = "{ nope }"
    _post(client, {"query": query, "extensions": _apq(query)})
    assert _codes(_post(client, {"extensions": _apq(query)})) == ["PERSISTED_QUERY_NOT_FOUND"]


# ---------------------------------------------------------------- Relay's PageInfo


def test_spec_6a_page_info_follows_relay(api, org):
    """Relay clients require hasPreviousPage and startCursor as well (issue 12)."""
    api.create_users(org, *({"id": f"u{i}"} for i in range(3)))
    query = (
        "query($after: String) { users(first: 2, after: $after) { edges { cursor } "
        "pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"
    )
    _, first = api.query(query, {}, org.admin)
    page = first["data"]["users"]
    cursors = [edge["cursor"] for edge in page["edges"]]
    assert page["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": cursors[0],
        "endCursor": cursors[-1],
    }
    _, second = api.query(query, {"after": cursors[-1]}, org.admin)
    info = second["data"]["users"]["pageInfo"]
    last = second["data"]["users"]["edges"][-1]["cursor"]
    assert info == {
        "hasNextPage": False,
        "hasPreviousPage": True,
        "startCursor": last,
        "endCursor": last,
    }
