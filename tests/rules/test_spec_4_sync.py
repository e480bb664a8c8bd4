"""SPEC 4: the sync decision procedure, step by step, on the real engine and memory storage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from seatkeeper.domain.records import AuditReason, Client, ProjectKind
from seatkeeper.rules.engine import SyncRequest
from seatkeeper.rules.fields import InputField

from tests.rules.rules_support import (
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
    external_project,
    get,
    holders,
    inspections_project,
    license_of,
    new_org,
    ok,
    provisioned,
    refused,
    set_state,
    snapshot,
    sync,
    sync_entries,
    temporary,
)

NOT_FOUND, EXPIRED = "LICENSE_NOT_FOUND", "LICENSE_EXPIRED"


# ================================================================ 4.1 input and user


@async_test
async def test_spec_4_1_unknown_project_is_project_not_found_and_changes_nothing_but_the_sync_log(
    engine,
):
    """SPEC 4.1: an unknown projectId is the userError PROJECT_NOT_FOUND; no user is recorded."""
    org = await new_org(engine)
    before = await snapshot(engine, org)

    outcome = await sync(engine, org, "ann", project="no-such-project")

    assert [(e.code, e.field) for e in outcome.user_errors] == [
        ("PROJECT_NOT_FOUND", (InputField.PROJECT_ID,))
    ]
    assert outcome.license is None and outcome.error is None
    assert await snapshot(engine, org) == before
    [entry] = await sync_entries(engine, org)
    assert (entry.user_id, entry.ok, entry.error_code, entry.project_id) == (
        "ann",
        False,
        "PROJECT_NOT_FOUND",
        "no-such-project",
    )


@async_test
async def test_spec_4_1_email_of_another_user_is_email_taken_and_changes_nothing_but_the_sync_log(
    engine, clock
):
    """SPEC 4.1: an e-mail held by another user is EMAIL_TAKEN (a userError, not a license error)."""
    org = await new_org(engine)
    await sync(engine, org, "ann", email="ann@example.com")
    before = await snapshot(engine, org)
    clock.advance(minutes=5)

    outcome = await sync(engine, org, "impostor", email="Ann@Example.COM")

    assert [e.code for e in outcome.user_errors] == ["EMAIL_TAKEN"] and outcome.error is None
    assert await snapshot(engine, org) == before
    assert [(e.user_id, e.error_code) for e in await sync_entries(engine, org)][-1] == (
        "impostor",
        "EMAIL_TAKEN",
    )


HOSTILE_IDS = [
    pytest.param("", id="empty"),
    pytest.param("   ", id="blank"),
    pytest.param("x" * 129, id="129-chars"),
    pytest.param("x" * 10_000, id="10k-chars"),
    pytest.param("a\x00b", id="nul"),
    pytest.param("line\nbreak", id="newline"),
    pytest.param("bell\x07", id="control-char"),
    pytest.param("half\ud800", id="lone-surrogate"),  # not valid Unicode: no backend can store it
]


@pytest.mark.parametrize("user_id", HOSTILE_IDS)
@async_test
async def test_spec_4_1_empty_over_long_or_hostile_user_id_is_invalid_input(engine, user_id):
    """SPEC 4.1 / SPEC 1: ids are 1–128 characters; anything else is INVALID_INPUT and changes
    nothing but the sync log."""
    org = await new_org(engine)
    before = await snapshot(engine, org)

    outcome = await sync(engine, org, user_id, email="someone@example.com", name="Someone")

    assert [(e.code, e.field) for e in outcome.user_errors] == [
        ("INVALID_INPUT", (InputField.USER_ID,))
    ]
    assert await snapshot(engine, org) == before
    [entry] = await sync_entries(engine, org)
    assert entry.error_code == "INVALID_INPUT" and not entry.ok
    assert len(entry.user_id) <= 128  # the log does not store a 10k-character value whole


HOSTILE_EMAILS = [
    pytest.param("", id="empty"),
    pytest.param("plain", id="no-at"),
    pytest.param("a@b", id="no-dot"),
    pytest.param("@example.com", id="no-local-part"),
    pytest.param("two@@example.com", id="two-ats"),
    pytest.param("sp ace@example.com", id="space"),
    pytest.param("a\x00b@example.com", id="nul"),
    pytest.param("a@example.com\n", id="trailing-newline"),
    pytest.param("a@example.com\r\nBcc: x@example.com", id="header-injection"),
    pytest.param("x" * 10_000 + "@example.com", id="10k-chars"),
    pytest.param("a\udfff@example.com", id="lone-surrogate"),
]


@pytest.mark.parametrize("email", HOSTILE_EMAILS)
@async_test
async def test_spec_4_1_malformed_or_hostile_email_is_invalid_input(engine, email):
    """SPEC 4.1: a malformed e-mail is INVALID_INPUT and changes nothing but the sync log."""
    org = await new_org(engine)
    before = await snapshot(engine, org)

    outcome = await sync(engine, org, "ann", email=email)

    assert [(e.code, e.field) for e in outcome.user_errors] == [
        ("INVALID_INPUT", (InputField.EMAIL,))
    ]
    assert await snapshot(engine, org) == before
    assert [e.error_code for e in await sync_entries(engine, org)] == ["INVALID_INPUT"]


@pytest.mark.parametrize(
    "field, value",
    [
        pytest.param("name", "N" * 10_000, id="10k-name"),
        pytest.param("name", "Tab\tName", id="control-in-name"),
        pytest.param("name", "Half\ud800", id="lone-surrogate-in-name"),
        pytest.param("project", "p" * 10_000, id="10k-project"),
        pytest.param("project", "proj\x00", id="nul-in-project"),
    ],
)
@async_test
async def test_spec_4_1_hostile_name_or_project_id_changes_nothing(engine, field, value):
    """SPEC 4.1: hostile values in the other fields are refused too, and change nothing."""
    org = await new_org(engine)
    before = await snapshot(engine, org)

    outcome = await sync(engine, org, "ann", **{field: value})

    assert outcome.user_errors and {e.code for e in outcome.user_errors} <= {
        "INVALID_INPUT",
        "PROJECT_NOT_FOUND",
    }
    assert await snapshot(engine, org) == before
    assert len(await sync_entries(engine, org)) == 1


@async_test
async def test_spec_4_1_an_id_of_128_characters_is_accepted(engine):
    """SPEC 1: 128 characters is the longest id, and it is kept whole."""
    org = await new_org(engine)
    long_id = "i" * 128
    outcome = await sync(engine, org, long_id, email="long@example.com")
    assert not outcome.user_errors
    assert (await get(engine, org, long_id)).id == long_id


@async_test
async def test_spec_4_1_first_sync_creates_the_user_with_both_selectors_unassigned(engine, clock):
    """SPEC 4.1: an unknown id creates the user, UNASSIGNED/UNASSIGNED, first and last sync now."""
    org = await new_org(engine)
    await sync(engine, org, "ann", email="ann@example.com", name="Ann Archer")
    user = await get(engine, org, "ann")
    assert (user.id, user.full_name, user.email) == ("ann", "Ann Archer", "ann@example.com")
    assert user.selectors == (U, U)
    assert user.created_at == user.first_sync_at == user.last_sync_at == clock()


@async_test
async def test_spec_4_1_later_syncs_update_name_and_email_and_keep_first_sync(engine, clock):
    """SPEC 4.1: fullName and email follow the latest sync; firstSyncAt is set once; lastSyncAt moves."""
    org = await new_org(engine)
    first = clock()
    await sync(engine, org, "ann", email="ann@example.com", name="Ann Archer")
    later = clock.advance(days=3)

    await sync(engine, org, "ann", email="ann.b@example.com", name="Ann Baker")

    user = await get(engine, org, "ann")
    assert (user.full_name, user.email) == ("Ann Baker", "ann.b@example.com")
    assert (user.created_at, user.first_sync_at, user.last_sync_at) == (first, first, later)
    page = await engine.list_users(org, search="baker")  # the list order follows the new name
    assert [v.user.id for v in page.items] == ["ann"]


@async_test
async def test_spec_4_1_full_name_is_optional(engine, clock):
    """SPEC 4 input: fullName is optional: a new user is named by its e-mail until a sync gives a
    name, and a sync without one keeps the name it has."""
    org = await new_org(engine)
    nameless = SyncRequest("ann", "ann@example.com", full_name=None)
    assert (await engine.sync(org, nameless)).ok
    assert (await get(engine, org, "ann")).full_name == "ann@example.com"
    await sync(engine, org, "ann", email="ann@example.com", name="Ann Archer")
    assert (await engine.sync(org, nameless)).ok
    assert (await get(engine, org, "ann")).full_name == "Ann Archer"


@async_test
async def test_spec_4_1_a_pre_provisioned_user_gets_first_sync_at_on_its_first_sync(engine, clock):
    """SPEC 4.1: firstSyncAt is set when unset, also for a user created by an admin."""
    org = await new_org(engine)
    await provisioned(engine, org, ("pre", U, U))
    assert (await get(engine, org, "pre")).first_sync_at is None
    now = clock.advance(days=2)
    await sync(engine, org, "pre")
    assert (await get(engine, org, "pre")).first_sync_at == now


@async_test
async def test_spec_4_1_a_guid_id_is_compared_case_insensitively(engine):
    """SPEC 1 / 4.1: ids that parse as GUIDs name the same user whatever their case or braces."""
    org = await new_org(engine)
    guid = "1a75199f-a48b-40d4-b9bc-2ea05faa8197"
    await sync(engine, org, guid.upper(), email="matt@example.com")
    await sync(engine, org, guid, email="matt@example.com")
    await sync(engine, org, "{" + guid + "}", email="matt@example.com")
    users = await all_users(engine, org)
    assert len(users) == 1
    assert await get(engine, org, guid.upper()) == await get(engine, org, guid)


@async_test
async def test_spec_4_1_a_non_guid_id_is_compared_exactly(engine):
    """SPEC 1: only GUIDs are compared case-insensitively; `Bob` and `bob` are two users."""
    org = await new_org(engine)
    await sync(engine, org, "Bob", email="bob1@example.com")
    await sync(engine, org, "bob", email="bob2@example.com")
    assert sorted(u.id for u in await all_users(engine, org)) == ["Bob", "bob"]


# ================================================================ 4.2 trial


@async_test
async def test_spec_4_2_trial_grants_the_required_type_until_trial_end_without_a_seat(
    engine, clock
):
    """SPEC 4.2: in trial every sync succeeds with trial=True, type = required license,
    expiresAt = trialEndsAt; no seat is taken and no temporary window starts."""
    org = await new_org(engine, trial_days=30)
    trial_end = clock() + timedelta(days=30)
    insp = await inspections_project(engine, org)
    ext = await external_project(engine, org)

    assert license_of(await sync(engine, org, "std")) == ("OK", S, False, True, trial_end)
    assert license_of(await sync(engine, org, "insp", project=insp)) == (
        "OK",
        I,
        False,
        True,
        trial_end,
    )
    assert license_of(await sync(engine, org, "ext", project=ext)) == (
        "OK",
        E,
        False,
        True,
        trial_end,
    )
    for user in await all_users(engine, org):
        assert user.selectors == (U, U) and user.grace_started_at is None
    assert (await holders(engine, org, S), await holders(engine, org, I)) == (0, 0)
    assert await audit_entries(engine, org) == []


@async_test
async def test_spec_4_2_trial_lets_even_a_disabled_user_sync(engine):
    """SPEC 3, Trial: every sync that passes step 4.1 succeeds (step 2 comes before step 5)."""
    org = await new_org(engine, trial_days=10, auto_assign=True)
    await provisioned(engine, org, ("blocked", D, D))  # pre-provisioning without a seat is allowed
    outcome = await sync(engine, org, "blocked")
    assert outcome.ok and outcome.license.trial


@async_test
async def test_spec_4_2_after_the_trial_the_normal_rules_apply(engine, clock):
    """SPEC 4.2: at trialEndsAt the trial is over; the temporary window starts at that first
    post-trial sync (the trial syncs did not start it)."""
    org = await new_org(engine, trial_days=30)
    await sync(engine, org, "ann")
    trial_end = clock.advance(days=30)

    outcome = await sync(engine, org, "ann")

    assert license_of(outcome) == temporary(S, trial_end + timedelta(days=14))
    assert (await get(engine, org, "ann")).grace_started_at == trial_end


@async_test
async def test_spec_4_2_after_the_trial_auto_assignment_needs_a_subscription(engine, clock):
    """SPEC 4.2: after the trial, with auto-assign on and no seats, the answer is NO_SEAT_AVAILABLE."""
    org = await new_org(engine, trial_days=5, auto_assign=True)
    assert (await sync(engine, org, "ann")).ok
    clock.advance(days=5)
    assert license_of(await sync(engine, org, "ann")) == refused(NOT_FOUND, "NO_SEAT_AVAILABLE", S)


# ================================================================ 4.3 EXTERNAL projects


@async_test
async def test_spec_4_3_external_project_with_a_valid_subscription_succeeds_without_a_seat(engine):
    """SPEC 4.3: every user of an external project is covered; no seat, no window, no expiresAt."""
    org = await new_org(engine)
    ext = await external_project(engine, org)
    await buy(engine, org, E)
    outcomes = [await sync(engine, org, f"guest-{n}", project=ext) for n in range(5)]
    assert {license_of(o) for o in outcomes} == {ok(E)}
    for user in await all_users(engine, org):
        assert user.selectors == (U, U) and user.grace_started_at is None


@async_test
async def test_spec_4_3_external_subscription_ended_is_subscription_expired(engine, clock):
    """SPEC 4.3: a subscription existed and ended: LICENSE_EXPIRED / SUBSCRIPTION_EXPIRED."""
    org = await new_org(engine)
    ext = await external_project(engine, org)
    await buy(engine, org, E, days=10)
    clock.advance(days=10)  # validUntil is excluded (half-open)

    outcome = await sync(engine, org, "guest", project=ext)

    assert license_of(outcome) == refused(EXPIRED, "SUBSCRIPTION_EXPIRED", E)
    assert outcome.error.message == "LICENSE: EXPIRED"


@async_test
async def test_spec_4_3_external_without_subscription_or_only_upcoming_is_no_subscription(
    engine, clock
):
    """SPEC 4.3: none, or only one that has not begun: LICENSE_NOT_FOUND / NO_SUBSCRIPTION."""
    org = await new_org(engine)
    ext = await external_project(engine, org)
    none = await sync(engine, org, "guest", project=ext)
    await buy(engine, org, E, starts_in_days=3)
    upcoming = await sync(engine, org, "guest", project=ext)
    clock.advance(days=3)
    started = await sync(engine, org, "guest", project=ext)

    assert license_of(none) == refused(NOT_FOUND, "NO_SUBSCRIPTION", E)
    assert none.error.message == "LICENSE: NOT FOUND"
    assert license_of(upcoming) == refused(NOT_FOUND, "NO_SUBSCRIPTION", E)
    assert license_of(started) == ok(E)


@async_test
async def test_spec_4_3_a_renewed_external_subscription_covers_again(engine, clock):
    """SPEC 4.3: an ended subscription does not matter while another is valid."""
    org = await new_org(engine)
    ext = await external_project(engine, org)
    await buy(engine, org, E, days=10)
    clock.advance(days=20)
    await buy(engine, org, E, days=10)
    assert license_of(await sync(engine, org, "guest", project=ext)) == ok(E)


@async_test
async def test_spec_4_3_external_project_ignores_disabled_selectors_and_seat_subscriptions(engine):
    """SPEC 4.3 comes before 4.5: a user disabled for both seat types still syncs an external
    project, and STANDARD seats do not cover one."""
    org = await new_org(engine, auto_assign=True)
    ext = await external_project(engine, org)
    await buy(engine, org, S, 10)
    await provisioned(engine, org, ("blocked", D, D), ("holder", A, U))
    assert license_of(await sync(engine, org, "holder", project=ext)) == refused(
        NOT_FOUND, "NO_SUBSCRIPTION", E
    )
    await buy(engine, org, E)
    assert license_of(await sync(engine, org, "blocked", project=ext)) == ok(E)


# ================================================================ 4.4 covered


@async_test
async def test_spec_4_4_inspections_seat_covers_a_standard_project_and_is_granted_as_inspections(
    engine,
):
    """SPEC 4.4: INSPECTIONS covers STANDARD; the granted type is the seat held."""
    org = await new_org(engine)
    await buy(engine, org, I, 1)
    insp = await inspections_project(engine, org)
    await provisioned(engine, org, ("inspector", U, A))
    assert license_of(await sync(engine, org, "inspector")) == ok(I)
    assert license_of(await sync(engine, org, "inspector", project=insp)) == ok(I)
    assert (await get(engine, org, "inspector")).selectors == (U, A)  # nothing moved


@async_test
async def test_spec_4_4_a_standard_seat_does_not_cover_an_inspections_project(engine, clock):
    """SPEC 4.4: STANDARD does not cover INSPECTIONS; with auto-assign off the user gets the
    temporary license (4.7) and keeps its STANDARD seat."""
    org = await new_org(engine)
    await buy(engine, org, S, 1)
    insp = await inspections_project(engine, org)
    await provisioned(engine, org, ("std", A, U))
    outcome = await sync(engine, org, "std", project=insp)
    assert license_of(outcome) == temporary(I, clock() + timedelta(days=14))
    assert (await get(engine, org, "std")).selectors == (A, U)


@async_test
async def test_spec_4_4_held_covering_seat_wins_over_a_disabled_other_selector(engine):
    """SPEC 4.4 [decided]: an INSPECTIONS holder whose STANDARD selector is DISABLED still syncs
    a STANDARD project (covered, step 4, before blocked, step 5)."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, I, 1)
    await provisioned(engine, org, ("inspector", U, A))
    assert (await set_state(engine, org, ["inspector"], S, D)).ok
    assert (await get(engine, org, "inspector")).selectors == (D, A)

    assert license_of(await sync(engine, org, "inspector")) == ok(I)


