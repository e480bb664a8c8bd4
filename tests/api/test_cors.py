"""CORS (issue 12): off by default; allowed origins by flag or SEATKEEPER_CORS_ORIGINS; preflights
answered before authentication; credentials never allowed with `*`.

The finding: no browser front end could call the API from another origin (no CORS; the preflight
got 405).
"""

from __future__ import annotations

import pytest
from seatkeeper.server.app import app_from_environment, create_app
from seatkeeper.server.cors import CorsConfigError, parse_origins

from tests.api.api_support import TestClient

ADMIN_UI = "https://admin.example.com"
PREFLIGHT = {
    "origin": ADMIN_UI,
    "access-control-request-method": "POST",
    "access-control-request-headers": "authorization, content-type",
}


@pytest.fixture
def cors_client(clock, operator_token):
    app = create_app(
        "memory://", clock=clock, operator_token=operator_token, cors_origins=[ADMIN_UI]
    )
    with TestClient(app) as client:
        yield client


def test_cors_is_off_by_default(client):
    preflight = client.options("/graphql", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in preflight.headers
    answer = client.post("/graphql", json={"query": "{ __typename }"}, headers={"origin": ADMIN_UI})
    assert "access-control-allow-origin" not in answer.headers


def test_a_preflight_from_an_allowed_origin_is_answered_without_a_token(cors_client):
    response = cors_client.options("/graphql", headers=PREFLIGHT)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ADMIN_UI
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed


def test_an_answer_to_an_allowed_origin_carries_the_headers(cors_client, operator_token):
    response = cors_client.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"origin": ADMIN_UI, "authorization": f"Bearer {operator_token}"},
    )
    assert response.json() == {"data": {"__typename": "Query"}}
    assert response.headers["access-control-allow-origin"] == ADMIN_UI
    assert "x-request-id" in response.headers["access-control-expose-headers"]
    refused = cors_client.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"origin": ADMIN_UI}
    )
    assert refused.status_code == 401  # the browser can read why: the CORS headers are there too
    assert refused.headers["access-control-allow-origin"] == ADMIN_UI


def test_another_origin_is_not_allowed(cors_client):
    response = cors_client.options(
        "/graphql", headers={**PREFLIGHT, "origin": "https://evil.example.com"}
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_any_origin_is_never_with_credentials(clock):
    app = create_app("memory://", clock=clock, cors_origins=["*"])
    with TestClient(app) as client:
        response = client.options("/graphql", headers={**PREFLIGHT, "origin": "https://x.example"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers


def test_origins_from_the_environment(monkeypatch):
    monkeypatch.setenv("SEATKEEPER_CORS_ORIGINS", f" {ADMIN_UI}/, https://b.example:8443 ")
    monkeypatch.setenv("SEATKEEPER_STORAGE", "memory://")
    app = app_from_environment()
    with TestClient(app) as client:
        for origin in (ADMIN_UI, "https://b.example:8443"):
            response = client.options("/graphql", headers={**PREFLIGHT, "origin": origin})
            assert response.headers["access-control-allow-origin"] == origin


@pytest.mark.parametrize(
    "value",
    [
        "admin.example.com",
        "https://a.example/path",
        "ftp://a.example",
        "javascript:alert(1)",
        "x" * 300,
    ],
)
def test_a_malformed_origin_is_refused(value):
    with pytest.raises(CorsConfigError):
        parse_origins([value])


def test_empty_values_mean_off():
    assert parse_origins(["", " , ", ","]) == []
