"""The contract (tests/contract/operations.graphql): every operation validates, and runs over HTTP.

Each end-to-end test sends the whole contract document naming one operation, as clients do, and
checks the values that come back, not only the absence of errors.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from graphql import DocumentNode, OperationDefinitionNode, parse, validate
from seatkeeper.schema import build_schema

from tests.api.api_support import DOCUMENT, iso

CONTRACT_OPERATIONS = {
    "Sync", "Organization", "Subscriptions", "Users", "User", "SetLicenseState", "CreateUsers",
    "DeleteUsers", "UpdateSettings", "UpsertProject", "ImportLicenses", "ExportLicenses",
    "ExportUsers", "SyncLog", "AuditLog", "CreateOrganization", "AddSubscription", "Organizations",
    "CreateToken", "Tokens", "RevokeToken",
}  # fmt: skip

MATT = "1a75199f-a48b-40d4-b9bc-2ea05faa8197"


def _operations() -> dict[str, OperationDefinitionNode]:
    document = parse(DOCUMENT)
    return {d.name.value: d for d in document.definitions if isinstance(d, OperationDefinitionNode)}


# ---------------------------------------------------------------- validation


def test_the_contract_holds_exactly_the_known_operations():
    """A guard on the copy: an operation added or renamed in the contract gets a test here."""
    assert set(_operations()) == CONTRACT_OPERATIONS


@pytest.mark.parametrize("name", sorted(CONTRACT_OPERATIONS))
def test_contract_operation_validates_against_the_schema(name):
    schema = build_schema()._schema
    errors = validate(schema, DocumentNode(definitions=(_operations()[name],)))
    assert errors == [], [e.message for e in errors]


def test_the_whole_contract_document_validates_at_once():
    assert validate(build_schema()._schema, parse(DOCUMENT)) == []


# ---------------------------------------------------------------- mobile app


def test_sync_grants_a_temporary_license_to_a_new_user(api, org, clock):
    """SPEC 4.1 and 4.7: a new user, automatic assignment off, gets the temporary license."""
    payload = api.sync(org.sync, MATT, "someone51@example.com", full_name="Matt Ford")
    assert payload == {
        "ok": True,
        "license": {
            "type": "STANDARD",
            "temporary": True,
            "trial": False,
            "expiresAt": iso(clock() + timedelta(days=14)),
        },
        "error": None,
        "user": {"id": MATT, "email": "someone51@example.com"},
        "userErrors": [],
    }


# ---------------------------------------------------------------- admin front end: queries


def test_organization_shows_name_settings_and_default_project(api, org):
    """SPEC 3 (settings defaults) and SPEC 1 (the default project, kind STANDARD)."""
    organization = api.data("Organization", token=org.admin)["organization"]
    assert organization == {
        "id": org.id,
        "name": "Acme",
        "trialEndsAt": None,
        "settings": {
            "autoAssignLicenses": False,
            "autoFreeUpLicenses": False,
            "inactivityDays": 90,
            "gracePeriodDays": 14,
        },
        "projects": [{"id": "default", "name": "Default", "kind": "STANDARD"}],
    }


def test_subscriptions_has_one_row_per_license_type(api, org, clock):
    """SPEC 6: a row per type, EXTERNAL without seat counts, pending users counted."""
    subscription = api.add_subscription(org, "STANDARD", seats=5, days=30)
    api.create_users(org, {"id": "u1", "standard": "ASSIGNED"})
    api.sync(org.sync, "pending-1")  # inside its temporary window, STANDARD project: pending

    rows = api.subscriptions(org)
    assert set(rows) == {"STANDARD", "INSPECTIONS", "EXTERNAL"}
    assert rows["STANDARD"] == {
        "licenseType": "STANDARD",
        "active": True,
        "seats": 5,
        "assigned": 1,
        "available": 4,
        "overAllocated": 0,
        "pending": 1,
        "items": [
            {
                "id": subscription["id"],
                "seats": 5,
                "validFrom": iso(clock()),
                "validUntil": iso(clock() + timedelta(days=30)),
                "status": "ACTIVE",
            }
        ],
    }
    assert rows["INSPECTIONS"] == {
        "licenseType": "INSPECTIONS",
        "active": False,
        "seats": 0,
        "assigned": 0,
        "available": 0,
        "overAllocated": 0,
        "pending": 0,
        "items": [],
    }
    assert rows["EXTERNAL"] == {
        "licenseType": "EXTERNAL",
        "active": False,
        "seats": None,
        "assigned": None,
        "available": None,
        "overAllocated": None,
        "pending": 0,
        "items": [],
    }


def test_users_pages_in_name_order_with_search_and_filter(api, org, clock):
    """SPEC 6a: name order case-insensitively, keyset pages, search, filters."""
    api.add_subscription(org, "STANDARD", seats=5)
    api.create_users(
        org,
        {"id": "b", "fullName": "bob", "standard": "ASSIGNED"},
        {"id": "a", "fullName": "Alice"},
        {"id": "c", "fullName": "carol", "inspections": "DISABLED"},
    )
    first_page = api.data("Users", {"first": 2}, org.admin)["users"]
    assert first_page["totalCount"] == 3
    assert first_page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["fullName"] for e in first_page["edges"]] == ["Alice", "bob"]
    assert first_page["pageInfo"]["endCursor"] == first_page["edges"][-1]["cursor"]
    bob = first_page["edges"][1]["node"]
    assert bob == {
        "id": "b",
        "fullName": "bob",
        "email": "b@example.com",
        "createdAt": iso(clock()),
        "lastSyncAt": None,
        "standard": "ASSIGNED",
        "inspections": "UNASSIGNED",
        "activeLicense": "STANDARD",
        "graceEndsAt": None,
        "inactive": False,
    }

    second_page = api.data(
        "Users", {"first": 2, "after": first_page["pageInfo"]["endCursor"]}, org.admin
    )["users"]
    assert [e["node"]["id"] for e in second_page["edges"]] == ["c"]
    assert second_page["pageInfo"]["hasNextPage"] is False

    searched = api.data("Users", {"search": "CAR"}, org.admin)["users"]
    assert [e["node"]["id"] for e in searched["edges"]] == ["c"]
    assert searched["totalCount"] == 1
    holders = api.data("Users", {"filter": {"licenseType": "STANDARD"}}, org.admin)["users"]
    assert [e["node"]["id"] for e in holders["edges"]] == ["b"]
    disabled = api.data("Users", {"filter": {"state": "DISABLED"}}, org.admin)["users"]
    assert [e["node"]["id"] for e in disabled["edges"]] == ["c"]


def test_user_by_id_and_null_for_an_unknown_id(api, org, clock):
    """SPEC 1: a GUID id is compared case-insensitively."""
    api.sync(org.sync, MATT, "someone51@example.com", full_name="Matt Ford")
    # A GUID id is found case-insensitively (SPEC 1).
    assert api.user(org, MATT.upper()) == {
        "id": MATT,
        "fullName": "Matt Ford",
        "email": "someone51@example.com",
        "standard": "UNASSIGNED",
        "inspections": "UNASSIGNED",
        "activeLicense": None,
        "lastSyncAt": iso(clock()),
    }
    assert api.user(org, "nobody") is None


# ---------------------------------------------------------------- admin front end: mutations


def test_set_license_state_assigns_and_reports_errors(api, org):
    """SPEC 3, setLicenseState: NOT_ENOUGH_SEATS with counts, USER_NOT_FOUND, all or nothing."""
    api.add_subscription(org, "INSPECTIONS", seats=1)
    api.create_users(org, {"id": "u1"}, {"id": "u2"})

    assigned = api.set_state(org, ["u1"], "INSPECTIONS", "ASSIGNED")
    assert assigned == {
        "users": [
            {
                "id": "u1",
                "standard": "UNASSIGNED",
                "inspections": "ASSIGNED",
                "activeLicense": "INSPECTIONS",
            }
        ],
        "userErrors": [],
    }

    short = api.set_state(org, ["u2"], "INSPECTIONS", "ASSIGNED")
    assert short["users"] == []
    assert [e["code"] for e in short["userErrors"]] == ["NOT_ENOUGH_SEATS"]
    assert "1 needed, 0 free" in short["userErrors"][0]["message"]

    missing = api.set_state(org, ["u1", "ghost"], "INSPECTIONS", "DISABLED")
    assert missing["users"] == []
    assert missing["userErrors"] == [
        {
            "code": "USER_NOT_FOUND",
            "message": "no user 'ghost'",
            "field": ["input", "userIds", "1"],
            "userId": "ghost",
        }
    ]
    assert api.user(org, "u1")["inspections"] == "ASSIGNED"  # all or nothing (invariant 5)


def test_create_users_with_chosen_states_and_a_taken_email(api, org):
    """SPEC 3, pre-provisioning; SPEC 2.3, unique e-mail (case-insensitive)."""
    api.add_subscription(org, "STANDARD", seats=2)
    created = api.data(
        "CreateUsers",
        {
            "users": [
                {
                    "id": "p1",
                    "fullName": "Pre One",
                    "email": "p1@example.com",
                    "standard": "ASSIGNED",
                },
                {
                    "id": "p2",
                    "fullName": "Pre Two",
                    "email": "p2@example.com",
                    "inspections": "DISABLED",
                },
            ]
        },
        org.admin,
    )["createUsers"]
    assert created == {
        "users": [
            {"id": "p1", "standard": "ASSIGNED", "inspections": "UNASSIGNED"},
            {"id": "p2", "standard": "UNASSIGNED", "inspections": "DISABLED"},
        ],
        "userErrors": [],
    }
    taken = api.data(
        "CreateUsers",
        {"users": [{"id": "p3", "fullName": "Pre Three", "email": "P1@example.com"}]},
        org.admin,
    )["createUsers"]
    assert taken["users"] == []
    assert [(e["code"], e["field"], e["userId"]) for e in taken["userErrors"]] == [
        ("EMAIL_TAKEN", ["users", "0", "email"], "p3")
    ]
    assert api.user(org, "p3") is None


def test_delete_users_removes_them_and_releases_seats(api, org):
    """SPEC 3, delete users."""
    api.add_subscription(org, "STANDARD", seats=1)
    api.create_users(org, {"id": "d1", "standard": "ASSIGNED"})
    deleted = api.data("DeleteUsers", {"userIds": ["d1"]}, org.admin)["deleteUsers"]
    assert deleted == {"deletedIds": ["d1"], "userErrors": []}
    assert api.user(org, "d1") is None
    assert api.subscriptions(org)["STANDARD"]["assigned"] == 0

    unknown = api.data("DeleteUsers", {"userIds": ["d1"]}, org.admin)["deleteUsers"]
    assert unknown["deletedIds"] == []
    assert [(e["code"], e["userId"]) for e in unknown["userErrors"]] == [("USER_NOT_FOUND", "d1")]


def test_update_settings_changes_given_fields_and_refuses_out_of_range(api, org):
    """SPEC 3, settings: inactivityDays 1-3650; a refusal changes nothing (SPEC 2.5)."""
    settings = api.settings(org, autoAssignLicenses=True, gracePeriodDays=7)
    assert settings == {
        "autoAssignLicenses": True,
        "autoFreeUpLicenses": False,
        "inactivityDays": 90,
        "gracePeriodDays": 7,
    }
    refused = api.data(
        "UpdateSettings", {"input": {"inactivityDays": 0, "autoFreeUpLicenses": True}}, org.admin
    )
    assert refused["updateSettings"]["settings"] is None
    assert [(e["code"], e["field"]) for e in refused["updateSettings"]["userErrors"]] == [
        ("INVALID_INPUT", ["input", "inactivityDays"])
    ]
    assert api.data("Organization", token=org.admin)["organization"]["settings"] == settings


def test_upsert_project_creates_and_changes_a_project(api, org):
    """SPEC 1 (projects decide the required license) and 4.1 (the default project's kind can change)."""
    assert api.project(org, "field", "INSPECTIONS", "Field work") == {
        "id": "field",
        "name": "Field work",
        "kind": "INSPECTIONS",
    }
    projects = api.data("Organization", token=org.admin)["organization"]["projects"]
    assert {p["id"]: p["kind"] for p in projects} == {"default": "STANDARD", "field": "INSPECTIONS"}
    # The project decides the required license (SPEC 1): a sync against it needs INSPECTIONS.
    assert api.sync(org.sync, "u1", project_id="field")["license"]["type"] == "INSPECTIONS"

    api.project(org, "default", "EXTERNAL", "Default")
    kinds = {
        p["id"]: p["kind"]
        for p in api.data("Organization", token=org.admin)["organization"]["projects"]
    }
    assert kinds["default"] == "EXTERNAL"


LICENSES_HEADER = '"Id","Full Name","Email","Standard","Inspections"'


def test_import_licenses_applies_a_file_and_dry_run_changes_nothing(api, org):
    """SPEC 7, import: dry run, summary, problems with lines, CSV_INVALID."""
    api.add_subscription(org, "INSPECTIONS", seats=1)
    csv_text = (
        f'{LICENSES_HEADER}\r\n"{MATT}","Matt Ford","someone51@example.com","","Assigned"\r\n'
    )

    dry = api.data("ImportLicenses", {"input": {"csv": csv_text, "dryRun": True}}, org.admin)[
        "importLicenses"
    ]
    assert dry["applied"] is False
    assert dry["summary"] == {
        "rows": 1,
        "assigned": 1,
        "unassigned": 0,
        "disabled": 0,
        "created": 1,
        "unchanged": 0,
    }
    assert dry["problems"] == [] and dry["userErrors"] == []
    assert api.user(org, MATT) is None

    done = api.data("ImportLicenses", {"input": {"csv": csv_text}}, org.admin)["importLicenses"]
    assert done["applied"] is True
    assert done["summary"] == dry["summary"]
    assert api.user(org, MATT)["inspections"] == "ASSIGNED"

    bad = f"{LICENSES_HEADER}\nx1,X,not-an-email,,\n"
    refused = api.data("ImportLicenses", {"input": {"csv": bad}}, org.admin)["importLicenses"]
    assert refused["applied"] is False
    assert [(p["line"], p["code"], p["severity"]) for p in refused["problems"]] == [
        (2, "BAD_EMAIL", "ERROR")
    ]
    assert [e["code"] for e in refused["userErrors"]] == ["CSV_INVALID"]
    assert api.user(org, "x1") is None


def test_export_licenses_writes_the_source_format(api, org):
    """SPEC 7, export: holders only, every field quoted, CRLF line ends."""
    api.add_subscription(org, "INSPECTIONS", seats=1)
    api.create_users(
        org,
        {
            "id": MATT,
            "fullName": "Matt Ford",
            "email": "someone51@example.com",
            "inspections": "ASSIGNED",
        },
        {"id": "nobody-holds", "fullName": "No Seat"},
    )
    exported = api.data("ExportLicenses", token=org.admin)["exportLicenses"]
    assert (
        exported
        == f'{LICENSES_HEADER}\r\n"{MATT}","Matt Ford","someone51@example.com","","Assigned"\r\n'
    )


def test_export_users_writes_states_and_last_sync(api, org, clock):
    """SPEC 7, users file: Disabled written out, Last Sync in ISO 8601 UTC, the search applies."""
    api.create_users(org, {"id": "e1", "fullName": "Eve One", "standard": "DISABLED"})
    api.sync(org.sync, "s1", full_name="Sam Sync")
    exported = api.data("ExportUsers", token=org.admin)["exportUsers"]
    rows = list(csv.reader(io.StringIO(exported)))
    assert rows[0] == ["Id", "Full Name", "Email", "Standard", "Inspections", "Last Sync"]
    by_id = {row[0]: row for row in rows[1:] if row}
    assert by_id["e1"][1:5] == ["Eve One", "e1@example.com", "Disabled", ""]
    assert by_id["e1"][5] == ""
    assert by_id["s1"][1:5] == ["Sam Sync", "s1@example.com", "", ""]
    assert datetime.fromisoformat(by_id["s1"][5]) == clock()

    searched = api.data("ExportUsers", {"search": "eve"}, org.admin)["exportUsers"]
    assert [row[0] for row in csv.reader(io.StringIO(searched)) if row][1:] == ["e1"]


def test_sync_log_newest_first_with_filters_and_pages(api, org, clock):
    """SPEC 4.8 and 8: every attempt, newest first, by user, errors only, half-open range."""
    first_at = clock()
    api.sync(org.sync, "u1", client="WEB")
    clock.advance(days=15)  # u1's temporary license has ended
    api.sync(org.sync, "u1")
    api.sync(org.sync, "u2", project_id="missing")

    log = api.data("SyncLog", {"first": 2}, org.admin)["syncLog"]
    assert log["pageInfo"]["hasNextPage"] is True
    assert next(e["node"] for e in log["edges"]) == {
        "at": iso(clock()),
        "userId": "u2",
        "email": "u2@example.com",
        "projectId": "missing",
        "client": "MOBILE",
        "ok": False,
        "errorCode": "PROJECT_NOT_FOUND",
        "reason": log["edges"][0]["node"]["reason"],
        "licenseType": None,
        "temporary": False,
        "freedUserId": None,
    }
    assert log["edges"][1]["node"]["errorCode"] == "LICENSE_EXPIRED"
    assert log["edges"][1]["node"]["reason"] == "GRACE_PERIOD_ENDED"

    rest = api.data("SyncLog", {"first": 2, "after": log["pageInfo"]["endCursor"]}, org.admin)[
        "syncLog"
    ]
    assert rest["pageInfo"]["hasNextPage"] is False
    oldest = rest["edges"][0]["node"]
    assert (oldest["at"], oldest["client"], oldest["ok"], oldest["licenseType"], oldest["temporary"]) == (
        iso(first_at), "WEB", True, "STANDARD", True,
    )  # fmt: skip

    errors = api.data("SyncLog", {"filter": {"errorsOnly": True, "userId": "u1"}}, org.admin)[
        "syncLog"
    ]
    assert [e["node"]["reason"] for e in errors["edges"]] == ["GRACE_PERIOD_ENDED"]
    window = {"since": iso(first_at), "until": iso(first_at + timedelta(days=1))}
    early = api.data("SyncLog", {"filter": window}, org.admin)["syncLog"]
    assert [e["node"]["userId"] for e in early["edges"]] == ["u1"]


def test_audit_log_records_who_and_why_with_one_operation_id(api, org, clock):
    """SPEC 2.4 and 8: actor (the token name), reason, one operation id per request."""
    api.add_subscription(org, "STANDARD", seats=2)
    api.create_users(org, {"id": "a1"}, {"id": "a2"})
    clock.advance(hours=1)
    api.set_state(org, ["a1", "a2"], "STANDARD", "ASSIGNED")

    log = api.data("AuditLog", {"filter": {"since": iso(clock())}}, org.admin)["auditLog"]
    nodes = [e["node"] for e in log["edges"]]
    assert sorted(n["userId"] for n in nodes) == ["a1", "a2"]
    for node in nodes:
        assert {k: v for k, v in node.items() if k not in ("userId", "operationId")} == {
            "at": iso(clock()),
            "licenseType": "STANDARD",
            "fromState": "UNASSIGNED",
            "toState": "ASSIGNED",
            "actor": "admin",
            "reason": "MANUAL",
            "beneficiaryUserId": None,
        }
    assert nodes[0]["operationId"] == nodes[1]["operationId"]
    by_user = api.data("AuditLog", {"filter": {"userId": "a2"}, "first": 1}, org.admin)["auditLog"]
    assert [e["node"]["userId"] for e in by_user["edges"]] == ["a2"]
    assert by_user["pageInfo"]["hasNextPage"] is False


# ---------------------------------------------------------------- vendor side


def test_create_organization_returns_working_tokens_once(api, clock):
    """SPEC 9 and 3 (trial): the organization's first ADMIN and SYNC tokens."""
    created = api.data(
        "CreateOrganization", {"input": {"name": "Trial Co", "trialDays": 30}}, api.operator
    )["createOrganization"]
    assert created["userErrors"] == []
    assert created["organization"]["name"] == "Trial Co"
    assert created["organization"]["trialEndsAt"] == iso(clock() + timedelta(days=30))
    assert created["adminToken"] != created["syncToken"]
    organization = api.data("Organization", token=created["adminToken"])["organization"]
    assert organization["id"] == created["organization"]["id"]
    synced = api.data(
        "Sync", {"input": {"userId": "t1", "email": "t1@example.com"}}, created["syncToken"]
    )["sync"]
    assert synced["license"]["trial"] is True

    refused = api.data("CreateOrganization", {"input": {"name": "  "}}, api.operator)[
        "createOrganization"
    ]
    assert (
        refused["organization"] is None
        and refused["adminToken"] is None
        and refused["syncToken"] is None
    )
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_INPUT", ["input", "name"])
    ]


