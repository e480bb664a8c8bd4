"""The source's own examples (the vendor page "Mobile users", SPEC.md's seed), replayed on the
engine. The quoted sentences are the page's words; the SPEC section that decides is named."""

from __future__ import annotations

from datetime import timedelta

import pytest
from seatkeeper.domain.records import Client, ProjectKind

from tests.rules.rules_support import (
    ADMIN,
    A,
    D,
    I,
    S,
    U,
    async_test,
    buy,
    get,
    holders,
    inspections_project,
    license_of,
    new_org,
    ok,
    provisioned,
    refused,
    set_state,
    sync,
    temporary,
)

# The admin screen of the page: ten users, top to bottom.
SCREEN = [
    ("1a75199f-a48b-40d4-b9bc-2ea05faa8197", U, A, "Matt Ford"),  # the first two: Inspections
    ("1ac99e8f-824b-4b51-84ef-7ff55a555079", U, A, "Ralf Harper"),
    ("10ac88c8-2226-4a98-ae0c-b7f57df0c4d3", A, U, "Pete Porter"),  # next three: Standard
    ("std-2", A, U, "Sandra Stone"),
    ("std-3", A, U, "Steve Stark"),
    ("pending-1", U, U, "Paula Pending"),  # next three: no license yet
    ("pending-2", U, U, "Peter Pending"),
    ("pending-3", U, U, "Pia Pending"),
    ("roland", U, D, "Roland"),  # Inspections disabled
    ("last", D, D, "Last User"),  # all licenses disabled
]
MATT, RALF = SCREEN[0][0], SCREEN[1][0]
STANDARD_HOLDERS = [SCREEN[2][0], "std-2", "std-3"]
PENDING = ["pending-1", "pending-2", "pending-3"]
NOT_FOUND = "LICENSE_NOT_FOUND"


async def screen_org(engine, *, auto_assign=True, standard_seats=7, inspections_seats=2):
    """The page's organization: its ten users, with the seats they need (and some to spare)."""
    org = await new_org(engine, auto_assign=auto_assign)
    await buy(engine, org, S, standard_seats, days=3650)
    await buy(engine, org, I, inspections_seats, days=3650)
    await provisioned(
        engine,
        org,
        *[(user_id, s, i, name, f"{user_id}@example.com") for user_id, s, i, name in SCREEN],
    )
    return org


@async_test
async def test_source_first_two_users_hold_inspections_which_includes_standard(engine):
    """ "The first two users have access to the Inspections license. Remember that the Inspections
    license also includes the Standard license." (SPEC 4.4)"""
    org = await screen_org(engine)
    insp = await inspections_project(engine, org)
    for user_id in (MATT, RALF):
        assert license_of(await sync(engine, org, user_id)) == ok(I)
        assert license_of(await sync(engine, org, user_id, project=insp)) == ok(I)
    assert await holders(engine, org, I) == 2


@async_test
async def test_source_next_three_users_have_the_standard_license(engine):
    """ "Next three users have the Standard license." (SPEC 4.4)"""
    org = await screen_org(engine)
    for user_id in STANDARD_HOLDERS:
        assert license_of(await sync(engine, org, user_id)) == ok(S)


@async_test
async def test_source_pending_users_receive_a_license_on_sync_while_licenses_are_free(engine):
    """ "Next three users currently don't have a license, but if the automatic assignment of
    licenses is enabled, they will receive the necessary license when they synchronize ... (as
    long as there are free licenses available)." (SPEC 4.6.1, 4.6.3)"""
    org = await screen_org(engine, standard_seats=5)  # 3 held, 2 free
    outcomes = [await sync(engine, org, user_id) for user_id in PENDING]
    assert [license_of(o) for o in outcomes] == [
        ok(S),
        ok(S),
        refused(NOT_FOUND, "NO_SEAT_AVAILABLE", S),
    ]
    assert [(await get(engine, org, u)).standard for u in PENDING] == [A, A, U]
    assert outcomes[2].error.message == "LICENSE: NOT FOUND"


