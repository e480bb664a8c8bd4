"""SPEC 9, Access, over HTTP: bearer tokens, roles, and organizations that never see each other.

A missing or unknown token is UNAUTHENTICATED, a role without the right FORBIDDEN, both as GraphQL
errors with `extensions.code`. The organization always comes from the token.
"""

from __future__ import annotations

import pytest
from seatkeeper.server.app import create_app

from tests.api.api_support import (
    DOCUMENT,
    Api,
    Org,
    TestClient,
    assert_clean,
    assert_unauthenticated,
)

ROLES = ("OPERATOR", "ADMIN", "SYNC", "READER")
AUTH_CODES = {"UNAUTHENTICATED", "FORBIDDEN"}


def _variables(org: Org) -> dict[str, dict]:
    """Harmless variables for each contract operation, against `org`."""
    return {
        "Sync": {"input": {"userId": "u1", "email": "u1@example.com"}},
        "Organization": {},
        "Subscriptions": {},
        "Users": {},
        "User": {"id": "u1"},
        "SetLicenseState": {"input": {"userIds": ["u1"], "licenseType": "STANDARD", "state": "DISABLED"}},
        "CreateUsers": {"users": [{"id": "n1", "fullName": "New", "email": "n1@example.com"}]},
        "DeleteUsers": {"userIds": ["nobody"]},
        "UpdateSettings": {"input": {"gracePeriodDays": 10}},
        "UpsertProject": {"input": {"id": "p1", "name": "P1", "kind": "STANDARD"}},
        "ImportLicenses": {"input": {"csv": '"Id","Email","Standard","Inspections"\r\n', "dryRun": True}},
        "ExportLicenses": {},
        "ExportUsers": {},
        "SyncLog": {},
        "AuditLog": {},
        "CreateOrganization": {"input": {"name": "Other"}},
        "AddSubscription": {"input": {"organizationId": org.id, "licenseType": "EXTERNAL", "validUntil": "2099-01-01T00:00:00Z"}},
        "Organizations": {},
        "CreateToken": {"input": {"organizationId": org.id, "role": "READER", "name": "r2"}},
        "Tokens": {},
        "RevokeToken": {"id": "no-such-token"},
    }  # fmt: skip


#: SPEC 9: which roles may run each contract operation. OPERATOR reads of one organization
#: (Organization, Subscriptions) need its `organizationId`, which the contract documents do not
#: pass; they are tested with it below.
ALLOWED = {
    "Sync": {"ADMIN", "SYNC"},
    "Users": {"ADMIN", "READER"},
    "User": {"ADMIN", "READER"},
    "ExportLicenses": {"ADMIN", "READER"},
    "ExportUsers": {"ADMIN", "READER"},
    "SyncLog": {"ADMIN", "READER"},
    "AuditLog": {"ADMIN", "READER"},
    "Organization": {"ADMIN", "READER"},
    "Subscriptions": {"ADMIN", "READER"},
    "SetLicenseState": {"ADMIN"},
    "CreateUsers": {"ADMIN"},
    "DeleteUsers": {"ADMIN"},
    "UpdateSettings": {"ADMIN"},
    "UpsertProject": {"ADMIN"},
    "ImportLicenses": {"ADMIN"},
    "Tokens": {"ADMIN", "OPERATOR"},
    "CreateToken": {"ADMIN", "OPERATOR"},
    "RevokeToken": {"ADMIN", "OPERATOR"},
    "CreateOrganization": {"OPERATOR"},
    "AddSubscription": {"OPERATOR"},
    "Organizations": {"OPERATOR"},
}
OPERATOR_NAMES_THE_ORGANIZATION = {"Organization", "Subscriptions"}