async def _three_holders_then_capacity_falls(engine, clock, remaining: int):
    """Holders assigned on days 0, 1, 2 (in that order), then the subscriptions fall to `remaining`."""
    org = await new_org(engine)
    if remaining:
        await buy(engine, org, S, remaining, days=400)
    await buy(engine, org, S, 3 - remaining, days=30)
    await provisioned(engine, org, ("zed", U, U), ("amy", U, U), ("kim", U, U))
    for user_id in ("zed", "amy", "kim"):  # assignedAt order is not the id order
        assert (await set_state(engine, org, [user_id], S, A)).ok
        clock.advance(days=1)
    clock.advance(days=30)
    return org


@async_test
async def test_spec_4_4_over_capacity_after_a_subscription_ends_ranked_by_assigned_at(
    engine, clock
):
    """SPEC 4.4 / 5: capacity 1 for 3 holders: the oldest assignment syncs; the others get
    LICENSE_EXPIRED / OVER_CAPACITY (capacity is not 0)."""
    org = await _three_holders_then_capacity_falls(engine, clock, remaining=1)

    assert license_of(await sync(engine, org, "zed")) == ok(S)
    for user_id in ("amy", "kim"):
        outcome = await sync(engine, org, user_id)
        assert license_of(outcome) == refused(EXPIRED, "OVER_CAPACITY", S)
        assert outcome.error.message == "LICENSE: EXPIRED"
    assert await holders(engine, org, S) == 3  # assignments are not silently removed


