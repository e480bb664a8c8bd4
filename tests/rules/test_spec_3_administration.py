"""SPEC 3: administration — license states, deleting and pre-provisioning users, settings,
trial, subscriptions and projects — on the real engine and memory storage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from seatkeeper.domain.records import AuditReason, ProjectKind, Settings
from seatkeeper.rules.fields import InputField
from seatkeeper.rules.outcomes import BadRequest

from tests.rules.rules_support import (
    ADMIN,
    A,
    D,
    E,
    I,
    S,
    U,
    all_users,
    async_test,
    audit_entries,
    buy,
    get,
    holders,
    license_of,
    new_org,
    ok,
    provision,
    provisioned,
    refused,
    set_state,
    snapshot,
    sync,
    temporary,
)

GUID = "10ac88c8-2226-4a98-ae0c-b7f57df0c4d3"


def codes(result) -> list[str]:
    return [e.code for e in result.user_errors]


# ================================================================ setLicenseState: ASSIGNED


@async_test
async def test_spec_3_assigned_gives_each_listed_user_a_seat(engine, clock):
    """SPEC 3, ASSIGNED: every listed user gets a seat, assignedAt now, returned as stored."""
    org = await new_org(engine)
    await buy(engine, org, S, 3)
    await provisioned(engine, org, ("a", U, U), ("b", U, U), ("c", U, U))
    now = clock.advance(hours=2)

    result = await set_state(engine, org, ["a", "b"], S, A)

    assert result.ok and [u.id for u in result.value] == ["a", "b"]
    for user_id in ("a", "b"):
        user = await get(engine, org, user_id)
        assert user.selectors == (A, U) and user.assigned_at == now
    assert (await get(engine, org, "c")).selectors == (U, U)
    assert await holders(engine, org, S) == 2


@async_test
async def test_spec_3_assigned_counts_only_users_not_already_holding_the_type(engine, clock):
    """SPEC 3: a listed user already holding the type needs no new seat, and keeps its assignedAt."""
    org = await new_org(engine)
    await buy(engine, org, S, 2)
    await provisioned(engine, org, ("held", A, U), ("new", U, U))
    first = (await get(engine, org, "held")).assigned_at
    clock.advance(days=1)

    assert (await set_state(engine, org, ["held", "new"], S, A)).ok
    assert (await get(engine, org, "held")).assigned_at == first
    assert len(await audit_entries(engine, org, "held")) == 1  # only the provisioning


@async_test
async def test_spec_3_not_enough_seats_says_how_many_are_needed_and_free_and_changes_nothing(
    engine,
):
    """SPEC 3: seats short for the listed users: NOT_ENOUGH_SEATS with needed and free counts."""
    org = await new_org(engine)
    await buy(engine, org, S, 3)
    await provisioned(engine, org, ("held", A, U), ("a", U, U), ("b", U, U), ("c", U, D))
    before = await snapshot(engine, org)

    result = await set_state(engine, org, ["held", "a", "b", "c"], S, A)

    assert codes(result) == ["NOT_ENOUGH_SEATS"]
    assert result.user_errors[0].message == "not enough STANDARD seats: 3 needed, 2 free"
    assert await snapshot(engine, org) == before


@async_test
async def test_spec_3_a_user_listed_twice_needs_one_seat(engine):
    """SPEC 3: the same user twice in one request (a GUID in two cases) counts once."""
    org = await new_org(engine)
    await buy(engine, org, S, 1)
    await provisioned(engine, org, (GUID, U, U))
    assert (await set_state(engine, org, [GUID, GUID.upper(), GUID], S, A)).ok
    assert len(await audit_entries(engine, org, GUID)) == 1


@async_test
async def test_spec_3_not_enough_seats_without_any_subscription(engine):
    """SPEC 3: no subscription: capacity 0, `1 needed, 0 free`."""
    org = await new_org(engine)
    await provisioned(engine, org, ("a", U, U))
    result = await set_state(engine, org, ["a"], I, A)
    assert result.user_errors[0].message == "not enough INSPECTIONS seats: 1 needed, 0 free"


@async_test
async def test_spec_3_admin_assignment_overrides_disabled(engine):
    """SPEC 3: an explicit assignment by an admin overrides DISABLED."""
    org = await new_org(engine)
    await buy(engine, org, I, 1)
    await provisioned(engine, org, ("blocked", U, D))
    assert (await set_state(engine, org, ["blocked"], I, A)).ok
    assert (await get(engine, org, "blocked")).selectors == (U, A)
    [_, change] = await audit_entries(engine, org, "blocked")
    assert (change.from_state, change.to_state, change.reason, change.actor) == (
        D,
        A,
        AuditReason.MANUAL,
        ADMIN,
    )


# ================================================================ setLicenseState: UNASSIGNED, DISABLED


@async_test
async def test_spec_3_unassigned_releases_the_seat(engine):
    """SPEC 3, UNASSIGNED: releases the seat if held; the seat is free for someone else."""
    org = await new_org(engine)
    await buy(engine, org, S, 1)
    await provisioned(engine, org, ("held", A, U), ("next", U, U))
    assert (await set_state(engine, org, ["held"], S, U)).ok
    user = await get(engine, org, "held")
    assert user.selectors == (U, U) and user.assigned_at is None
    assert (await set_state(engine, org, ["next"], S, A)).ok


@async_test
async def test_spec_3_unassigned_clears_disabled(engine):
    """SPEC 3, UNASSIGNED: clears DISABLED (the user may be assigned automatically again)."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 1)
    await provisioned(engine, org, ("blocked", D, U))
    assert license_of(await sync(engine, org, "blocked")) == refused(
        "LICENSE_NOT_FOUND", "DISABLED", S
    )
    assert (await set_state(engine, org, ["blocked"], S, U)).ok
    assert license_of(await sync(engine, org, "blocked")) == ok(S)