def _codes(body: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


def _no_data(body: dict) -> bool:
    """`data` is null, or (for a nullable root field) holds only nulls."""
    return body["data"] is None or all(value is None for value in body["data"].values())


def _reader(api: Api, org: Org) -> str:
    created = api.data(
        "CreateToken",
        {"input": {"organizationId": org.id, "role": "READER", "name": "reader"}},
        org.admin,
    )["createToken"]
    return created["token"]


@pytest.fixture
def tokens(api, org) -> dict[str, str]:
    return {
        "OPERATOR": api.operator,
        "ADMIN": org.admin,
        "SYNC": org.sync,
        "READER": _reader(api, org),
    }


# ---------------------------------------------------------------- who may do what


@pytest.mark.parametrize("operation", sorted(ALLOWED))
def test_spec_9_each_role_against_each_operation(api, org, tokens, operation):
    """Allowed roles get past authorization (no auth error); the others get FORBIDDEN and no data."""
    mismatches = []
    for role in ROLES:
        status, body = api.gql(operation, _variables(org)[operation], tokens[role])
        assert status == 200, body
        codes = _codes(body)
        if role in ALLOWED[operation]:
            if AUTH_CODES & set(codes):
                mismatches.append(f"{role} was refused: {body['errors']}")
        elif role == "OPERATOR" and operation in OPERATOR_NAMES_THE_ORGANIZATION:
            if codes != ["BAD_USER_INPUT"]:  # "the OPERATOR must pass organizationId"
                mismatches.append(f"OPERATOR without organizationId: {body}")
        elif codes != ["FORBIDDEN"] or not _no_data(body):
            mismatches.append(f"{role} was not FORBIDDEN: {body}")
    assert mismatches == []


def test_spec_9_operator_reads_one_organization_by_naming_it(api, org):
    query = """query ($id: ID!) {
      organization(organizationId: $id) { id name }
      subscriptions(organizationId: $id) { licenseType }
    }"""
    status, body = api.query(query, {"id": org.id}, api.operator)
    assert status == 200 and "errors" not in body, body
    assert body["data"]["organization"] == {"id": org.id, "name": "Acme"}
    assert len(body["data"]["subscriptions"]) == 3


def test_spec_9_forbidden_error_names_the_role(api, org):
    _status, body = api.gql("SetLicenseState", _variables(org)["SetLicenseState"], org.sync)
    assert body["errors"][0]["message"] == "the SYNC role may not do this"
    assert body["errors"][0]["path"] == ["setLicenseState"]


# ---------------------------------------------------------------- missing, wrong, malformed, revoked


@pytest.mark.parametrize(
    "operation",
    ["Sync", "Users", "SetLicenseState", "Tokens", "CreateOrganization", "Organizations"],
)
def test_spec_9_no_token_is_unauthenticated(api, org, operation):
    body = {"query": DOCUMENT, "operationName": operation, "variables": _variables(org)[operation]}
    assert_unauthenticated(api.post(body, token=None))


@pytest.mark.parametrize(
    "operation", ["Sync", "Users", "SetLicenseState", "Tokens", "CreateOrganization"]
)
def test_spec_9_a_wrong_token_is_unauthenticated(api, org, operation):
    wrong = org.admin[:-4] + ("AAAA" if not org.admin.endswith("AAAA") else "BBBB")
    assert api.error_codes(operation, _variables(org)[operation], wrong) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "header",
    [
        "Token {admin}",  # another scheme
        "Basic dXNlcjpwYXNz",
        "Bearer",  # no secret
        "Bearer    ",
        "{admin}",  # the secret without a scheme
        "Bearer {admin} extra",
        "Bearer " + "x" * 5000,  # absurdly long
        "",
    ],
)
def test_spec_9_a_malformed_authorization_header_is_unauthenticated(api, org, client, header):
    response = client.post(
        "/graphql",
        json={"query": "{ users { totalCount } }"},
        headers={"Authorization": header.format(admin=org.admin)},
    )
    assert_unauthenticated(response)


def test_spec_9_the_scheme_is_case_insensitive(api, org, client):
    response = client.post(
        "/graphql",
        json={"query": "{ users { totalCount } }"},
        headers={"Authorization": f"bearer {org.admin}"},
    )
    assert response.json() == {"data": {"users": {"totalCount": 0}}}