@async_test
async def test_spec_4_4_over_capacity_with_no_capacity_left_is_subscription_expired(engine, clock):
    """SPEC 4.4: when the type's capacity is 0 the reason is SUBSCRIPTION_EXPIRED."""
    org = await _three_holders_then_capacity_falls(engine, clock, remaining=0)
    for user_id in ("zed", "amy", "kim"):
        assert license_of(await sync(engine, org, user_id)) == refused(
            EXPIRED, "SUBSCRIPTION_EXPIRED", S
        )


@async_test
async def test_spec_4_4_releasing_an_over_capacity_holder_brings_the_next_in_rank_back(
    engine, clock
):
    """SPEC 5: capacity 2 for 3 holders; releasing the second-oldest lets the third sync again."""
    org = await _three_holders_then_capacity_falls(engine, clock, remaining=2)
    assert license_of(await sync(engine, org, "kim")) == refused(EXPIRED, "OVER_CAPACITY", S)
    assert (await set_state(engine, org, ["amy"], S, U)).ok
    assert license_of(await sync(engine, org, "kim")) == ok(S)


@async_test
async def test_spec_4_4_ties_of_assigned_at_are_ranked_by_id(engine, clock):
    """SPEC 5: holders assigned in one request share assignedAt; the smaller id ranks first."""
    org = await new_org(engine)
    await buy(engine, org, S, 1, days=400)
    await buy(engine, org, S, 2, days=30)
    await provisioned(
        engine, org, ("m", A, U), ("b", A, U), ("x", A, U)
    )  # one request, one instant
    clock.advance(days=31)
    assert license_of(await sync(engine, org, "b")) == ok(S)
    assert license_of(await sync(engine, org, "m")) == refused(EXPIRED, "OVER_CAPACITY", S)
    assert license_of(await sync(engine, org, "x")) == refused(EXPIRED, "OVER_CAPACITY", S)