def test_add_subscription_statuses_and_refusals(api, org, clock):
    """SPEC 3, subscriptions: seats >= 1, EXTERNAL ignores seats, validUntil after validFrom."""
    now = clock()
    active = api.add_subscription(org, "STANDARD", seats=3, days=10)
    assert {k: v for k, v in active.items() if k != "id"} == {
        "licenseType": "STANDARD",
        "seats": 3,
        "validFrom": iso(now),
        "validUntil": iso(now + timedelta(days=10)),
        "status": "ACTIVE",
    }
    assert (
        api.add_subscription(org, "INSPECTIONS", seats=1, days=20, starts_in_days=10)["status"]
        == "UPCOMING"
    )
    external = api.add_subscription(org, "EXTERNAL", seats=99)
    assert external["seats"] is None and external["licenseType"] == "EXTERNAL"

    def refused(variables: dict) -> list[tuple]:
        payload = api.data("AddSubscription", {"input": variables}, api.operator)["addSubscription"]
        assert payload["subscription"] is None
        return [(e["code"], e["field"]) for e in payload["userErrors"]]

    until = iso(now + timedelta(days=1))
    assert refused(
        {"organizationId": org.id, "licenseType": "STANDARD", "seats": 0, "validUntil": until}
    ) == [("INVALID_INPUT", ["input", "seats"])]
    assert refused(
        {
            "organizationId": org.id,
            "licenseType": "STANDARD",
            "seats": 1,
            "validFrom": until,
            "validUntil": until,
        }
    ) == [("INVALID_INPUT", ["input", "validUntil"])]
    assert refused({"organizationId": "nope", "licenseType": "EXTERNAL", "validUntil": until}) == [
        ("ORGANIZATION_NOT_FOUND", ["input", "organizationId"])
    ]
    assert api.subscriptions(org)["STANDARD"]["seats"] == 3