def test_spec_9_a_revoked_token_is_unauthenticated_and_others_keep_working(api, org):
    token_id = next(
        t["id"] for t in api.data("Tokens", token=org.admin)["tokens"] if t["role"] == "SYNC"
    )
    assert api.sync(org.sync, "u1")["ok"] is True
    revoked = api.data("RevokeToken", {"id": token_id}, org.admin)["revokeToken"]
    assert revoked["userErrors"] == [] and revoked["token"]["revokedAt"] is not None

    assert api.error_codes("Sync", _variables(org)["Sync"], org.sync) == ["UNAUTHENTICATED"]
    assert api.sync(org.admin, "u1")["ok"] is True
    # Revoking twice: it is still found (and stays revoked).
    again = api.data("RevokeToken", {"id": token_id}, org.admin)["revokeToken"]
    assert again["token"]["id"] == token_id


def test_spec_9_the_operator_token_is_not_a_stored_token(api, org):
    """The OPERATOR's secret is configuration: it cannot be listed or revoked, and ADMIN is not OPERATOR."""
    listed = api.data("Tokens", token=api.operator)["tokens"]
    assert {t["role"] for t in listed} == {"ADMIN", "SYNC"}
    assert api.error_codes("Organizations", token=org.admin) == ["FORBIDDEN"]


def test_spec_9_operator_token_from_the_environment(monkeypatch, clock):
    monkeypatch.setenv("SEATKEEPER_OPERATOR_TOKEN", "env-operator-secret")
    with TestClient(create_app("memory://", clock=clock)) as client:
        api = Api(client, "env-operator-secret", clock)
        assert api.data("Organizations", token="env-operator-secret") == {"organizations": []}
        assert api.error_codes("Organizations", token="other") == ["UNAUTHENTICATED"]


def test_spec_9_without_an_operator_token_nobody_is_operator(monkeypatch, clock):
    monkeypatch.delenv("SEATKEEPER_OPERATOR_TOKEN", raising=False)
    with TestClient(create_app("memory://", clock=clock)) as client:
        api = Api(client, "", clock)
        for guess in ("", "None", "null"):
            assert api.error_codes("Organizations", token=guess or None) == ["UNAUTHENTICATED"]


def test_spec_9_csv_download_routes_need_a_reading_token(client, org):
    for path in ("/export/licenses.csv", "/export/users.csv"):
        response = client.get(path)
        assert_clean(response)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        response = client.get(path, headers={"Authorization": f"Bearer {org.sync}"})
        assert response.status_code == 403
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


# ---------------------------------------------------------------- organization isolation


@pytest.fixture
def b_world(api, org_b, clock):
    """Organization B with a seat holder, a pending user, settings, a subscription and logs."""
    api.add_subscription(org_b, "STANDARD", seats=3)
    api.create_users(
        org_b,
        {
            "id": "b-holder",
            "fullName": "Bea Holder",
            "email": "bea@b.example",
            "standard": "ASSIGNED",
        },
    )
    api.sync(org_b.sync, "b-holder", "bea@b.example")
    api.sync(org_b.sync, "b-pending", "pending@b.example")
    api.settings(org_b, autoAssignLicenses=True, inactivityDays=30)
    return org_b


def _b_snapshot(api: Api, b: Org) -> dict:
    return {
        "users": api.data("Users", token=b.admin)["users"],
        "organization": api.data("Organization", token=b.admin)["organization"],
        "subscriptions": api.data("Subscriptions", token=b.admin)["subscriptions"],
        "syncLog": api.data("SyncLog", token=b.admin)["syncLog"],
        "auditLog": api.data("AuditLog", token=b.admin)["auditLog"],
        "tokens": api.data("Tokens", token=b.admin)["tokens"],
    }