@async_test
async def test_spec_4_4_over_capacity_inspections_holder_fails_on_a_standard_project_too(
    engine, clock
):
    """SPEC 4.4: the covering seat decides; over capacity it fails even where STANDARD is free,
    with the held type in the error."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, I, 1, days=10)
    await buy(engine, org, S, 5, days=400)
    await provisioned(engine, org, ("inspector", U, A))
    clock.advance(days=10)
    assert license_of(await sync(engine, org, "inspector")) == refused(
        EXPIRED, "SUBSCRIPTION_EXPIRED", I
    )
    assert (await get(engine, org, "inspector")).selectors == (U, A)


# ================================================================ 4.5 blocked


@async_test
async def test_spec_4_5_disabled_required_type_is_license_not_found_even_with_free_seats(engine):
    """SPEC 4.5: a DISABLED selector of the required type refuses, with auto-assign on."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 5)
    await provisioned(engine, org, ("blocked", D, U))
    outcome = await sync(engine, org, "blocked")
    assert license_of(outcome) == refused(NOT_FOUND, "DISABLED", S)
    assert outcome.error.message == "LICENSE: NOT FOUND"
    assert await holders(engine, org, S) == 0


@async_test
async def test_spec_4_5_disabled_user_gets_no_temporary_license_either(engine):
    """SPEC 4.5 comes before 4.7: with auto-assign off a DISABLED user is refused, and no window starts."""
    org = await new_org(engine)
    await provisioned(engine, org, ("blocked", D, U))
    assert license_of(await sync(engine, org, "blocked")) == refused(NOT_FOUND, "DISABLED", S)
    assert (await get(engine, org, "blocked")).grace_started_at is None