def test_organizations_lists_every_organization(api, org, org_b, clock):
    """SPEC 9: the OPERATOR sees every organization."""
    organizations = api.data("Organizations", token=api.operator)["organizations"]
    assert sorted(organizations, key=lambda o: o["name"]) == [
        {"id": org.id, "name": "Acme", "trialEndsAt": None},
        {"id": org_b.id, "name": "Beta", "trialEndsAt": None},
    ]


def test_create_token_gives_a_working_token_of_the_role(api, org, clock):
    """SPEC 9: tokens of ADMIN, SYNC or READER, the secret shown once."""
    created = api.data(
        "CreateToken",
        {"input": {"organizationId": org.id, "role": "READER", "name": "dashboard"}},
        org.admin,
    )["createToken"]
    assert created["userErrors"] == []
    assert created["token"] and created["tokenId"]
    # The READER reads its organization...
    assert api.data("Users", token=created["token"])["users"]["totalCount"] == 0
    # ...and is listed by name and role, its secret never shown again.
    tokens = api.data("Tokens", token=org.admin)["tokens"]
    assert {
        "id": created["tokenId"],
        "name": "dashboard",
        "role": "READER",
        "createdAt": iso(clock()),
        "revokedAt": None,
    } in tokens
    assert created["token"] not in str(tokens)

    refused = api.data(
        "CreateToken",
        {"input": {"organizationId": org.id, "role": "OPERATOR", "name": "x"}},
        api.operator,
    )["createToken"]
    assert refused["token"] is None and refused["tokenId"] is None
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_INPUT", ["input", "role"])
    ]