def test_spec_9_organization_b_is_invisible_to_a(api, org, b_world):
    a, b = org, b_world
    users = api.data("Users", {"search": "b"}, a.admin)["users"]
    assert users["totalCount"] == 0 and users["edges"] == []
    assert api.user(a, "b-holder") is None
    assert api.data("SyncLog", token=a.admin)["syncLog"]["edges"] == []
    assert (
        api.data("AuditLog", {"filter": {"userId": "b-holder"}}, a.admin)["auditLog"]["edges"] == []
    )
    organization = api.data("Organization", token=a.admin)["organization"]
    assert organization["id"] == a.id and organization["settings"]["autoAssignLicenses"] is False
    assert all(
        row["items"] == [] and row["assigned"] in (0, None)
        for row in api.data("Subscriptions", token=a.admin)["subscriptions"]
    )
    assert {t["id"] for t in api.data("Tokens", token=a.admin)["tokens"]}.isdisjoint(
        {t["id"] for t in api.data("Tokens", token=b.admin)["tokens"]}
    )


def test_spec_9_exports_hold_only_the_callers_organization(api, org, b_world):
    exported = api.data("ExportUsers", token=org.admin)["exportUsers"]
    assert "b-holder" not in exported and "b-pending" not in exported
    assert "b-holder" in api.data("ExportUsers", token=b_world.admin)["exportUsers"]
    assert "b-holder" not in api.data("ExportLicenses", token=org.admin)["exportLicenses"]


@pytest.mark.parametrize(
    "field",
    [
        "organization(organizationId: $id) { id }",
        "subscriptions(organizationId: $id) { licenseType }",
        "tokens(organizationId: $id) { id }",
    ],
)
def test_spec_9_a_token_naming_another_organization_is_forbidden(api, org, b_world, field):
    for token in (org.admin, org.sync):
        _status, body = api.query(f"query ($id: ID!) {{ {field} }}", {"id": b_world.id}, token)
        assert _codes(body) == ["FORBIDDEN"], body
        assert _no_data(body)


def test_spec_9_organization_b_is_unchangeable_by_a(api, org, b_world):
    a, b = org, b_world
    before = _b_snapshot(api, b)
    b_token_id = before["tokens"][0]["id"]

    changed = api.set_state(a, ["b-holder", "b-pending"], "STANDARD", "DISABLED")
    assert [(e["code"], e["userId"]) for e in changed["userErrors"]] == [
        ("USER_NOT_FOUND", "b-holder"),
        ("USER_NOT_FOUND", "b-pending"),
    ]
    deleted = api.data("DeleteUsers", {"userIds": ["b-holder"]}, a.admin)["deleteUsers"]
    assert [e["code"] for e in deleted["userErrors"]] == ["USER_NOT_FOUND"]
    assert api.error_codes(
        "CreateToken",
        {"input": {"organizationId": b.id, "role": "ADMIN", "name": "intruder"}},
        a.admin,
    ) == ["FORBIDDEN"]
    revoked = api.data("RevokeToken", {"id": b_token_id}, a.admin)["revokeToken"]
    assert revoked["token"] is None and [e["code"] for e in revoked["userErrors"]] == [
        "TOKEN_NOT_FOUND"
    ]
    # A's own settings, projects and users are A's: the same ids and e-mails are free in A.
    api.settings(a, autoAssignLicenses=False, inactivityDays=200)
    api.project(a, "default", "EXTERNAL")
    api.create_users(a, {"id": "b-holder", "fullName": "Other Bea", "email": "bea@b.example"})
    # A's SYNC token syncing B's user id and e-mail makes a user of A, not a sync of B's user.
    synced = api.sync(a.sync, "b-pending", "pending@b.example")
    assert synced["userErrors"] == []
    # A's SYNC token may not administer anything of B (or of A).
    assert api.error_codes("SetLicenseState", _variables(b)["SetLicenseState"], a.sync) == [
        "FORBIDDEN"
    ]

    assert _b_snapshot(api, b) == before
    assert api.sync(b.sync, "b-holder", "bea@b.example")["license"]["type"] == "STANDARD"
