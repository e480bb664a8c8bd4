"""`GET /export/users.csv` takes the list's filter too (SPEC 6a, SPEC 7 "Export Users"), so the
console's Export Users downloads what the screen lists; bad values are a clear 400 and change
nothing, and the route still needs a token."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

DOCUMENT = (Path(__file__).resolve().parents[1] / "contract" / "operations.graphql").read_text()


def _gql(client, operation, variables, token):
    response = client.post(
        "/graphql",
        json={"query": DOCUMENT, "operationName": operation, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


@pytest.fixture
def admin(client, operator_token, clock):
    created = _gql(client, "CreateOrganization", {"input": {"name": "Acme"}}, operator_token)[
        "createOrganization"
    ]
    org_id, token = created["organization"]["id"], created["adminToken"]
    until = (clock() + timedelta(days=30)).isoformat()
    _gql(
        client,
        "AddSubscription",
        {
            "input": {
                "organizationId": org_id,
                "licenseType": "STANDARD",
                "seats": 5,
                "validUntil": until,
            }
        },
        operator_token,
    )
    users = [
        {"id": "u1", "fullName": "Ann Held", "email": "ann@x.example", "standard": "ASSIGNED"},
        {"id": "u2", "fullName": "Bob Blocked", "email": "bob@x.example", "standard": "DISABLED"},
        {"id": "u3", "fullName": "Cid Free", "email": "cid@x.example"},
    ]
    result = _gql(client, "CreateUsers", {"users": users}, token)["createUsers"]
    assert result["userErrors"] == []
    return token


def _names(csv_text: str) -> list[str]:
    return [line.split(",")[1].strip('"') for line in csv_text.strip().splitlines()[1:]]


def test_spec_6a_users_file_follows_the_filter_parameters(client, admin):
    def export(query: str) -> list[str]:
        response = client.get(
            f"/export/users.csv{query}", headers={"Authorization": f"Bearer {admin}"}
        )
        assert response.status_code == 200, response.text
        return _names(response.text)

    assert export("") == ["Ann Held", "Bob Blocked", "Cid Free"]
    assert export("?licenseType=STANDARD") == ["Ann Held"]
    assert export("?licenseType=STANDARD&state=DISABLED") == ["Bob Blocked"]
    assert export("?state=UNASSIGNED") == ["Ann Held", "Bob Blocked", "Cid Free"]  # either selector
    assert export("?licenseType=EXTERNAL") == []
    assert export("?inactive=true") == []
    assert export("?inactive=false&search=cid") == ["Cid Free"]
    assert export("?licenseType=&state=&inactive=") == ["Ann Held", "Bob Blocked", "Cid Free"]


@pytest.mark.parametrize(
    "query, named",
    [
        ("licenseType=standard", "licenseType"),
        ("licenseType=GOLD", "licenseType"),
        ("state=ENABLED", "state"),
        ("state=__class__", "state"),
        ("inactive=yes", "inactive"),
        ("inactive=" + "x" * 10_000, "inactive"),
        ("licenseType=%00", "licenseType"),
        ("state=%F0%9F%92%A5", "state"),
    ],
)
def test_bad_filter_parameters_are_a_clear_400(client, admin, query, named):
    response = client.get(
        f"/export/users.csv?{query}", headers={"Authorization": f"Bearer {admin}"}
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert f"`{named}`" in error["message"] and "Traceback" not in response.text


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nope"}])
def test_filtered_export_still_needs_a_token(client, admin, headers):
    response = client.get("/export/users.csv?licenseType=STANDARD", headers=headers)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