@async_test
async def test_source_pending_users_get_the_two_week_temporary_license_without_auto_assign(
    engine, clock
):
    """ "When the automatic assignment is disabled, users are granted a temporary two-week license
    ... Without a permanent license, users lose access to the organization after two weeks."
    and "After two weeks ... user receives an error 'LICENSE: EXPIRED'." (SPEC 4.7)"""
    org = await screen_org(engine, auto_assign=False)
    start = clock()
    assert license_of(await sync(engine, org, "pending-1")) == temporary(
        S, start + timedelta(days=14)
    )
    clock.advance(days=14)
    outcome = await sync(engine, org, "pending-1")
    assert license_of(outcome) == refused("LICENSE_EXPIRED", "GRACE_PERIOD_ENDED", S)
    assert outcome.error.message == "LICENSE: EXPIRED"


@async_test
async def test_source_roland_can_only_claim_a_standard_license(engine):
    """ "The user Roland currently does not have a license. The Inspections license is also disabled
    for this user; i.e., when using automatic assignment, he can only claim a Standard license."
    (SPEC 4.5, 4.6.1) — even with an Inspections seat free."""
    org = await screen_org(engine, inspections_seats=3)  # one INSPECTIONS seat free
    insp = await inspections_project(engine, org)

    on_inspections = await sync(engine, org, "roland", project=insp)
    on_standard = await sync(engine, org, "roland")

    assert license_of(on_inspections) == refused(NOT_FOUND, "DISABLED", I)
    assert on_inspections.error.message == "LICENSE: NOT FOUND"
    assert license_of(on_standard) == ok(S)
    assert (await get(engine, org, "roland")).selectors == (A, D)
    assert await holders(engine, org, I) == 2


@async_test
async def test_source_the_last_user_with_everything_disabled_is_never_assigned(engine, clock):
    """ "The last user has all licenses disabled and cannot benefit from automatic license
    assignment." and "Disabled: Users with this license state cannot synchronize (receives error
    'LICENSE: NOT FOUND')." (SPEC 4.5) — on any project, with free-up on, at any time."""
    org = await screen_org(engine, standard_seats=10, inspections_seats=5)
    assert (await engine.update_settings(org, auto_free_up_licenses=True)).ok
    insp = await inspections_project(engine, org)
    for _ in range(3):
        assert license_of(await sync(engine, org, "last")) == refused(NOT_FOUND, "DISABLED", S)
        assert license_of(await sync(engine, org, "last", project=insp)) == refused(
            NOT_FOUND, "DISABLED", I
        )
        clock.advance(days=100)
    assert (await get(engine, org, "last")).selectors == (D, D)
    assert (await get(engine, org, "last")).grace_started_at is None


@async_test
async def test_source_premium_inspections_license_needs_inspections_enabled_on_the_project(engine):
    """ "The licensing server will not automatically assign the premium Inspections license if the
    project does not have Inspections enabled (error 'LICENSE: NOT FOUND'). To make sure that your
    users can automatically claim these licenses, enable Inspections." (SPEC 4.6)"""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, I, 5)
    refused_outcome = await sync(engine, org, "worker")
    assert license_of(refused_outcome) == refused(NOT_FOUND, "NO_SEAT_AVAILABLE", S)
    assert refused_outcome.error.message == "LICENSE: NOT FOUND"

    assert (
        await engine.upsert_project(org, "default", "Default", ProjectKind.INSPECTIONS)
    ).ok  # enable Inspections
    assert license_of(await sync(engine, org, "worker")) == ok(I)


@async_test
async def test_source_a_deleted_user_gets_a_new_temporary_license(engine, clock):
    """ "when a user synchronizes the Mobile CRM app for the first time (or previously used it, but
    was deleted from the Mobile Users), they get a temporary license, that's valid for two weeks."
    (SPEC 3, Delete users; 4.7)"""
    org = await screen_org(engine, auto_assign=False)
    await sync(engine, org, "pending-2")
    clock.advance(days=30)
    assert not (await sync(engine, org, "pending-2")).ok
    assert (await engine.delete_users(org, ADMIN, ["pending-2"])).ok
    back = clock.advance(days=1)
    assert license_of(await sync(engine, org, "pending-2")) == temporary(
        S, back + timedelta(days=14)
    )