@async_test
async def test_spec_4_5_disabled_only_blocks_its_own_type(engine):
    """SPEC 4.5: INSPECTIONS DISABLED blocks INSPECTIONS projects, not STANDARD ones."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 1)
    await buy(engine, org, I, 1)
    insp = await inspections_project(engine, org)
    await provisioned(engine, org, ("roland", U, D))
    assert license_of(await sync(engine, org, "roland", project=insp)) == refused(
        NOT_FOUND, "DISABLED", I
    )
    assert license_of(await sync(engine, org, "roland")) == ok(S)


# ================================================================ 4.6.1 automatic assignment


@async_test
async def test_spec_4_6_1_auto_assign_gives_a_free_seat_of_the_required_type(engine, clock):
    """SPEC 4.6.1: a free seat is assigned (assignedAt now), permanent, no expiresAt."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 2)
    outcome = await sync(engine, org, "ann")
    assert license_of(outcome) == ok(S)
    user = await get(engine, org, "ann")
    assert (
        user.selectors == (A, U) and user.assigned_at == clock() and user.grace_started_at is None
    )
    assert await holders(engine, org, S) == 1


@pytest.mark.parametrize("client", list(Client))
@async_test
async def test_spec_4_6_1_web_and_api_clients_consume_seats_like_the_mobile_app(engine, client):
    """SPEC 4 input: web apps and web services consume licenses exactly as the mobile app does."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 1)
    assert license_of(await sync(engine, org, "first", client=client)) == ok(S)
    assert license_of(await sync(engine, org, "second", client=client)) == refused(
        NOT_FOUND, "NO_SEAT_AVAILABLE", S
    )
    assert [e.client for e in await sync_entries(engine, org)] == [client, client]


@async_test
async def test_spec_4_6_1_inspections_project_upgrades_a_standard_holder(engine):
    """SPEC 4.6.1: INSPECTIONS required, a STANDARD seat held: the upgrade releases STANDARD in
    the same step (audit: SWITCH and AUTO_ASSIGN sharing one operation id)."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 1)
    await buy(engine, org, I, 1)
    insp = await inspections_project(engine, org)
    await provisioned(engine, org, ("std", A, U))

    assert license_of(await sync(engine, org, "std", project=insp)) == ok(I)

    assert (await get(engine, org, "std")).selectors == (U, A)
    assert (await holders(engine, org, S), await holders(engine, org, I)) == (0, 1)
    switch, assign = (await audit_entries(engine, org, "std"))[-2:]
    assert (switch.license_type, switch.to_state, switch.reason, switch.actor) == (
        S,
        U,
        AuditReason.SWITCH,
        "system",
    )
    assert (assign.license_type, assign.to_state, assign.reason) == (I, A, AuditReason.AUTO_ASSIGN)
    assert switch.operation_id == assign.operation_id


