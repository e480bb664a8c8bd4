"""Every `field` path the API answers, exactly as clients see it (issue 10).

The rules name the offending input with neutral names (`seatkeeper.rules.fields`); the API layer
turns them into the camelCase paths of the contract. These are the paths of today's answers, one
case per path the rules can produce, so that moving the names out of the rules changes no byte.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.api_support import iso

SHORT_ID = "x" * 129  # longer than SPEC 1 allows


def _user(**fields: str) -> dict:
    return {"id": "n1", "fullName": "New One", "email": "n1@example.com", **fields}


def _payload_errors(api, operation, variables, token) -> list[tuple]:
    data = api.data(operation, variables, token)
    (payload,) = data.values()
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


def _own_errors(api, document, variables, token) -> list[tuple]:
    """For the mutations whose contract operation does not select `field`."""
    status, body = api.query(document, variables, token)
    assert status == 200 and "errors" not in body, body
    (payload,) = body["data"].values()
    return [(e["code"], e["field"]) for e in payload["userErrors"]]


DELETE_USERS = "mutation($ids: [ID!]!) { deleteUsers(userIds: $ids) { userErrors { code field } } }"
REVOKE_TOKEN = "mutation($id: ID!) { revokeToken(id: $id) { userErrors { code field } } }"


def test_sync_paths(api, org):
    """SPEC 4.1: the sync's input fields."""
    bad = {"userId": "", "email": "nope", "fullName": " " * 3 + "\x00", "projectId": "a b" * 40}
    assert _payload_errors(api, "Sync", {"input": bad}, org.sync) == [
        ("INVALID_INPUT", ["input", "userId"]),
        ("INVALID_INPUT", ["input", "email"]),
        ("INVALID_INPUT", ["input", "fullName"]),
        ("INVALID_INPUT", ["input", "projectId"]),
    ]
    assert _payload_errors(
        api,
        "Sync",
        {"input": {"userId": "u1", "email": "u1@example.com", "projectId": "no"}},
        org.sync,
    ) == [("PROJECT_NOT_FOUND", ["input", "projectId"])]


def test_set_license_state_paths(api, org):
    """SPEC 3, setLicenseState: the listed ids sit under `input.userIds`."""
    assert _payload_errors(
        api,
        "SetLicenseState",
        {"input": {"userIds": ["ok", ""], "licenseType": "EXTERNAL", "state": "ASSIGNED"}},
        org.admin,
    ) == [
        ("INVALID_INPUT", ["input", "userIds", "1"]),
        ("INVALID_INPUT", ["input", "licenseType"]),
    ]
    assert _payload_errors(
        api,
        "SetLicenseState",
        {"input": {"userIds": [], "licenseType": "STANDARD", "state": "ASSIGNED"}},
        org.admin,
    ) == [("INVALID_INPUT", ["input", "userIds"])]
    api.create_users(org, {"id": "u1"})
    assert _payload_errors(
        api,
        "SetLicenseState",
        {"input": {"userIds": ["u1"], "licenseType": "STANDARD", "state": "ASSIGNED"}},
        org.admin,
    ) == [("NOT_ENOUGH_SEATS", ["input", "userIds"])]


def test_create_users_paths(api, org):
    """SPEC 3, createUsers: each user's fields under `users.<index>`."""
    users = [
        _user(id="", fullName="", email="bad"),
        _user(id="n2", email="n2@example.com", standard="ASSIGNED", inspections="ASSIGNED"),
        _user(id="n2", email="N2@example.com"),
    ]
    assert _payload_errors(api, "CreateUsers", {"users": users}, org.admin) == [
        ("INVALID_INPUT", ["users", "0", "id"]),
        ("INVALID_INPUT", ["users", "0", "fullName"]),
        ("INVALID_INPUT", ["users", "0", "email"]),
        ("INVALID_INPUT", ["users", "1", "inspections"]),
        ("USER_EXISTS", ["users", "2", "id"]),
        ("EMAIL_TAKEN", ["users", "2", "email"]),
    ]
    assert _payload_errors(api, "CreateUsers", {"users": []}, org.admin) == [
        ("INVALID_INPUT", ["users"])
    ]
    api.create_users(org, {"id": "n1"})
    assert _payload_errors(api, "CreateUsers", {"users": [_user()]}, org.admin) == [
        ("USER_EXISTS", ["users", "0", "id"]),
        ("EMAIL_TAKEN", ["users", "0", "email"]),
    ]
    assert _payload_errors(
        api,
        "CreateUsers",
        {"users": [_user(id="n3", email="n3@example.com", standard="ASSIGNED")]},
        org.admin,
    ) == [("NOT_ENOUGH_SEATS", ["users"])]