@async_test
async def test_spec_3_disabled_releases_the_seat_and_blocks_automatic_assignment(engine):
    """SPEC 3, DISABLED: releases the seat if held and blocks automatic assignment of the type."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 1)
    await provisioned(engine, org, ("held", A, U))
    assert (await set_state(engine, org, ["held"], S, D)).ok
    assert (await get(engine, org, "held")).selectors == (D, U)
    assert await holders(engine, org, S) == 0
    assert license_of(await sync(engine, org, "held")) == refused(
        "LICENSE_NOT_FOUND", "DISABLED", S
    )


@async_test
async def test_spec_3_a_request_that_changes_nothing_writes_no_audit(engine):
    """SPEC 3 / invariant 4: only changes of a selector are audited; a no-op request succeeds."""
    org = await new_org(engine)
    await provisioned(engine, org, ("plain", U, U))
    result = await set_state(engine, org, ["plain"], S, U)
    assert result.ok and [u.id for u in result.value] == ["plain"]
    assert await audit_entries(engine, org) == []


# ================================================================ setLicenseState: refusals


@async_test
async def test_spec_3_each_unknown_user_id_is_user_not_found_and_nothing_changes(engine):
    """SPEC 3: unknown ids: one USER_NOT_FOUND for each (naming it), nothing changes."""
    org = await new_org(engine)
    await buy(engine, org, S, 5)
    await provisioned(engine, org, ("known", A, U))
    before = await snapshot(engine, org)

    result = await set_state(engine, org, ["ghost-1", "known", "ghost-2"], S, D)

    assert [(e.code, e.user_id, e.field) for e in result.user_errors] == [
        ("USER_NOT_FOUND", "ghost-1", (InputField.USER_IDS, 0)),
        ("USER_NOT_FOUND", "ghost-2", (InputField.USER_IDS, 2)),
    ]
    assert await snapshot(engine, org) == before


@async_test
async def test_spec_3_user_not_found_lists_at_most_1000_entries_then_the_total(engine):
    """SPEC 3 (issue 9 finding 6): 100,000 unknown ids answered 12 MB of errors. At most 1,000
    USER_NOT_FOUND entries, then one entry giving the total; nothing changes."""
    org = await new_org(engine)
    await buy(engine, org, S, 5)
    await provisioned(engine, org, ("known", A, U))
    before = await snapshot(engine, org)
    ghosts = [f"ghost-{i}" for i in range(2_500)]

    result = await set_state(engine, org, ["known", *ghosts], S, D)

    errors = result.user_errors
    assert len(errors) == 1_001
    assert [e.user_id for e in errors[:1_000]] == ghosts[:1_000]
    assert errors[999].field == (InputField.USER_IDS, 1000)
    total = errors[-1]
    assert (total.code, total.user_id, total.field) == (
        "USER_NOT_FOUND",
        None,
        (InputField.USER_IDS,),
    )
    assert total.message == "2,500 user ids name no user (the first 1,000 are listed)"
    assert await snapshot(engine, org) == before
    deleted = await engine.delete_users(org, ADMIN, ghosts)
    assert len(deleted.user_errors) == 1_001


@async_test
async def test_spec_3_other_problem_lists_are_capped_with_counts_by_code(engine):
    """The same bound for invalid ids and pre-provisioned users: 1,000 entries, then the total
    with its counts by code."""
    org = await new_org(engine)
    result = await set_state(engine, org, [""] * 1_500, S, D)
    assert len(result.user_errors) == 1_001
    assert result.user_errors[-1].message == (
        "1,500 problems in all (1,500 INVALID_INPUT); the first 1,000 are listed"
    )


@pytest.mark.parametrize(
    "user_ids, license_type",
    [
        pytest.param([], S, id="empty-list"),
        pytest.param(["a"], E, id="external"),
        pytest.param(["x" * 129], S, id="over-long-id"),
        pytest.param(["a\x00"], S, id="control-char"),
    ],
)
@async_test
async def test_spec_3_invalid_requests_are_invalid_input_and_change_nothing(
    engine, user_ids, license_type
):
    """SPEC 3: no ids, the EXTERNAL type (no per-user selector) or hostile ids: INVALID_INPUT."""
    org = await new_org(engine)
    await buy(engine, org, S, 5)
    await provisioned(engine, org, ("a", U, U))
    before = await snapshot(engine, org)
    result = await set_state(engine, org, user_ids, license_type, A)
    assert codes(result) == ["INVALID_INPUT"]
    assert await snapshot(engine, org) == before


@async_test
async def test_spec_3_guid_ids_are_found_whatever_their_case(engine):
    """SPEC 1 / 3: a GUID id given in another case names the same user."""
    org = await new_org(engine)
    await buy(engine, org, S, 1)
    await provisioned(engine, org, (GUID, U, U))
    assert (await set_state(engine, org, [GUID.upper()], S, A)).ok
    assert (await get(engine, org, GUID)).standard is A


@pytest.mark.parametrize("state", [A, U, D])
@async_test
async def test_spec_3_during_the_trial_the_only_answer_is_trial_active(engine, state):
    """SPEC 3: during a trial setLicenseState answers TRIAL_ACTIVE and nothing else — no other
    check runs, even for unknown users or the EXTERNAL type."""
    org = await new_org(engine, trial_days=30)
    await provisioned(engine, org, ("a", U, U))
    before = await snapshot(engine, org)

    for user_ids, license_type in ((["a"], S), (["ghost"], I), ([], E)):
        result = await set_state(engine, org, user_ids, license_type, state)
        assert codes(result) == ["TRIAL_ACTIVE"], (user_ids, license_type)
    assert await snapshot(engine, org) == before


@async_test
async def test_spec_3_after_the_trial_license_management_works(engine, clock):
    """SPEC 3, Trial: at trialEndsAt the normal rules apply."""
    org = await new_org(engine, trial_days=7)
    await provisioned(engine, org, ("a", U, U))
    clock.advance(days=7)
    await buy(engine, org, S, 1)
    assert (await set_state(engine, org, ["a"], S, A)).ok


@async_test
async def test_spec_3_pre_provisioning_a_seat_during_the_trial_is_trial_active_only(engine):
    """SPEC 3: pre-provisioning that assigns a seat is refused during the trial with TRIAL_ACTIVE
    only (even when the list has other problems); without a seat it is allowed."""
    org = await new_org(engine, trial_days=30)
    await buy(engine, org, S, 5)

    assigning = await provision(engine, org, ("a", A, U), ("b", U, U, "B", "not-an-email"))
    assert codes(assigning) == ["TRIAL_ACTIVE"]
    assert await all_users(engine, org) == []

    assert (await provision(engine, org, ("c", D, U), ("d", U, U))).ok
    assert sorted(u.id for u in await all_users(engine, org)) == ["c", "d"]


@async_test
async def test_spec_3_unknown_organization_is_a_bad_request(engine):
    """SPEC 1: an organization id that names nothing fails the request (nothing to act on)."""
    with pytest.raises(BadRequest):
        await set_state(engine, "no-such-org", ["a"], S, A)


# ================================================================ delete users


@async_test
async def test_spec_3_deleting_users_removes_them_and_releases_their_seats(engine):
    """SPEC 3, Delete users: the users are gone and their seats are free again."""
    org = await new_org(engine)
    await buy(engine, org, S, 1)
    await buy(engine, org, I, 1)
    await provisioned(engine, org, ("s", A, U), ("i", U, A), ("keep", U, U))

    result = await engine.delete_users(org, ADMIN, ["s", "i"])

    assert result.ok and sorted(result.value) == ["i", "s"]
    assert [u.id for u in await all_users(engine, org)] == ["keep"]
    assert (await holders(engine, org, S), await holders(engine, org, I)) == (0, 0)
    assert (await set_state(engine, org, ["keep"], S, A)).ok


@async_test
async def test_spec_3_a_deleted_user_syncing_again_gets_a_fresh_temporary_license(engine, clock):
    """SPEC 3 / 4.7 and the source: a user who used the app, was deleted, and syncs again is a
    fresh user with a fresh two-week temporary license."""
    org = await new_org(engine)
    await sync(engine, org, "pete")
    clock.advance(days=20)
    assert license_of(await sync(engine, org, "pete")) == refused(
        "LICENSE_EXPIRED", "GRACE_PERIOD_ENDED", S
    )
    assert (await engine.delete_users(org, ADMIN, ["pete"])).ok
    again = clock.advance(days=1)

    outcome = await sync(engine, org, "pete")

    assert license_of(outcome) == temporary(S, again + timedelta(days=14))
    user = await get(engine, org, "pete")
    assert user.created_at == user.first_sync_at == user.grace_started_at == again


@async_test
async def test_spec_3_deleting_an_unknown_user_is_user_not_found(engine):
    """SPEC 3: deleting an id that names nobody: USER_NOT_FOUND, nothing deleted."""
    org = await new_org(engine)
    await provisioned(engine, org, ("a", U, U))
    result = await engine.delete_users(org, ADMIN, ["nobody"])
    assert [(e.code, e.user_id) for e in result.user_errors] == [("USER_NOT_FOUND", "nobody")]
    assert [u.id for u in await all_users(engine, org)] == ["a"]


# ================================================================ pre-provisioning


@async_test
async def test_spec_3_pre_provisioned_users_carry_their_chosen_states_into_their_first_sync(
    engine, clock
):
    """SPEC 3: an admin decides in advance who may sync: a granted user is covered at its first
    sync, a disabled one is refused, an untouched one gets the temporary license."""
    org = await new_org(engine)
    await buy(engine, org, S, 1)
    await buy(engine, org, I, 1)

    result = await provision(engine, org, ("granted", U, A), ("blocked", D, D), ("open", U, U))

    assert result.ok and [u.id for u in result.value] == ["granted", "blocked", "open"]
    granted = await get(engine, org, "granted")
    assert (
        granted.selectors == (U, A)
        and granted.assigned_at == clock()
        and granted.first_sync_at is None
    )
    assert license_of(await sync(engine, org, "granted")) == ok(I)
    assert license_of(await sync(engine, org, "blocked")) == refused(
        "LICENSE_NOT_FOUND", "DISABLED", S
    )
    assert license_of(await sync(engine, org, "open")) == temporary(S, clock() + timedelta(days=14))


@async_test
async def test_spec_3_pre_provisioning_is_audited(engine):
    """SPEC 3 / invariant 4: selectors set at creation are changes, audited with actor and one
    operation id."""
    org = await new_org(engine)
    await buy(engine, org, I, 1)
    await provisioned(engine, org, ("granted", U, A), ("blocked", D, U), ("open", U, U))
    entries = await audit_entries(engine, org)
    assert {(e.user_id, e.license_type, e.from_state, e.to_state) for e in entries} == {
        ("granted", I, U, A),
        ("blocked", S, U, D),
    }
    assert {e.actor for e in entries} == {ADMIN} and len({e.operation_id for e in entries}) == 1


@async_test
async def test_spec_3_pre_provisioning_an_existing_id_is_user_exists(engine):
    """SPEC 3: ids must be new (GUIDs compared case-insensitively; twice in one list too)."""
    org = await new_org(engine)
    await provisioned(engine, org, (GUID, U, U))

    existing = await provision(engine, org, (GUID.upper(), U, U, "Other", "other@example.com"))
    twice = await provision(
        engine, org, ("x", U, U, "X", "x1@example.com"), ("x", U, U, "X", "x2@example.com")
    )

    assert [(e.code, e.user_id) for e in existing.user_errors] == [("USER_EXISTS", GUID.upper())]
    assert codes(twice) == ["USER_EXISTS"]
    assert len(await all_users(engine, org)) == 1


@async_test
async def test_spec_3_pre_provisioning_a_taken_email_is_email_taken(engine):
    """SPEC 3 / invariant 3: e-mails must be free, case-insensitively."""
    org = await new_org(engine)
    await sync(engine, org, "ann", email="ann@example.com")
    result = await provision(engine, org, ("new", U, U, "New", "ANN@EXAMPLE.COM"))
    assert codes(result) == ["EMAIL_TAKEN"]
    assert await get(engine, org, "new") is None


@async_test
async def test_spec_3_pre_provisioning_more_seats_than_free_is_not_enough_seats(engine):
    """SPEC 3: pre-provisioning assigns seats under the same limit: NOT_ENOUGH_SEATS, nobody created."""
    org = await new_org(engine)
    await buy(engine, org, S, 2)
    await provisioned(engine, org, ("held", A, U))

    result = await provision(engine, org, ("a", A, U), ("b", A, U), ("c", U, U))

    assert codes(result) == ["NOT_ENOUGH_SEATS"]
    assert result.user_errors[0].message == "not enough STANDARD seats: 2 needed, 1 free"
    assert [u.id for u in await all_users(engine, org)] == ["held"]


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(("", U, U, "Empty", "e@example.com"), id="empty-id"),
        pytest.param(("x" * 129, U, U, "Long", "l@example.com"), id="129-char-id"),
        pytest.param(("ok", U, U, "", "n@example.com"), id="empty-name"),
        pytest.param(("ok", U, U, "N" * 10_000, "n@example.com"), id="10k-name"),
        pytest.param(("ok", U, U, "Name", "x" * 10_000), id="10k-email"),
        pytest.param(("ok", U, U, "Name", "bad email@example.com"), id="bad-email"),
    ],
)
@async_test
async def test_spec_3_pre_provisioning_hostile_values_are_invalid_input(engine, spec):
    """SPEC 3 / 4.1: the same input rules apply to users created by an admin."""
    org = await new_org(engine)
    result = await provision(engine, org, spec)
    assert codes(result) == ["INVALID_INPUT"]
    assert await all_users(engine, org) == []


# ================================================================ settings


@async_test
async def test_spec_3_settings_defaults_are_the_sources_numbers(engine):
    """SPEC 3, Settings: auto-assign off, auto-free-up off, 90 inactivity days, 14 grace days."""
    org = await new_org(engine)
    assert (await engine.get_organization(org)).settings == Settings(False, False, 90, 14)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"inactivity_days": 1}, id="inactivity-1"),
        pytest.param({"inactivity_days": 3650}, id="inactivity-3650"),
        pytest.param({"grace_period_days": 0}, id="grace-0"),
        pytest.param({"grace_period_days": 365}, id="grace-365"),
        pytest.param({"auto_assign_licenses": True, "auto_free_up_licenses": True}, id="switches"),
    ],
)
@async_test
async def test_spec_3_settings_within_range_are_stored_and_others_kept(engine, changes):
    """SPEC 3, Settings: inactivityDays 1–3650 and gracePeriodDays 0–365 inclusive; fields not
    given keep their values."""
    org = await new_org(engine)
    result = await engine.update_settings(org, **changes)
    expected = Settings(
        auto_assign_licenses=changes.get("auto_assign_licenses", False),
        auto_free_up_licenses=changes.get("auto_free_up_licenses", False),
        inactivity_days=changes.get("inactivity_days", 90),
        grace_period_days=changes.get("grace_period_days", 14),
    )
    assert result.ok and result.value == expected
    assert (await engine.get_organization(org)).settings == expected


@pytest.mark.parametrize(
    "changes, field",
    [
        pytest.param({"inactivity_days": 0}, InputField.INACTIVITY_DAYS, id="inactivity-0"),
        pytest.param({"inactivity_days": 3651}, InputField.INACTIVITY_DAYS, id="inactivity-3651"),
        pytest.param({"inactivity_days": -1}, InputField.INACTIVITY_DAYS, id="inactivity-negative"),
        pytest.param({"grace_period_days": -1}, InputField.GRACE_PERIOD_DAYS, id="grace-negative"),
        pytest.param({"grace_period_days": 366}, InputField.GRACE_PERIOD_DAYS, id="grace-366"),
        pytest.param({"grace_period_days": 10**12}, InputField.GRACE_PERIOD_DAYS, id="grace-huge"),
    ],
)
@async_test
async def test_spec_3_settings_out_of_range_are_invalid_input_and_change_nothing(
    engine, changes, field
):
    """SPEC 3, Settings: a day count out of range is INVALID_INPUT and nothing changes, not even
    the valid fields of the same request."""
    org = await new_org(engine)
    result = await engine.update_settings(org, auto_assign_licenses=True, **changes)
    assert [(e.code, e.field) for e in result.user_errors] == [("INVALID_INPUT", (field,))]
    assert (await engine.get_organization(org)).settings == Settings()


# ================================================================ trial


@async_test
async def test_spec_3_an_organization_without_trial_has_no_trial_end(engine, clock):
    """SPEC 3, Trial: trialEndsAt is null for an organization created with no trial."""
    created = await engine.create_organization("No Trial", 0)
    trial = await engine.create_organization("Trial", 14)
    assert created.value.organization.trial_ends_at is None
    assert trial.value.organization.trial_ends_at == clock() + timedelta(days=14)


@pytest.mark.parametrize("name, trial_days", [("", 0), ("x" * 10_000, 0), ("Ok", -1), ("Ok", 366)])
@async_test
async def test_spec_3_organization_with_bad_name_or_trial_days_is_invalid_input(
    engine, name, trial_days
):
    """Creating an organization validates its name and trial length; nothing is created."""
    result = await engine.create_organization(name, trial_days)
    assert codes(result) == ["INVALID_INPUT"]
    assert await engine.list_organizations() == []


# ================================================================ subscriptions


@async_test
async def test_spec_3_seat_subscriptions_need_at_least_one_seat(engine, clock):
    """SPEC 3, Subscriptions: seat types need seats >= 1; zero, negative or missing is refused."""
    org = await new_org(engine)
    until = clock() + timedelta(days=30)
    for seats in (0, -5, None):
        result = await engine.add_subscription(org, S, seats, until)
        assert [(e.code, e.field) for e in result.user_errors] == [
            ("INVALID_INPUT", (InputField.SEATS,))
        ]
    assert await engine.storage.list_subscriptions(org) == []
    one = await engine.add_subscription(org, I, 1, until)
    assert one.ok and one.value.seats == 1 and one.value.valid_from == clock()


@async_test
async def test_spec_3_external_subscriptions_ignore_seats(engine, clock):
    """SPEC 3: EXTERNAL ignores seats (whatever is given, none is stored)."""
    org = await new_org(engine)
    for seats in (50, 0, -1, None):
        result = await engine.add_subscription(org, E, seats, clock() + timedelta(days=30))
        assert result.ok and result.value.seats is None
    assert [s.seats for s in await engine.storage.list_subscriptions(org)] == [None] * 4


@async_test
async def test_spec_3_valid_until_must_be_after_valid_from(engine, clock):
    """SPEC 3: validUntil after validFrom (equal or earlier is refused)."""
    org = await new_org(engine)
    start = clock() + timedelta(days=1)
    for until in (start, start - timedelta(seconds=1)):
        result = await engine.add_subscription(org, S, 5, until, start)
        assert [(e.code, e.field) for e in result.user_errors] == [
            ("INVALID_INPUT", (InputField.VALID_UNTIL,))
        ]
    assert await engine.storage.list_subscriptions(org) == []


@async_test
async def test_spec_3_subscription_for_an_unknown_organization_is_organization_not_found(
    engine, clock
):
    """SPEC 3: ORGANIZATION_NOT_FOUND for an organization id that names nothing."""
    result = await engine.add_subscription("missing", S, 5, clock() + timedelta(days=1))
    assert codes(result) == ["ORGANIZATION_NOT_FOUND"]


# ================================================================ projects


@async_test
async def test_spec_4_1_every_organization_has_a_default_standard_project(engine):
    """SPEC 1 / 4.1: the default project's id is `default`, kind STANDARD."""
    org = await new_org(engine)
    [project] = await engine.list_projects(org)
    assert (project.id, project.kind) == ("default", ProjectKind.STANDARD)