@async_test
async def test_source_deleting_a_standard_holder_frees_the_license_for_others(engine):
    """ "Unassign licenses (making them available for other users)" — and deleting a user releases
    its license too (SPEC 3)."""
    org = await screen_org(engine, standard_seats=3)
    assert license_of(await sync(engine, org, "pending-1")) == refused(
        NOT_FOUND, "NO_SEAT_AVAILABLE", S
    )
    assert (await set_state(engine, org, ["std-2"], S, U)).ok
    assert license_of(await sync(engine, org, "pending-1")) == ok(S)
    assert (await engine.delete_users(org, ADMIN, ["std-3"])).ok
    assert license_of(await sync(engine, org, "pending-2")) == ok(S)


@async_test
async def test_source_auto_free_up_strips_the_oldest_inactive_license(engine, clock):
    """ "When a new user is eligible for an automatically assigned license, and all existing
    licenses are taken, the license might be stripped from an inactive user (who has not synced for
    at least 90 days). The oldest inactive licenses are freed up first." (SPEC 4.6.2)"""
    org = await screen_org(engine, standard_seats=3)
    assert (await engine.update_settings(org, auto_free_up_licenses=True)).ok
    for user_id in STANDARD_HOLDERS[::-1]:  # last syncs: std-3 first, Pete Porter last
        await sync(engine, org, user_id)
        clock.advance(days=1)
    clock.advance(days=87)  # now day 90: std-3 silent 90 days, std-2 89, Pete 88

    assert (await sync(engine, org, "pending-1")).freed_user_id == "std-3"
    assert license_of(await sync(engine, org, "pending-2")) == refused(
        NOT_FOUND, "NO_SEAT_AVAILABLE", S
    )
    clock.advance(days=1)
    assert (await sync(engine, org, "pending-2")).freed_user_id == "std-2"


@async_test
async def test_source_one_license_type_active_per_user(engine):
    """ "Each user can have only one type of license active." (SPEC 2.2)"""
    org = await screen_org(engine, inspections_seats=3)
    assert (await set_state(engine, org, ["std-2"], I, A)).ok
    assert (await get(engine, org, "std-2")).selectors == (U, A)
    assert (await holders(engine, org, S), await holders(engine, org, I)) == (2, 3)


@async_test
async def test_source_trial_lets_as_many_users_as_desired_sync_and_hides_license_management(
    engine, clock
):
    """ "The Mobile Users section is not available during the trial period. During this period, the
    customizations can be used for as many users as desired." (SPEC 3, Trial; 4.2)"""
    org = await new_org(engine, trial_days=30)
    outcomes = [await sync(engine, org, f"tester-{n}") for n in range(100)]
    assert all(o.ok and o.license.trial for o in outcomes)
    assert [e.code for e in (await set_state(engine, org, ["tester-1"], S, A)).user_errors] == [
        "TRIAL_ACTIVE"
    ]


@pytest.mark.parametrize("client", [Client.WEB, Client.API])
@async_test
async def test_source_web_apps_and_web_services_consume_licenses(engine, client):
    """ "Since release 14.1 (June 2021), access to web apps and web services properly consumes
    licenses." (SPEC 4, input `client`)"""
    org = await screen_org(engine, standard_seats=4)
    assert license_of(await sync(engine, org, "pending-1", client=client)) == ok(S)
    assert license_of(await sync(engine, org, "pending-2", client=client)) == refused(
        NOT_FOUND, "NO_SEAT_AVAILABLE", S
    )


@async_test
async def test_source_license_errors_are_in_the_sync_log(engine):
    """ "Information about license errors are also available in the sync log." (SPEC 4.8, 8)"""
    org = await screen_org(engine)
    insp = await inspections_project(engine, org)
    await sync(engine, org, "roland", project=insp)
    await sync(engine, org, "last")
    await sync(engine, org, MATT)
    errors = (await engine.sync_log(org, errors_only=True)).items
    assert [(e.user_id, e.error_code, e.reason) for e in errors] == [
        ("last", NOT_FOUND, "DISABLED"),
        ("roland", NOT_FOUND, "DISABLED"),
    ]
