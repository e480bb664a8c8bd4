"""SPEC 4 (and 5), end to end: the contract's Sync over HTTP with a SYNC token and the fake clock.

License errors are data in the payload (`ok: false`, `error {code reason message licenseType}`)
with the exact messages of SPEC 4's table; input problems are `userErrors`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.api_support import iso

NOT_FOUND = "LICENSE: NOT FOUND"
EXPIRED = "LICENSE: EXPIRED"


def refused(payload: dict) -> tuple:
    """(code, reason, message, licenseType) of a license error; the payload must not be a success."""
    assert payload["ok"] is False and payload["license"] is None and payload["userErrors"] == []
    error = payload["error"]
    return error["code"], error["reason"], error["message"], error["licenseType"]


def granted(payload: dict) -> dict:
    assert payload["ok"] is True and payload["error"] is None and payload["userErrors"] == [], (
        payload
    )
    return payload["license"]


def seat(type_: str) -> dict:
    """A license held on a seat: not temporary, not trial, no expiry (SPEC 4.2)."""
    return {"type": type_, "temporary": False, "trial": False, "expiresAt": None}


# ---------------------------------------------------------------- 4.1 input and user


def test_spec_4_1_first_sync_creates_the_user_with_both_selectors_unassigned(api, org, clock):
    api.sync(org.sync, "u1", "u1@example.com", full_name="Una")
    clock.advance(hours=2)
    api.sync(org.sync, "u1", "una@example.com", full_name="Una Renamed")
    user = api.user(org, "u1")
    assert user == {
        "id": "u1",
        "fullName": "Una Renamed",
        "email": "una@example.com",
        "standard": "UNASSIGNED",
        "inspections": "UNASSIGNED",
        "activeLicense": None,
        "lastSyncAt": iso(clock()),
    }


def test_spec_4_1_unknown_project_is_user_error_project_not_found(api, org):
    payload = api.sync(org.sync, "u1", project_id="nope")
    assert payload["ok"] is False and payload["license"] is None and payload["error"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("PROJECT_NOT_FOUND", ["input", "projectId"])
    ]
    assert api.user(org, "u1") is None  # changes nothing but the sync log
    log = api.data("SyncLog", token=org.admin)["syncLog"]["edges"]
    assert [(e["node"]["userId"], e["node"]["errorCode"]) for e in log] == [
        ("u1", "PROJECT_NOT_FOUND")
    ]


def test_spec_4_1_email_of_another_user_is_user_error_email_taken(api, org):
    api.sync(org.sync, "u1", "shared@example.com")
    payload = api.sync(org.sync, "u2", "SHARED@example.com")
    assert payload["ok"] is False and payload["error"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("EMAIL_TAKEN", ["input", "email"])
    ]
    assert api.user(org, "u2") is None


@pytest.mark.parametrize(
    ("user_id", "email", "field"),
    [
        ("", "ok@example.com", "userId"),
        ("x" * 129, "ok@example.com", "userId"),
        ("u1", "not-an-email", "email"),
        ("u1", "", "email"),
    ],
)
def test_spec_4_1_bad_id_or_email_is_user_error_invalid_input(api, org, user_id, email, field):
    payload = api.data("Sync", {"input": {"userId": user_id, "email": email}}, org.sync)["sync"]
    assert payload["ok"] is False and payload["error"] is None and payload["license"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
        ("INVALID_INPUT", ["input", field])
    ]
    assert api.data("Users", token=org.admin)["users"]["totalCount"] == 0


def test_spec_4_1_a_guid_id_is_the_same_user_whatever_its_case(api, org):
    guid = "1a75199f-a48b-40d4-b9bc-2ea05faa8197"
    api.sync(org.sync, guid, "matt@example.com")
    api.sync(org.sync, guid.upper(), "matt@example.com")
    assert api.data("Users", token=org.admin)["users"]["totalCount"] == 1


# ---------------------------------------------------------------- 4.2 trial


def test_spec_4_2_trial_grants_the_required_license_without_a_seat_or_window(api, clock):
    trial = api.create_org("Trial", trial_days=30)
    ends = iso(clock() + timedelta(days=30))
    api.project(trial, "insp", "INSPECTIONS")
    assert granted(api.sync(trial.sync, "u1")) == {
        "type": "STANDARD",
        "temporary": False,
        "trial": True,
        "expiresAt": ends,
    }
    assert granted(api.sync(trial.sync, "u1", project_id="insp"))["type"] == "INSPECTIONS"
    assert api.subscriptions(trial)["STANDARD"]["assigned"] == 0

    # No temporary window started during the trial: it starts at the first sync after it.
    clock.advance(days=30)
    assert granted(api.sync(trial.sync, "u1")) == {
        "type": "STANDARD",
        "temporary": True,
        "trial": False,
        "expiresAt": iso(clock() + timedelta(days=14)),
    }


def test_spec_3_trial_refuses_license_management_with_trial_active(api):
    trial = api.create_org("Trial", trial_days=30)
    api.sync(trial.sync, "u1")
    result = api.set_state(trial, ["u1"], "STANDARD", "ASSIGNED")
    assert [e["code"] for e in result["userErrors"]] == ["TRIAL_ACTIVE"]


# ---------------------------------------------------------------- 4.3 EXTERNAL project


def test_spec_4_3_external_project_without_subscription_is_no_subscription(api, org):
    api.project(org, "ext", "EXTERNAL")
    payload = api.sync(org.sync, "x1", project_id="ext")
    assert refused(payload) == ("LICENSE_NOT_FOUND", "NO_SUBSCRIPTION", NOT_FOUND, "EXTERNAL")
    assert payload["user"]["id"] == "x1"  # a license error still records the user (invariant 5)


def test_spec_4_3_external_project_covered_by_a_valid_subscription_then_expired(api, org, clock):
    api.project(org, "ext", "EXTERNAL")
    api.add_subscription(org, "EXTERNAL", days=30)
    for user in ("x1", "x2", "x3"):  # every external user is covered, no seat held
        assert granted(api.sync(org.sync, user, project_id="ext")) == seat("EXTERNAL")
    assert api.user(org, "x1")["activeLicense"] is None

    clock.advance(days=30)  # validUntil is exclusive
    assert refused(api.sync(org.sync, "x1", project_id="ext")) == (
        "LICENSE_EXPIRED", "SUBSCRIPTION_EXPIRED", EXPIRED, "EXTERNAL",
    )  # fmt: skip


# ---------------------------------------------------------------- 4.4 covered, 4.5 blocked


def test_spec_4_4_an_inspections_seat_covers_a_standard_project(api, org):
    api.add_subscription(org, "INSPECTIONS", seats=1)
    api.create_users(org, {"id": "u1", "inspections": "ASSIGNED", "standard": "DISABLED"})
    # The held covering seat wins over the DISABLED selector of the other type.
    assert granted(api.sync(org.sync, "u1")) == seat("INSPECTIONS")


def test_spec_4_5_disabled_selector_is_not_found_disabled(api, org):
    api.add_subscription(org, "STANDARD", seats=5)
    api.settings(org, autoAssignLicenses=True)
    api.create_users(org, {"id": "u1", "standard": "DISABLED"})
    assert refused(api.sync(org.sync, "u1")) == (
        "LICENSE_NOT_FOUND",
        "DISABLED",
        NOT_FOUND,
        "STANDARD",
    )
    assert api.subscriptions(org)["STANDARD"]["assigned"] == 0


# ---------------------------------------------------------------- 4.6 automatic assignment


def test_spec_4_6_1_auto_assign_takes_a_free_seat_and_upgrades(api, org):
    api.add_subscription(org, "STANDARD", seats=1)
    api.add_subscription(org, "INSPECTIONS", seats=1)
    api.settings(org, autoAssignLicenses=True)
    api.project(org, "insp", "INSPECTIONS")

    assert granted(api.sync(org.sync, "u1")) == seat("STANDARD")
    assert api.user(org, "u1")["standard"] == "ASSIGNED"
    # An INSPECTIONS project upgrades the user: its STANDARD seat is released.
    assert granted(api.sync(org.sync, "u1", project_id="insp")) == seat("INSPECTIONS")
    user = api.user(org, "u1")
    assert (user["standard"], user["inspections"]) == ("UNASSIGNED", "ASSIGNED")
    rows = api.subscriptions(org)
    assert (rows["STANDARD"]["assigned"], rows["INSPECTIONS"]["assigned"]) == (0, 1)


def test_spec_4_6_3_no_free_seat_is_not_found_no_seat_available(api, org):
    api.add_subscription(org, "STANDARD", seats=1)
    api.settings(org, autoAssignLicenses=True)
    granted(api.sync(org.sync, "u1"))
    assert refused(api.sync(org.sync, "u2")) == (
        "LICENSE_NOT_FOUND",
        "NO_SEAT_AVAILABLE",
        NOT_FOUND,
        "STANDARD",
    )


def test_spec_4_6_a_standard_project_never_gets_an_inspections_seat(api, org):
    api.add_subscription(org, "INSPECTIONS", seats=5)
    api.settings(org, autoAssignLicenses=True)
    assert refused(api.sync(org.sync, "u1")) == (
        "LICENSE_NOT_FOUND",
        "NO_SEAT_AVAILABLE",
        NOT_FOUND,
        "STANDARD",
    )
    assert api.user(org, "u1")["inspections"] == "UNASSIGNED"


def test_spec_4_6_2_auto_free_up_takes_the_seat_of_a_user_inactive_90_days(api, org, clock):
    api.add_subscription(org, "STANDARD", seats=1, days=1000)
    api.settings(org, autoAssignLicenses=True, autoFreeUpLicenses=True)
    assert granted(api.sync(org.sync, "old")) == seat("STANDARD")

    clock.advance(days=89, hours=23)  # not yet inactive: nobody loses the seat
    assert refused(api.sync(org.sync, "new"))[1] == "NO_SEAT_AVAILABLE"

    clock.advance(hours=1)  # exactly inactivityDays (90) since "old" last synced
    assert granted(api.sync(org.sync, "new")) == seat("STANDARD")
    assert api.user(org, "old")["standard"] == "UNASSIGNED"
    assert api.user(org, "new")["standard"] == "ASSIGNED"

    log = api.data("SyncLog", {"first": 1}, org.admin)["syncLog"]["edges"]
    assert (log[0]["node"]["userId"], log[0]["node"]["freedUserId"]) == ("new", "old")
    audit = api.data("AuditLog", {"filter": {"userId": "old"}, "first": 1}, org.admin)["auditLog"][
        "edges"
    ]
    assert {
        k: audit[0]["node"][k]
        for k in ("fromState", "toState", "actor", "reason", "beneficiaryUserId")
    } == {
        "fromState": "ASSIGNED",
        "toState": "UNASSIGNED",
        "actor": "system",
        "reason": "AUTO_FREE_UP",
        "beneficiaryUserId": "new",
    }
    # The freed user is now the one without a seat (and "new" is active).
    assert refused(api.sync(org.sync, "old"))[1] == "NO_SEAT_AVAILABLE"


# ---------------------------------------------------------------- 4.7 temporary license


def test_spec_4_7_temporary_license_and_its_end(api, org, clock):
    start = clock()
    ends = iso(start + timedelta(days=14))
    temporary = {"type": "STANDARD", "temporary": True, "trial": False, "expiresAt": ends}
    assert granted(api.sync(org.sync, "u1")) == temporary
    assert api.data("Users", token=org.admin)["users"]["edges"][0]["node"]["graceEndsAt"] == ends

    clock.advance(days=13, hours=23, minutes=59)
    assert granted(api.sync(org.sync, "u1")) == temporary  # the same window, not a new one
    clock.advance(minutes=1)  # now == graceStartedAt + gracePeriodDays: over
    assert refused(api.sync(org.sync, "u1")) == (
        "LICENSE_EXPIRED",
        "GRACE_PERIOD_ENDED",
        EXPIRED,
        "STANDARD",
    )


def test_spec_4_7_one_window_per_user_whatever_the_project(api, org, clock):
    api.project(org, "insp", "INSPECTIONS")
    api.sync(org.sync, "u1")
    clock.advance(days=14)
    assert refused(api.sync(org.sync, "u1", project_id="insp")) == (
        "LICENSE_EXPIRED", "GRACE_PERIOD_ENDED", EXPIRED, "INSPECTIONS",
    )  # fmt: skip


def test_spec_4_7_grace_period_days_is_a_setting(api, org, clock):
    api.settings(org, gracePeriodDays=0)
    assert refused(api.sync(org.sync, "u1"))[1] == "GRACE_PERIOD_ENDED"


def test_spec_3_a_deleted_user_syncing_again_starts_a_fresh_window(api, org, clock):
    api.sync(org.sync, "u1")
    clock.advance(days=20)
    assert refused(api.sync(org.sync, "u1"))[1] == "GRACE_PERIOD_ENDED"
    api.data("DeleteUsers", {"userIds": ["u1"]}, org.admin)
    assert granted(api.sync(org.sync, "u1"))["expiresAt"] == iso(clock() + timedelta(days=14))


# ---------------------------------------------------------------- 5 when capacity falls


def test_spec_5_over_capacity_when_a_subscription_ends(api, org, clock):
    api.add_subscription(org, "STANDARD", seats=2, days=30)
    api.add_subscription(org, "STANDARD", seats=1, days=60)
    for user in ("first", "second", "third"):  # assigned one hour apart: ranked by assignedAt
        api.create_users(org, {"id": user, "standard": "ASSIGNED"})
        clock.advance(hours=1)
    assert all(
        granted(api.sync(org.sync, u)) == seat("STANDARD") for u in ("first", "second", "third")
    )

    clock.advance(days=30)  # the 2-seat subscription has ended: capacity 1, three holders
    assert granted(api.sync(org.sync, "first")) == seat("STANDARD")
    for user in ("second", "third"):
        assert refused(api.sync(org.sync, user)) == (
            "LICENSE_EXPIRED",
            "OVER_CAPACITY",
            EXPIRED,
            "STANDARD",
        )
    row = api.subscriptions(org)["STANDARD"]
    assert (row["seats"], row["assigned"], row["available"], row["overAllocated"]) == (1, 3, 0, 2)
    assert api.user(org, "third")["standard"] == "ASSIGNED"  # never silently removed

    clock.advance(days=30)  # every STANDARD subscription has ended: capacity 0
    assert refused(api.sync(org.sync, "first")) == (
        "LICENSE_EXPIRED",
        "SUBSCRIPTION_EXPIRED",
        EXPIRED,
        "STANDARD",
    )


# ---------------------------------------------------------------- clients and the log


@pytest.mark.parametrize("kind", ["WEB", "API"])
def test_spec_4_web_and_api_clients_consume_licenses_like_mobile(api, org, kind):
    api.add_subscription(org, "STANDARD", seats=1)
    api.settings(org, autoAssignLicenses=True)
    assert granted(api.sync(org.sync, "service", client=kind)) == seat("STANDARD")
    assert api.subscriptions(org)["STANDARD"]["assigned"] == 1
    assert refused(api.sync(org.sync, "phone", client="MOBILE"))[1] == "NO_SEAT_AVAILABLE"
    log = api.data("SyncLog", token=org.admin)["syncLog"]["edges"]
    assert [(e["node"]["userId"], e["node"]["client"]) for e in log] == [
        ("phone", "MOBILE"),
        ("service", kind),
    ]


def test_spec_4_8_every_attempt_is_in_the_sync_log(api, org, clock):
    api.sync(org.sync, "u1")
    api.sync(org.sync, "u2", project_id="missing")
    clock.advance(days=14)
    api.sync(org.sync, "u1")
    nodes = [e["node"] for e in api.data("SyncLog", token=org.admin)["syncLog"]["edges"]]
    assert [(n["userId"], n["ok"], n["errorCode"], n["temporary"]) for n in nodes] == [
        ("u1", False, "LICENSE_EXPIRED", False),
        ("u2", False, "PROJECT_NOT_FOUND", False),
        ("u1", True, None, True),
    ]


def test_spec_4_an_admin_token_may_sync_too(api, org):
    assert granted(api.sync(org.admin, "u1"))["temporary"] is True
