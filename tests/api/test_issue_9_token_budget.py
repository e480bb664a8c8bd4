"""Issue 9, "Throttling": a per-token request budget (a token bucket), off by default and
configurable per token — set when the token is created or later, overriding the server-wide
budget; 429 with Retry-After beyond it. Time is injected: the buckets read a fake monotonic clock."""

from __future__ import annotations

import pytest
from seatkeeper.server.app import create_app
from seatkeeper.server.throttle import Throttle

from tests.api.api_support import TestClient

CREATE = """mutation ($org: ID!, $rps: Float) {
  createToken(input: {organizationId: $org, role: READER, name: "r", requestsPerSecond: $rps}) {
    token tokenId userErrors { code field }
  }
}"""
SET = """mutation ($id: ID!, $rps: Float) {
  setTokenRequestBudget(id: $id, requestsPerSecond: $rps) {
    token { id requestsPerSecond } userErrors { code field }
  }
}"""
ORG = """mutation { createOrganization(input: {name: "Budget"}) {
  organization { id } adminToken userErrors { code } } }"""
TYPENAME = {"query": "{ __typename }"}


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


def _client(clock, ticks, **options) -> TestClient:
    throttle = Throttle.default(clock=ticks, **options)
    return TestClient(create_app("memory://", clock=clock, operator_token="op", throttle=throttle))


def _gql(client, query, variables, token):
    response = client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def _statuses(client, token, n):
    return [
        client.post(
            "/graphql", json=TYPENAME, headers={"Authorization": f"Bearer {token}"}
        ).status_code
        for _ in range(n)
    ]


def _organization(client):
    created = _gql(client, ORG, {}, "op")["createOrganization"]
    return created["organization"]["id"], created["adminToken"]


def test_a_token_created_with_a_budget_gets_429_beyond_it(clock, ticks):
    with _client(clock, ticks) as client:  # no server-wide budget
        org, admin = _organization(client)
        created = _gql(client, CREATE, {"org": org, "rps": 2}, admin)["createToken"]
        assert created["userErrors"] == []
        assert _statuses(client, created["token"], 3) == [200, 200, 429]
        refused = client.post(
            "/graphql", json=TYPENAME, headers={"Authorization": f"Bearer {created['token']}"}
        )
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        assert refused.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_REQUESTS"
        ticks.now += 1
        assert _statuses(client, created["token"], 3) == [200, 200, 429]
        assert _statuses(client, admin, 20) == [200] * 20  # others are not budgeted


def test_a_budget_set_later_overrides_the_server_wide_one_and_null_restores_it(clock, ticks):
    with _client(clock, ticks, token_requests_per_second=2) as client:
        org, admin = _organization(client)
        created = _gql(client, CREATE, {"org": org, "rps": None}, admin)["createToken"]
        token, token_id = created["token"], created["tokenId"]
        assert _statuses(client, token, 3) == [200, 200, 429]  # the server's 2 a second
        ticks.now += 10
        changed = _gql(client, SET, {"id": token_id, "rps": 5}, admin)["setTokenRequestBudget"]
        assert changed == {"token": {"id": token_id, "requestsPerSecond": 5.0}, "userErrors": []}
        assert _statuses(client, token, 6) == [200] * 5 + [429]
        ticks.now += 10
        back = _gql(client, SET, {"id": token_id, "rps": None}, admin)["setTokenRequestBudget"]
        assert back["token"]["requestsPerSecond"] is None
        assert _statuses(client, token, 3) == [200, 200, 429]


def test_budgets_out_of_range_and_unknown_tokens_are_user_errors(clock, ticks):
    with _client(clock, ticks) as client:
        org, admin = _organization(client)
        for rps in (0, -1, 100_001):
            created = _gql(client, CREATE, {"org": org, "rps": rps}, admin)["createToken"]
            assert created["token"] is None
            assert created["userErrors"] == [
                {"code": "INVALID_INPUT", "field": ["input", "requestsPerSecond"]}
            ]
        missing = _gql(client, SET, {"id": "nope", "rps": 3}, admin)["setTokenRequestBudget"]
        assert [e["code"] for e in missing["userErrors"]] == ["TOKEN_NOT_FOUND"]
        # Another organization's token is not found from this one.
        other_org, other_admin = _organization(client)
        theirs = _gql(client, CREATE, {"org": other_org, "rps": None}, other_admin)
        their_id = theirs["createToken"]["tokenId"]
        foreign = _gql(client, SET, {"id": their_id, "rps": 3}, admin)["setTokenRequestBudget"]
        assert [e["code"] for e in foreign["userErrors"]] == ["TOKEN_NOT_FOUND"]
        # The change is in the administration log.
        by_operator = _gql(client, SET, {"id": their_id, "rps": 3}, "op")["setTokenRequestBudget"]
        assert by_operator["userErrors"] == []
        log = _gql(
            client,
            "query ($org: ID) { adminLog(organizationId: $org) { edges { node { action details actorRole } } } }",
            {"org": other_org},
            "op",
        )["adminLog"]["edges"]
        assert log[0]["node"] == {
            "action": "TOKEN_CHANGED",
            "details": "requests per second: server default -> 3",
            "actorRole": "OPERATOR",
        }