@async_test
async def test_spec_4_6_1_no_inspections_seat_leaves_the_standard_seat_where_it_is(engine):
    """SPEC 4.6.3: the upgrade fails for want of INSPECTIONS seats; the STANDARD seat is kept."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 1)
    insp = await inspections_project(engine, org)
    await provisioned(engine, org, ("std", A, U))
    assert license_of(await sync(engine, org, "std", project=insp)) == refused(
        NOT_FOUND, "NO_SEAT_AVAILABLE", I
    )
    assert (await get(engine, org, "std")).selectors == (A, U)


@async_test
async def test_spec_4_6_premium_note_standard_project_never_gets_an_inspections_seat(engine):
    """SPEC 4.6 (the source's note on the premium license): STANDARD sold out or disabled, and
    INSPECTIONS seats free: a STANDARD project still gets no INSPECTIONS seat."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 1)
    await buy(engine, org, I, 5)
    await provisioned(engine, org, ("holder", A, U), ("blocked", D, U))

    sold_out = await sync(engine, org, "newcomer")
    disabled = await sync(engine, org, "blocked")

    assert license_of(sold_out) == refused(NOT_FOUND, "NO_SEAT_AVAILABLE", S)
    assert sold_out.error.message == "LICENSE: NOT FOUND"
    assert license_of(disabled) == refused(NOT_FOUND, "DISABLED", S)
    assert await holders(engine, org, I) == 0


@async_test
async def test_spec_4_6_3_no_subscription_at_all_is_no_seat_available(engine):
    """SPEC 4.6.3: with auto-assign on and no capacity, NO_SEAT_AVAILABLE (no temporary license)."""
    org = await new_org(engine, auto_assign=True)
    outcome = await sync(engine, org, "ann")
    assert license_of(outcome) == refused(NOT_FOUND, "NO_SEAT_AVAILABLE", S)
    assert (await get(engine, org, "ann")).grace_started_at is None


# ================================================================ 4.6.2 automatic free-up


async def _free_up_org(engine, seats: int = 1, **settings):
    org = await new_org(engine, auto_assign=True, auto_free_up=True, **settings)
    await buy(engine, org, S, seats, days=3650)
    return org


@async_test
async def test_spec_4_6_2_a_holder_inactive_for_inactivity_days_loses_the_seat(engine, clock):
    """SPEC 4.6.2: at 89 days nobody is freed; at 90 days (at least inactivityDays old) the
    inactive holder's selector becomes UNASSIGNED and the newcomer gets the seat."""
    org = await _free_up_org(engine)
    assert (await sync(engine, org, "old")).ok
    clock.advance(days=90, seconds=-1)
    assert license_of(await sync(engine, org, "early")) == refused(
        NOT_FOUND, "NO_SEAT_AVAILABLE", S
    )
    clock.set((await get(engine, org, "old")).last_sync_at + timedelta(days=90))

    outcome = await sync(engine, org, "new")

    assert license_of(outcome) == ok(S) and outcome.freed_user_id == "old"
    assert (await get(engine, org, "old")).selectors == (U, U)
    assert (await get(engine, org, "new")).selectors == (A, U)
    assert await holders(engine, org, S) == 1


@async_test
async def test_spec_4_6_2_free_up_is_audited_with_the_beneficiary_and_logged(engine, clock):
    """SPEC 4.6.2 / 4.8 / 8: audit AUTO_FREE_UP naming the beneficiary; sync log freedUserId."""
    org = await _free_up_org(engine)
    await sync(engine, org, "old")
    clock.advance(days=100)
    await sync(engine, org, "new")

    freed = [e for e in await audit_entries(engine, org) if e.reason is AuditReason.AUTO_FREE_UP]
    assert [
        (e.user_id, e.license_type, e.from_state, e.to_state, e.actor, e.beneficiary_user_id)
        for e in freed
    ] == [("old", S, A, U, "system", "new")]
    given = [e for e in await audit_entries(engine, org, "new")]
    assert [(e.reason, e.to_state) for e in given] == [(AuditReason.AUTO_ASSIGN, A)]
    assert given[0].operation_id == freed[0].operation_id
    last = (await sync_entries(engine, org))[-1]
    assert (last.user_id, last.ok, last.freed_user_id, last.license_type) == ("new", True, "old", S)


@async_test
async def test_spec_4_6_2_the_longest_inactive_holder_loses(engine, clock):
    """SPEC 4.6.2: of several inactive holders, the one inactive longest loses the seat."""
    org = await _free_up_org(engine, seats=3)
    for user_id in ("recent", "oldest", "middle"):
        await provisioned(engine, org, (user_id, U, U))
    await set_state(engine, org, ["recent", "oldest", "middle"], S, A)
    await sync(engine, org, "oldest")
    clock.advance(days=5)
    await sync(engine, org, "middle")
    clock.advance(days=5)
    await sync(engine, org, "recent")
    clock.advance(days=200)

    assert (await sync(engine, org, "n1")).freed_user_id == "oldest"
    assert (await sync(engine, org, "n2")).freed_user_id == "middle"
    assert (await sync(engine, org, "n3")).freed_user_id == "recent"
    assert license_of(await sync(engine, org, "n4")) == refused(NOT_FOUND, "NO_SEAT_AVAILABLE", S)


@async_test
async def test_spec_4_6_2_a_holder_who_never_synced_is_measured_from_assigned_at(engine, clock):
    """SPEC 4.6.2: lastSyncAt, or assignedAt for a user who never synced."""
    org = await _free_up_org(engine, seats=2)
    await provisioned(engine, org, ("never", A, U))  # assigned on day 0, never syncs
    clock.advance(days=10)
    await sync(engine, org, "synced")  # assigned and synced on day 10
    clock.advance(days=85)  # never: 95 days; synced: 85 days
    assert (await sync(engine, org, "new")).freed_user_id == "never"
    assert license_of(await sync(engine, org, "newer")) == refused(
        NOT_FOUND, "NO_SEAT_AVAILABLE", S
    )


@async_test
async def test_spec_4_6_2_ties_lose_by_older_assigned_at_then_smaller_id(engine, clock):
    """SPEC 4.6.2 [decided]: equal inactivity: the older assignedAt loses, then the smaller id."""
    org = await _free_up_org(engine, seats=3)
    await provisioned(engine, org, ("late", U, U), ("b-early", U, U), ("a-early", U, U))
    await set_state(engine, org, ["b-early", "a-early"], S, A)  # same assignedAt
    clock.advance(days=1)
    await set_state(engine, org, ["late"], S, A)
    clock.advance(days=1)
    for user_id in ("late", "b-early", "a-early"):  # the same lastSyncAt for all three
        await sync(engine, org, user_id)
    clock.advance(days=90)

    freed = [(await sync(engine, org, f"new-{n}")).freed_user_id for n in range(3)]

    assert freed == ["a-early", "b-early", "late"]


@async_test
async def test_spec_4_6_2_no_free_up_while_holders_are_above_capacity(engine, clock):
    """SPEC 4.6.2: freeing one seat of an over-allocated type would free nothing: refused, and
    nobody loses a seat."""
    org = await new_org(engine, auto_assign=True, auto_free_up=True)
    await buy(engine, org, S, 1, days=3650)
    await buy(engine, org, S, 2, days=10)
    await provisioned(engine, org, ("a", A, U), ("b", A, U), ("c", A, U))
    clock.advance(days=200)  # capacity 1, three holders, all inactive

    outcome = await sync(engine, org, "new")

    assert license_of(outcome) == refused(NOT_FOUND, "NO_SEAT_AVAILABLE", S)
    assert outcome.freed_user_id is None
    assert await holders(engine, org, S) == 3
    assert [
        e for e in await audit_entries(engine, org) if e.reason is AuditReason.AUTO_FREE_UP
    ] == []


@async_test
async def test_spec_4_6_2_no_free_up_when_the_setting_is_off(engine, clock):
    """SPEC 4.6.2: autoFreeUpLicenses off: an inactive holder keeps its seat."""
    org = await new_org(engine, auto_assign=True, auto_free_up=False)
    await buy(engine, org, S, 1, days=3650)
    await sync(engine, org, "old")
    clock.advance(days=365)
    assert license_of(await sync(engine, org, "new")) == refused(NOT_FOUND, "NO_SEAT_AVAILABLE", S)
    assert (await get(engine, org, "old")).selectors == (A, U)


@async_test
async def test_spec_4_6_2_inactivity_days_is_a_setting(engine, clock):
    """SPEC 3 / 4.6.2: with inactivityDays 30, 30 days of silence are enough."""
    org = await _free_up_org(engine, inactivity_days=30)
    await sync(engine, org, "old")
    clock.advance(days=29)
    assert not (await sync(engine, org, "early")).ok
    clock.advance(days=1)
    assert (await sync(engine, org, "early")).freed_user_id == "old"


@async_test
async def test_spec_4_6_2_free_up_takes_only_the_required_type(engine, clock):
    """SPEC 4.6.2: candidates hold the required type; an inactive STANDARD holder is not freed
    for an INSPECTIONS project."""
    org = await new_org(engine, auto_assign=True, auto_free_up=True)
    await buy(engine, org, S, 1, days=3650)
    await buy(engine, org, I, 1, days=3650)
    insp = await inspections_project(engine, org)
    await provisioned(engine, org, ("std-sleeper", A, U), ("insp-active", U, A))
    clock.advance(days=200)
    await sync(engine, org, "insp-active", project=insp)

    outcome = await sync(engine, org, "new", project=insp)

    assert license_of(outcome) == refused(NOT_FOUND, "NO_SEAT_AVAILABLE", I)
    assert (await get(engine, org, "std-sleeper")).selectors == (A, U)


@async_test
async def test_spec_4_6_2_the_freed_user_returning_finds_no_seat(engine, clock):
    """SPEC 4.6.2: the loser's selector is UNASSIGNED (not DISABLED): it may get a seat later,
    but the beneficiary is active now, so the loser cannot take it straight back."""
    org = await _free_up_org(engine)
    await sync(engine, org, "old")
    clock.advance(days=100)
    await sync(engine, org, "new")
    assert license_of(await sync(engine, org, "old")) == refused(NOT_FOUND, "NO_SEAT_AVAILABLE", S)


# ================================================================ 4.7 temporary license


@async_test
async def test_spec_4_7_first_sync_without_auto_assign_starts_the_temporary_window(engine, clock):
    """SPEC 4.7: temporary license, expiresAt = graceStartedAt + gracePeriodDays (14), no seat."""
    org = await new_org(engine)
    start = clock()
    outcome = await sync(engine, org, "ann")
    assert license_of(outcome) == temporary(S, start + timedelta(days=14))
    user = await get(engine, org, "ann")
    assert user.grace_started_at == start and user.selectors == (U, U)
    assert await holders(engine, org, S) == 0


@async_test
async def test_spec_4_7_grace_period_ends_after_grace_period_days(engine, clock):
    """SPEC 4.7: still temporary just before the end (same expiresAt); at the end LICENSE_EXPIRED /
    GRACE_PERIOD_ENDED, message `LICENSE: EXPIRED`."""
    org = await new_org(engine)
    start = clock()
    await sync(engine, org, "ann")
    clock.set(start + timedelta(days=14) - timedelta(seconds=1))
    assert license_of(await sync(engine, org, "ann")) == temporary(S, start + timedelta(days=14))
    clock.set(start + timedelta(days=14))

    outcome = await sync(engine, org, "ann")

    assert license_of(outcome) == refused(EXPIRED, "GRACE_PERIOD_ENDED", S)
    assert outcome.error.message == "LICENSE: EXPIRED"
    assert (await get(engine, org, "ann")).grace_started_at == start  # the window does not restart


@async_test
async def test_spec_4_7_changing_grace_period_days_moves_the_end_of_every_window(engine, clock):
    """SPEC 3 / 4.7: gracePeriodDays is a setting read at each sync: raising it reopens a window
    that had ended; 0 ends windows at once."""
    org = await new_org(engine)
    start = clock()
    await sync(engine, org, "ann")
    clock.advance(days=20)
    assert not (await sync(engine, org, "ann")).ok

    assert (await engine.update_settings(org, grace_period_days=30)).ok
    assert license_of(await sync(engine, org, "ann")) == temporary(S, start + timedelta(days=30))

    assert (await engine.update_settings(org, grace_period_days=0)).ok
    assert license_of(await sync(engine, org, "fresh")) == refused(EXPIRED, "GRACE_PERIOD_ENDED", S)


@async_test
async def test_spec_4_7_one_window_per_user_whatever_project_it_syncs(engine, clock):
    """SPEC 4.7 [decided]: the window started on a STANDARD project also covers, and ends for,
    an INSPECTIONS project."""
    org = await new_org(engine)
    insp = await inspections_project(engine, org)
    start = clock()
    await sync(engine, org, "ann")
    clock.advance(days=10)
    assert license_of(await sync(engine, org, "ann", project=insp)) == temporary(
        I, start + timedelta(days=14)
    )
    clock.advance(days=5)
    assert license_of(await sync(engine, org, "ann", project=insp)) == refused(
        EXPIRED, "GRACE_PERIOD_ENDED", I
    )


@async_test
async def test_spec_4_7_a_seat_assigned_by_the_admin_ends_the_need_for_the_window(engine, clock):
    """SPEC 4.7 with SPEC 3: the admin uses the grace period to assign a permanent license."""
    org = await new_org(engine)
    await buy(engine, org, S, 1)
    await sync(engine, org, "ann")
    clock.advance(days=30)
    assert not (await sync(engine, org, "ann")).ok
    assert (await set_state(engine, org, ["ann"], S, A)).ok
    assert license_of(await sync(engine, org, "ann")) == ok(S)


@async_test
async def test_spec_4_7_window_starts_at_the_first_sync_reaching_step_7(engine, clock):
    """SPEC 4.7: syncs decided earlier (auto-assign refusals, EXTERNAL, trial) start no window;
    when auto-assign is turned off, the window starts at the next sync."""
    org = await new_org(engine, auto_assign=True)
    ext = await external_project(engine, org)
    await sync(engine, org, "ann")  # NO_SEAT_AVAILABLE
    await sync(engine, org, "ann", project=ext)  # NO_SUBSCRIPTION
    assert (await get(engine, org, "ann")).grace_started_at is None
    now = clock.advance(days=3)
    assert (await engine.update_settings(org, auto_assign_licenses=False)).ok
    assert license_of(await sync(engine, org, "ann")) == temporary(S, now + timedelta(days=14))


# ================================================================ 4.8 the sync log


@async_test
async def test_spec_4_8_sync_log_records_every_field(engine, clock):
    """SPEC 4.8: time, user id, email, project, client, success or error code and reason, granted
    type, temporary, and the freed user's id."""
    org = await new_org(engine, auto_assign=True, auto_free_up=True)
    await buy(engine, org, I, 1, days=3650)
    insp = await inspections_project(engine, org)
    t0 = clock()
    await sync(engine, org, "old", project=insp, client=Client.WEB)
    t1 = clock.advance(days=100)
    await sync(engine, org, "new", email="New@Example.com", project=insp, client=Client.API)
    t2 = clock.advance(hours=1)
    await sync(engine, org, "third", project=insp)
    assert (await engine.update_settings(org, auto_assign_licenses=False)).ok
    t3 = clock.advance(hours=1)
    await sync(engine, org, "temp")

    entries = await sync_entries(engine, org)
    fields = [
        (
            e.at,
            e.user_id,
            e.email,
            e.project_id,
            e.client,
            e.ok,
            e.error_code,
            e.reason,
            e.license_type,
            e.temporary,
            e.freed_user_id,
        )
        for e in entries
    ]
    assert fields == [
        (t0, "old", "old@example.com", "insp", Client.WEB, True, None, None, I, False, None),
        (t1, "new", "New@Example.com", "insp", Client.API, True, None, None, I, False, "old"),
        (
            t2,
            "third",
            "third@example.com",
            "insp",
            Client.MOBILE,
            False,
            NOT_FOUND,
            "NO_SEAT_AVAILABLE",
            I,
            False,
            None,
        ),
        (t3, "temp", "temp@example.com", "default", Client.MOBILE, True, None, None, S, True, None),
    ]
    assert {e.organization_id for e in entries} == {org}


@async_test
async def test_spec_4_license_error_messages_are_exact(engine, clock):
    """SPEC 4 table: the messages are exactly `LICENSE: NOT FOUND` and `LICENSE: EXPIRED`."""
    org = await new_org(engine)
    await provisioned(engine, org, ("blocked", D, U))
    not_found = await sync(engine, org, "blocked")
    await sync(engine, org, "late")
    clock.advance(days=15)
    expired = await sync(engine, org, "late")
    assert (not_found.error.code.value, not_found.error.message) == (
        NOT_FOUND,
        "LICENSE: NOT FOUND",
    )
    assert (expired.error.code.value, expired.error.message) == (EXPIRED, "LICENSE: EXPIRED")


@async_test
async def test_spec_4_default_project_kind_decides_the_required_license(engine):
    """SPEC 4.1: a sync naming no project uses `default`; changing its kind changes what it requires."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, I, 1)
    assert license_of(await sync(engine, org, "ann")) == refused(NOT_FOUND, "NO_SEAT_AVAILABLE", S)
    assert (await engine.upsert_project(org, "default", "Default", ProjectKind.INSPECTIONS)).ok
    assert license_of(await sync(engine, org, "ann")) == ok(I)
