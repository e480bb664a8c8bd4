"""Helpers of the API tests: the contract document and a client that speaks it over HTTP.

A module with a name of its own (not conftest.py) so that test modules can import it: several
conftest.py files share the module name `conftest`, and importing from one is fragile.

Requests go over HTTP exactly as clients send them: the WHOLE contract document
(tests/contract/operations.graphql) with an `operationName`, variables and a bearer token.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # Starlette >= 1.x suggests httpx2 for its test client; httpx works and is what we install.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

CONTRACT = Path(__file__).resolve().parents[1] / "contract" / "operations.graphql"
#: The contract document, sent whole with every request (that is how clients send it).
DOCUMENT = CONTRACT.read_text(encoding="utf-8")


def iso(when: datetime) -> str:
    """How the API writes a DateTime: ISO 8601 in UTC with `Z`."""
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def assert_unauthenticated(response) -> None:
    """SPEC 9: 401, `WWW-Authenticate: Bearer`, and one UNAUTHENTICATED error in a JSON body."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-request-id")
    errors = response.json()["errors"]
    assert [e["extensions"]["code"] for e in errors] == ["UNAUTHENTICATED"]
    assert "Authorization: Bearer" in errors[0]["message"]


def assert_clean(response) -> None:
    """No answer is a 500, and none leaks a Python traceback."""
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
    assert 'File "' not in response.text


@dataclass(frozen=True)
class Org:
    """An organization created through the contract's CreateOrganization, with its first tokens."""

    id: str
    name: str
    admin: str
    sync: str


class Api:
    """A client of the app that speaks the contract. `token=None` sends no Authorization header."""

    def __init__(self, client: TestClient, operator: str, clock) -> None:
        self.client = client
        self.operator = operator
        self.clock = clock

    # ------------------------------------------------------------ transport

    def post(self, body: Any, token: str | None = None, **kwargs: Any):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.client.post("/graphql", json=body, headers=headers, **kwargs)
        assert_clean(response)
        return response

    def gql(
        self, operation_name: str, variables: dict | None = None, token: str | None = None
    ) -> tuple[int, dict]:
        """POST the whole contract document naming one operation; (status, decoded JSON)."""
        body = {"query": DOCUMENT, "operationName": operation_name, "variables": variables or {}}
        response = self.post(body, token)
        return response.status_code, response.json()

    def query(
        self, query: str, variables: dict | None = None, token: str | None = None
    ) -> tuple[int, dict]:
        """POST a document of our own (for arguments the contract does not use)."""
        response = self.post({"query": query, "variables": variables or {}}, token)
        return response.status_code, response.json()

    def data(
        self, operation_name: str, variables: dict | None = None, token: str | None = None
    ) -> dict:
        """The `data` of an operation that must succeed: HTTP 200 and no GraphQL errors."""
        status, body = self.gql(operation_name, variables, token)
        assert status == 200, body
        assert "errors" not in body, body["errors"]
        return body["data"]

    def error_codes(
        self, operation_name: str, variables: dict | None = None, token: str | None = None
    ) -> list[str]:
        """The `extensions.code` of every GraphQL error of an operation (200 with errors), or
        ["UNAUTHENTICATED"] for a refused token (401 before the document is read, SPEC 9)."""
        body = {"query": DOCUMENT, "operationName": operation_name, "variables": variables or {}}
        response = self.post(body, token)
        if response.status_code == 401:
            assert_unauthenticated(response)
            return ["UNAUTHENTICATED"]
        assert response.status_code == 200, response.text
        return [e.get("extensions", {}).get("code") for e in response.json().get("errors", [])]

    # ------------------------------------------------------------ short ways through the contract

    def create_org(self, name: str = "Acme", trial_days: int = 0) -> Org:
        created = self.data(
            "CreateOrganization", {"input": {"name": name, "trialDays": trial_days}}, self.operator
        )["createOrganization"]
        assert created["userErrors"] == []
        return Org(created["organization"]["id"], name, created["adminToken"], created["syncToken"])

    def add_subscription(
        self,
        org: Org,
        license_type: str,
        seats: int | None = None,
        days: float = 365,
        starts_in_days: float | None = None,
    ) -> dict:
        """A subscription valid from now (or `starts_in_days` from now) for `days` days from now."""
        now = self.clock()
        variables: dict[str, Any] = {
            "organizationId": org.id,
            "licenseType": license_type,
            "seats": seats,
            "validUntil": iso(now + timedelta(days=days)),
        }
        if starts_in_days is not None:
            variables["validFrom"] = iso(now + timedelta(days=starts_in_days))
        payload = self.data("AddSubscription", {"input": variables}, self.operator)[
            "addSubscription"
        ]
        assert payload["userErrors"] == []
        return payload["subscription"]

    def settings(self, org: Org, **values: Any) -> dict:
        """UpdateSettings with camelCase keys, e.g. settings(org, autoAssignLicenses=True)."""
        payload = self.data("UpdateSettings", {"input": values}, org.admin)["updateSettings"]
        assert payload["userErrors"] == []
        return payload["settings"]

    def project(self, org: Org, project_id: str, kind: str, name: str | None = None) -> dict:
        payload = self.data(
            "UpsertProject",
            {"input": {"id": project_id, "name": name or project_id, "kind": kind}},
            org.admin,
        )["upsertProject"]
        assert payload["userErrors"] == []
        return payload["project"]

    def sync(
        self,
        token: str,
        user_id: str,
        email: str | None = None,
        *,
        full_name: str | None = None,
        project_id: str | None = None,
        client: str | None = None,
    ) -> dict:
        """The contract's Sync; returns the `sync` payload (license errors are data, not errors)."""
        sync_input: dict[str, Any] = {"userId": user_id, "email": email or f"{user_id}@example.com"}
        if full_name is not None:
            sync_input["fullName"] = full_name
        if project_id is not None:
            sync_input["projectId"] = project_id
        if client is not None:
            sync_input["client"] = client
        return self.data("Sync", {"input": sync_input}, token)["sync"]

    def create_users(self, org: Org, *users: dict) -> list[dict]:
        """CreateUsers; each user a dict with id (and optional fullName, email, standard, inspections)."""
        full = [
            {
                "fullName": u.get("fullName", u["id"]),
                "email": u.get("email", f"{u['id']}@example.com"),
                **u,
            }
            for u in users
        ]
        payload = self.data("CreateUsers", {"users": full}, org.admin)["createUsers"]
        assert payload["userErrors"] == []
        return payload["users"]

    def set_state(self, org: Org, user_ids: list[str], license_type: str, state: str) -> dict:
        return self.data(
            "SetLicenseState",
            {"input": {"userIds": user_ids, "licenseType": license_type, "state": state}},
            org.admin,
        )["setLicenseState"]

    def user(self, org: Org, user_id: str) -> dict | None:
        return self.data("User", {"id": user_id}, org.admin)["user"]

    def subscriptions(self, org: Org) -> dict[str, dict]:
        """The subscriptions view (SPEC 6) keyed by license type."""
        rows = self.data("Subscriptions", token=org.admin)["subscriptions"]
        return {row["licenseType"]: row for row in rows}