@async_test
async def test_spec_3_projects_are_upserted_and_the_default_kind_can_change(engine):
    """Projects: created, renamed and re-kinded by id; the default project's kind can change."""
    org = await new_org(engine)
    assert (await engine.upsert_project(org, "field", "Field App", ProjectKind.STANDARD)).ok
    assert (
        await engine.upsert_project(org, "field", "Field Inspections", ProjectKind.INSPECTIONS)
    ).ok
    assert (await engine.upsert_project(org, "default", "Default", ProjectKind.EXTERNAL)).ok
    projects = {p.id: (p.name, p.kind) for p in await engine.list_projects(org)}
    assert projects == {
        "default": ("Default", ProjectKind.EXTERNAL),
        "field": ("Field Inspections", ProjectKind.INSPECTIONS),
    }
    assert license_of(await sync(engine, org, "guest")) == refused(
        "LICENSE_NOT_FOUND", "NO_SUBSCRIPTION", E
    )


@pytest.mark.parametrize(
    "project_id, name", [("", "Name"), ("p" * 65, "Name"), ("ok", ""), ("ok", "bad\x00name")]
)
@async_test
async def test_spec_3_project_with_bad_id_or_name_is_invalid_input(engine, project_id, name):
    """Projects: an empty, over-long or hostile id or name is INVALID_INPUT; nothing is stored."""
    org = await new_org(engine)
    result = await engine.upsert_project(org, project_id, name, ProjectKind.STANDARD)
    assert codes(result) == ["INVALID_INPUT"]
    assert [p.id for p in await engine.list_projects(org)] == ["default"]