def test_tokens_lists_the_organizations_tokens(api, org, org_b, clock):
    """SPEC 9: an ADMIN lists its organization's tokens, the OPERATOR any."""
    tokens = api.data("Tokens", token=org.admin)["tokens"]
    assert sorted((t["name"], t["role"], t["createdAt"], t["revokedAt"]) for t in tokens) == [
        ("admin", "ADMIN", iso(clock()), None),
        ("sync", "SYNC", iso(clock()), None),
    ]
    every = api.data("Tokens", token=api.operator)["tokens"]
    assert len(every) == 4  # the OPERATOR sees both organizations' tokens


def test_revoke_token_stops_it_at_once(api, org, clock):
    """SPEC 9: revocable; an unknown id is TOKEN_NOT_FOUND."""
    reader = api.data(
        "CreateToken",
        {"input": {"organizationId": org.id, "role": "READER", "name": "old"}},
        org.admin,
    )["createToken"]
    clock.advance(days=1)
    revoked = api.data("RevokeToken", {"id": reader["tokenId"]}, org.admin)["revokeToken"]
    assert revoked == {
        "token": {"id": reader["tokenId"], "name": "old", "revokedAt": iso(clock())},
        "userErrors": [],
    }
    assert api.error_codes("Users", token=reader["token"]) == ["UNAUTHENTICATED"]

    unknown = api.data("RevokeToken", {"id": "no-such-token"}, org.admin)["revokeToken"]
    assert unknown["token"] is None
    assert [e["code"] for e in unknown["userErrors"]] == ["TOKEN_NOT_FOUND"]