def test_delete_users_paths(api, org):
    """SPEC 3, deleteUsers: the ids are the top-level `userIds` argument."""
    assert _own_errors(api, DELETE_USERS, {"ids": ["ghost", ""]}, org.admin) == [
        ("INVALID_INPUT", ["userIds", "1"])
    ]
    assert _own_errors(api, DELETE_USERS, {"ids": ["ghost"]}, org.admin) == [
        ("USER_NOT_FOUND", ["userIds", "0"])
    ]


def test_settings_and_project_paths(api, org):
    """SPEC 3, settings; SPEC 5, projects."""
    assert _payload_errors(
        api, "UpdateSettings", {"input": {"inactivityDays": 0, "gracePeriodDays": -1}}, org.admin
    ) == [
        ("INVALID_INPUT", ["input", "inactivityDays"]),
        ("INVALID_INPUT", ["input", "gracePeriodDays"]),
    ]
    assert _payload_errors(
        api, "UpsertProject", {"input": {"id": "", "name": "", "kind": "STANDARD"}}, org.admin
    ) == [("INVALID_INPUT", ["input", "id"]), ("INVALID_INPUT", ["input", "name"])]


def test_import_licenses_path(api, org):
    """SPEC 7: a file with errors is refused as a whole, at `input.csv`."""
    assert _payload_errors(
        api,
        "ImportLicenses",
        {"input": {"csv": "nothing,useful\n1,2\n", "mode": "MERGE"}},
        org.admin,
    ) == [("CSV_INVALID", ["input", "csv"])]


def test_tenancy_paths(api, org, clock):
    """SPEC 9: organizations, subscriptions and tokens."""
    assert _payload_errors(
        api, "CreateOrganization", {"input": {"name": "", "trialDays": -1}}, api.operator
    ) == [("INVALID_INPUT", ["input", "name"]), ("INVALID_INPUT", ["input", "trialDays"])]
    until = iso(clock() + timedelta(days=1))
    assert _payload_errors(
        api,
        "AddSubscription",
        {
            "input": {
                "organizationId": org.id,
                "licenseType": "STANDARD",
                "seats": 0,
                "validFrom": until,
                "validUntil": until,
            }
        },
        api.operator,
    ) == [("INVALID_INPUT", ["input", "seats"]), ("INVALID_INPUT", ["input", "validUntil"])]
    assert _payload_errors(
        api,
        "CreateToken",
        {"input": {"organizationId": "nope", "role": "OPERATOR", "name": ""}},
        api.operator,
    ) == [
        ("INVALID_INPUT", ["input", "role"]),
        ("INVALID_INPUT", ["input", "name"]),
        ("ORGANIZATION_NOT_FOUND", ["input", "organizationId"]),
    ]
    assert _own_errors(api, REVOKE_TOKEN, {"id": "nope"}, org.admin) == [
        ("TOKEN_NOT_FOUND", ["id"])
    ]


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"first": 0}, ["first"]), ({"search": "x" * 257}, ["search"]), ({"after": "!"}, ["after"])],
)
def test_query_argument_paths(api, org, variables, field):
    """SPEC 6a: a listing's bad argument fails the query, its name in `extensions.field`."""
    _status, body = api.gql("Users", variables, org.admin)
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in body["errors"]] == [
        ("BAD_USER_INPUT", field)
    ]
