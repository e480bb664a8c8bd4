"""SPEC 2: the invariants that hold at every instant, under any concurrency (memory storage).

Concurrency tests run many requests with `asyncio.gather` over `YieldingStorage` (the real memory
storage with yields between calls, so that requests interleave between reading and writing), and
over several Engine instances sharing one storage (as several server processes share a database),
and in threads.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from seatkeeper.domain.records import AuditReason, ProjectKind, user_key
from seatkeeper.rules.engine import Engine
from seatkeeper.storage import load_storage

from tests.rules.rules_support import (
    ADMIN,
    A,
    D,
    I,
    S,
    U,
    YieldingStorage,
    add_project,
    all_users,
    async_test,
    audit_entries,
    buy,
    get,
    holders,
    inspections_project,
    license_of,
    new_org,
    ok,
    provision,
    provisioned,
    refused,
    replay_is_consistent,
    set_state,
    snapshot,
    sync,
    sync_entries,
)


def racing_engine(clock, seed: int = 0) -> Engine:
    return Engine(YieldingStorage(load_storage("memory://"), seed), clock)


# ---------------------------------------------------------------- 2.1 no over-allocation


@async_test
async def test_spec_2_1_concurrent_auto_assign_syncs_race_for_the_last_seats(clock):
    """Invariant 1: 40 concurrent syncs with auto-assign on, 2 seats left: exactly 2 win."""
    engine = racing_engine(clock, seed=1)
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 5)
    await provisioned(engine, org, ("held-1", A, U), ("held-2", A, U), ("held-3", A, U))

    outcomes = await asyncio.gather(*(sync(engine, org, f"racer-{n:02}") for n in range(40)))

    results = [license_of(o) for o in outcomes]
    assert results.count(ok(S)) == 2
    assert results.count(refused("LICENSE_NOT_FOUND", "NO_SEAT_AVAILABLE", S)) == 38
    assert await holders(engine, org, S) == 5
    assert engine.storage.max_holders[S] == 5  # never above capacity, at any write
    winners = {o.user.id for o in outcomes if o.ok}
    assigned = [e for e in await audit_entries(engine, org) if e.reason is AuditReason.AUTO_ASSIGN]
    assert {e.user_id for e in assigned} == winners and len(assigned) == 2


@async_test
async def test_spec_2_1_several_engines_sharing_one_storage_do_not_over_allocate(clock):
    """Invariant 1 with several server processes: four Engines share one storage and race."""
    shared = YieldingStorage(load_storage("memory://"), seed=7)
    engines = [Engine(shared, clock) for _ in range(4)]
    org = await new_org(engines[0], auto_assign=True)
    await buy(engines[0], org, I, 3)
    project = await inspections_project(engines[0], org)

    outcomes = await asyncio.gather(
        *(sync(engines[n % 4], org, f"user-{n:02}", project=project) for n in range(24))
    )

    assert sum(o.ok for o in outcomes) == 3
    assert await holders(engines[0], org, I) == 3
    assert shared.max_holders[I] == 3


@async_test
async def test_spec_2_1_concurrent_auto_free_up_frees_and_gives_one_seat_once(clock):
    """Invariant 1 under SPEC 4.6.2: ten users race for the one seat an inactive user can lose."""
    engine = racing_engine(clock, seed=3)
    org = await new_org(engine, auto_assign=True, auto_free_up=True)
    await buy(engine, org, S, 1)
    await provisioned(engine, org, ("sleeper", A, U))
    clock.advance(days=120)

    outcomes = await asyncio.gather(*(sync(engine, org, f"new-{n}") for n in range(10)))

    winners = [o for o in outcomes if o.ok]
    assert len(winners) == 1 and winners[0].freed_user_id == "sleeper"
    assert (await get(engine, org, "sleeper")).standard is U
    assert await holders(engine, org, S) == 1 and engine.storage.max_holders[S] == 1


@async_test
async def test_spec_2_1_concurrent_set_license_state_requests_never_exceed_capacity(clock):
    """Invariant 1 for admins: ten concurrent requests of two users each for 5 free seats.

    Each request is all or nothing, so exactly two fit (4 seats) and eight are refused."""
    engine = racing_engine(clock, seed=5)
    org = await new_org(engine)
    await buy(engine, org, S, 5)
    await provisioned(engine, org, *[(f"u{n:02}", U, U) for n in range(20)])

    results = await asyncio.gather(
        *(set_state(engine, org, [f"u{2 * n:02}", f"u{2 * n + 1:02}"], S, A) for n in range(10))
    )

    assert sum(r.ok for r in results) == 2
    assert {e.code for r in results if not r.ok for e in r.user_errors} == {"NOT_ENOUGH_SEATS"}
    assert await holders(engine, org, S) == 4
    assert engine.storage.max_holders[S] == 4


@async_test
async def test_spec_2_1_concurrent_admin_and_syncs_mixed_keep_the_limit(clock):
    """Invariant 1 with everything at once: auto-assign syncs, admin assignments and releases."""
    engine = racing_engine(clock, seed=11)
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 4)
    await provisioned(engine, org, *[(f"admin-pick-{n}", U, U) for n in range(6)], ("held", A, U))

    work = [sync(engine, org, f"syncer-{n}") for n in range(12)]
    work += [set_state(engine, org, [f"admin-pick-{n}"], S, A) for n in range(6)]
    work += [set_state(engine, org, ["held"], S, U)]
    await asyncio.gather(*work)

    assert engine.storage.max_holders[S] <= 4
    assert await holders(engine, org, S) == 4  # the released seat was taken by someone
    final = replay_is_consistent(await audit_entries(engine, org))
    for user in await all_users(engine, org):
        assert final.get(user.key, (U, U)) == user.selectors


def test_spec_2_1_syncs_in_threads_do_not_over_allocate(engine):
    """Invariant 1 with threads: each thread runs its own event loop on one shared engine."""
    org = asyncio.run(new_org(engine, auto_assign=True))
    asyncio.run(buy(engine, org, S, 3))

    def one_sync(n: int):
        return asyncio.run(sync(engine, org, f"thread-user-{n}"))

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(one_sync, range(32)))

    assert sum(o.ok for o in outcomes) == 3
    assert asyncio.run(holders(engine, org, S)) == 3


@async_test
async def test_spec_2_1_capacity_may_fall_but_no_new_assignment_exceeds_it(engine, clock):
    """Invariant 1 / SPEC 5: after capacity falls, releasing works, new assignments are refused."""
    org = await new_org(engine)
    await buy(engine, org, S, 1, days=400)
    await buy(engine, org, S, 2, days=30)
    await provisioned(engine, org, ("a", A, U), ("b", A, U), ("c", A, U), ("d", U, U))
    clock.advance(days=30)  # the 2-seat subscription ends: 3 holders, capacity 1

    refused_assign = await set_state(engine, org, ["d"], S, A)
    assert [e.code for e in refused_assign.user_errors] == ["NOT_ENOUGH_SEATS"]
    assert (
        "1 needed" in refused_assign.user_errors[0].message
        and "0 free" in refused_assign.user_errors[0].message
    )
    released = await set_state(engine, org, ["c"], S, U)
    assert released.ok
    assert await holders(engine, org, S) == 2  # still above capacity: nothing is silently removed


# ---------------------------------------------------------------- 2.2 one active license


@async_test
async def test_spec_2_2_assigning_the_other_type_switches_in_one_step(engine):
    """Invariant 2: assigning INSPECTIONS to a STANDARD holder releases STANDARD in the same step."""
    org = await new_org(engine)
    await buy(engine, org, S, 1)
    await buy(engine, org, I, 1)
    await provisioned(engine, org, ("pat", A, U))

    result = await set_state(engine, org, ["pat"], I, A)

    assert result.ok
    user = await get(engine, org, "pat")
    assert (user.standard, user.inspections) == (U, A)
    assert (await holders(engine, org, S), await holders(engine, org, I)) == (0, 1)
    entries = await audit_entries(engine, org, "pat")
    switch, manual = entries[-2:]
    assert (switch.license_type, switch.from_state, switch.to_state, switch.reason) == (
        S,
        A,
        U,
        AuditReason.SWITCH,
    )
    assert (manual.license_type, manual.from_state, manual.to_state, manual.reason) == (
        I,
        U,
        A,
        AuditReason.MANUAL,
    )
    assert switch.operation_id == manual.operation_id and switch.at == manual.at


@async_test
async def test_spec_2_2_switch_back_to_standard_releases_inspections(engine):
    """Invariant 2: and the other way round."""
    org = await new_org(engine)
    await buy(engine, org, S, 1)
    await buy(engine, org, I, 1)
    await provisioned(engine, org, ("pat", U, A))

    assert (await set_state(engine, org, ["pat"], S, A)).ok
    assert (await get(engine, org, "pat")).selectors == (A, U)
    assert (await holders(engine, org, S), await holders(engine, org, I)) == (1, 0)


@async_test
async def test_spec_2_2_switch_refused_for_want_of_seats_keeps_the_old_seat(engine):
    """Invariant 2 + 5: a switch to a sold-out type changes nothing; the old seat stays."""
    org = await new_org(engine)
    await buy(engine, org, S, 1)
    await buy(engine, org, I, 1)
    await provisioned(engine, org, ("pat", U, A), ("sam", A, U))
    before = await snapshot(engine, org)

    result = await set_state(engine, org, ["pat"], S, A)

    assert [e.code for e in result.user_errors] == ["NOT_ENOUGH_SEATS"]
    assert await snapshot(engine, org) == before


@async_test
async def test_spec_2_2_a_user_cannot_be_created_holding_both_types(engine):
    """Invariant 2: pre-provisioning with both selectors ASSIGNED is refused."""
    org = await new_org(engine)
    await buy(engine, org, S, 5)
    await buy(engine, org, I, 5)
    result = await provision(engine, org, ("both", A, A))
    assert [e.code for e in result.user_errors] == ["INVALID_INPUT"]
    assert await all_users(engine, org) == []


@async_test
async def test_spec_2_2_concurrent_switches_leave_one_seat(clock):
    """Invariant 2 under concurrency: requests flip one user between types; at most one is held."""
    engine = racing_engine(clock, seed=2)
    org = await new_org(engine)
    await buy(engine, org, S, 3)
    await buy(engine, org, I, 3)
    await provisioned(engine, org, ("flip", U, U))

    await asyncio.gather(*(set_state(engine, org, ["flip"], (S, I)[n % 2], A) for n in range(12)))

    user = await get(engine, org, "flip")
    assert user.selectors in ((A, U), (U, A))
    assert await holders(engine, org, S) + await holders(engine, org, I) == 1
    assert replay_is_consistent(await audit_entries(engine, org))[user.key] == user.selectors


# ---------------------------------------------------------------- 2.3 unique email


@async_test
async def test_spec_2_3_sync_with_another_users_email_any_case_is_email_taken(engine, clock):
    """Invariant 3: e-mails are unique per organization, compared case-insensitively."""
    org = await new_org(engine)
    await sync(engine, org, "first", email="Shared@Example.com")
    before = await snapshot(engine, org)
    clock.advance(hours=1)

    outcome = await sync(engine, org, "second", email="shared@EXAMPLE.COM")

    assert [e.code for e in outcome.user_errors] == ["EMAIL_TAKEN"]
    assert await get(engine, org, "second") is None
    assert await snapshot(engine, org) == before


@async_test
async def test_spec_2_3_changing_email_to_a_taken_one_changes_nothing(engine, clock):
    """Invariant 3: an existing user syncing with someone else's e-mail keeps its own, and its
    lastSyncAt (the refused sync changes nothing but the sync log)."""
    org = await new_org(engine)
    await sync(engine, org, "ann")
    await sync(engine, org, "bob")
    bob_before = await get(engine, org, "bob")
    clock.advance(days=1)

    outcome = await sync(engine, org, "bob", email="ANN@example.com")

    assert [e.code for e in outcome.user_errors] == ["EMAIL_TAKEN"]
    assert await get(engine, org, "bob") == bob_before


@async_test
async def test_spec_2_3_a_user_may_change_the_case_of_its_own_email(engine):
    """Invariant 3: the e-mail is the user's own, so a case change is no conflict."""
    org = await new_org(engine)
    await sync(engine, org, "ann", email="ann@example.com")
    outcome = await sync(engine, org, "ann", email="Ann@Example.com")
    assert outcome.user_errors == []
    assert (await get(engine, org, "ann")).email == "Ann@Example.com"


@async_test
async def test_spec_2_3_pre_provisioning_refuses_taken_emails(engine):
    """Invariant 3: createUsers refuses an e-mail held already, or twice in the list, any case."""
    org = await new_org(engine)
    await provisioned(engine, org, ("ann", U, U, "Ann", "ann@example.com"))

    taken = await provision(engine, org, ("other", U, U, "Other", "ANN@example.com"))
    twice = await provision(
        engine, org, ("x", U, U, "X", "x@example.com"), ("y", U, U, "Y", "X@EXAMPLE.com")
    )

    assert [e.code for e in taken.user_errors] == ["EMAIL_TAKEN"]
    assert [e.code for e in twice.user_errors] == ["EMAIL_TAKEN"]
    assert [u.id for u in await all_users(engine, org)] == ["ann"]


@async_test
async def test_spec_2_3_concurrent_first_syncs_with_one_email_create_one_user(clock):
    """Invariant 3 under concurrency: eight new ids race with the same e-mail; one user exists."""
    engine = racing_engine(clock, seed=4)
    org = await new_org(engine)

    outcomes = await asyncio.gather(
        *(sync(engine, org, f"id-{n}", email="same@example.com") for n in range(8))
    )

    assert sum(not o.user_errors for o in outcomes) == 1
    assert sum([e.code for e in o.user_errors] == ["EMAIL_TAKEN"] for o in outcomes) == 7
    assert len(await all_users(engine, org)) == 1


# ---------------------------------------------------------------- 2.4 everything is accounted for


@async_test
async def test_spec_2_4_one_request_shares_an_operation_id_and_names_its_actor(engine):
    """Invariant 4: every selector change of one request carries its actor, reason and one
    operation id; another request gets another operation id."""
    org = await new_org(engine)
    await buy(engine, org, S, 5)
    await provisioned(engine, org, ("a", U, U), ("b", U, U), ("c", U, U))

    assert (await engine.set_license_state(org, "ops-token", ["a", "b", "c"], S, A)).ok
    assert (await engine.set_license_state(org, "other-token", ["a"], S, D)).ok

    entries = await audit_entries(engine, org)
    first, second = entries[:3], entries[3:]
    assert {(e.user_id, e.from_state, e.to_state) for e in first} == {(u, U, A) for u in "abc"}
    assert {e.actor for e in first} == {"ops-token"} and {e.reason for e in first} == {
        AuditReason.MANUAL
    }
    assert len({e.operation_id for e in first}) == 1
    assert [(e.user_id, e.from_state, e.to_state, e.actor) for e in second] == [
        ("a", A, D, "other-token")
    ]
    assert second[0].operation_id != first[0].operation_id


@async_test
async def test_spec_2_4_automatic_changes_are_audited_as_system(engine):
    """Invariant 4: automatic assignment is written with actor `system` and reason AUTO_ASSIGN."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 1)
    await sync(engine, org, "ann")
    [entry] = await audit_entries(engine, org)
    assert (entry.user_id, entry.license_type, entry.from_state, entry.to_state) == ("ann", S, U, A)
    assert (entry.actor, entry.reason) == ("system", AuditReason.AUTO_ASSIGN)


@async_test
async def test_spec_2_4_deleting_users_audits_released_and_cleared_selectors(engine):
    """Invariant 4: deleting users writes DELETE entries for every selector it clears."""
    org = await new_org(engine)
    await buy(engine, org, S, 1)
    await provisioned(engine, org, ("held", A, D), ("plain", U, U))
    assert (await engine.delete_users(org, ADMIN, ["held", "plain"])).ok
    deletes = [e for e in await audit_entries(engine, org) if e.reason is AuditReason.DELETE]
    assert {(e.user_id, e.license_type, e.from_state, e.to_state) for e in deletes} == {
        ("held", S, A, U),
        ("held", I, D, U),
    }
    assert {e.actor for e in deletes} == {ADMIN}


@async_test
async def test_spec_2_4_every_sync_attempt_is_logged_whatever_the_outcome(engine):
    """Invariant 4: the sync log has one entry per attempt: successes, license errors and the
    refused syncs that answer userErrors (INVALID_INPUT, PROJECT_NOT_FOUND, EMAIL_TAKEN)."""
    org = await new_org(engine, auto_assign=True)
    await sync(
        engine, org, "taker", email="taken@example.com"
    )  # NO_SEAT_AVAILABLE: no subscription
    attempts = [
        {"user_id": "", "email": "x@example.com"},
        {"user_id": "u1", "email": "not-an-email"},
        {"user_id": "u2", "email": "u2@example.com", "project": "nowhere"},
        {"user_id": "u3", "email": "TAKEN@example.com"},
    ]
    for attempt in attempts:
        outcome = await sync(
            engine, org, attempt["user_id"], email=attempt["email"], project=attempt.get("project")
        )
        assert outcome.user_errors

    entries = await sync_entries(engine, org)
    assert [(e.user_id, e.ok, e.error_code) for e in entries] == [
        ("taker", False, "LICENSE_NOT_FOUND"),
        ("", False, "INVALID_INPUT"),
        ("u1", False, "INVALID_INPUT"),
        ("u2", False, "PROJECT_NOT_FOUND"),
        ("u3", False, "EMAIL_TAKEN"),
    ]
    assert entries[3].project_id == "nowhere"


# ---------------------------------------------------------------- 2.5 all or nothing


@async_test
async def test_spec_2_5_bulk_assignment_with_an_unknown_user_changes_nothing(engine):
    """Invariant 5: one unknown id among known ones: USER_NOT_FOUND, no user, seat or audit change."""
    org = await new_org(engine)
    await buy(engine, org, S, 10)
    await buy(engine, org, I, 1)
    await provisioned(engine, org, ("a", U, U), ("b", D, U), ("c", U, A))
    before = await snapshot(engine, org)

    result = await set_state(engine, org, ["a", "ghost", "b", "c"], S, A)

    assert [(e.code, e.user_id) for e in result.user_errors] == [("USER_NOT_FOUND", "ghost")]
    assert await snapshot(engine, org) == before


@async_test
async def test_spec_2_5_bulk_assignment_short_of_seats_changes_nothing(engine):
    """Invariant 5: three users for two free seats: NOT_ENOUGH_SEATS and nobody is assigned."""
    org = await new_org(engine)
    await buy(engine, org, I, 2)
    await buy(engine, org, S, 1)
    await provisioned(engine, org, ("a", A, U), ("b", U, U), ("c", U, D))
    before = await snapshot(engine, org)

    result = await set_state(engine, org, ["a", "b", "c"], I, A)

    assert [e.code for e in result.user_errors] == ["NOT_ENOUGH_SEATS"]
    assert await snapshot(engine, org) == before


@async_test
async def test_spec_2_5_pre_provisioning_with_one_bad_user_creates_nobody(engine):
    """Invariant 5: createUsers is all or nothing (one malformed e-mail, or one existing id)."""
    org = await new_org(engine)
    await buy(engine, org, S, 5)
    await provisioned(engine, org, ("old", U, U))
    before = await snapshot(engine, org)

    bad_email = await provision(engine, org, ("n1", A, U), ("n2", U, U, "N2", "broken"))
    existing = await provision(
        engine, org, ("n1", A, U), ("old", U, D, "Old", "new-old@example.com")
    )

    assert [e.code for e in bad_email.user_errors] == ["INVALID_INPUT"]
    assert [e.code for e in existing.user_errors] == ["USER_EXISTS"]
    assert await snapshot(engine, org) == before


@async_test
async def test_spec_2_5_deleting_with_an_unknown_user_deletes_nobody(engine):
    """Invariant 5: deleteUsers is all or nothing."""
    org = await new_org(engine)
    await buy(engine, org, S, 5)
    await provisioned(engine, org, ("a", A, U), ("b", U, U))
    before = await snapshot(engine, org)

    result = await engine.delete_users(org, ADMIN, ["a", "nobody", "b"])

    assert [(e.code, e.user_id) for e in result.user_errors] == [("USER_NOT_FOUND", "nobody")]
    assert await snapshot(engine, org) == before


@async_test
async def test_spec_2_5_a_license_error_is_not_a_failure_it_records_the_user(engine, clock):
    """Invariant 5: a sync answered with a license error records the user and its lastSyncAt,
    so that pending and refused users appear in the admin list."""
    org = await new_org(engine, auto_assign=True)
    await buy(engine, org, S, 1)
    await provisioned(engine, org, ("holder", A, U))
    clock.advance(days=2)

    outcome = await sync(engine, org, "refused")

    assert license_of(outcome) == refused("LICENSE_NOT_FOUND", "NO_SEAT_AVAILABLE", S)
    user = await get(engine, org, "refused")
    assert user is not None and user.last_sync_at == clock() and user.first_sync_at == clock()
    page = await engine.list_users(org, search="refused")
    assert [v.user.id for v in page.items] == ["refused"]


# ---------------------------------------------------------------- SPEC 1: organizations share nothing


@async_test
async def test_spec_1_organizations_share_no_users_emails_or_seats(engine):
    """SPEC 1, Organization: the same id and e-mail in two organizations are two users, and one
    organization's seats are not another's."""
    acme = await new_org(engine, auto_assign=True, name="Acme")
    globex = await new_org(engine, auto_assign=True, name="Globex")
    await buy(engine, acme, S, 1)
    await add_project(engine, globex, "default", ProjectKind.STANDARD)

    assert license_of(await sync(engine, acme, "pat", email="pat@example.com")) == ok(S)
    other = await sync(engine, globex, "pat", email="pat@example.com")

    assert license_of(other) == refused("LICENSE_NOT_FOUND", "NO_SEAT_AVAILABLE", S)
    assert (await get(engine, acme, "pat")).standard is A
    assert (await get(engine, globex, "pat")).standard is U
    assert [e.user_id for e in await sync_entries(engine, globex)] == ["pat"]
    assert await audit_entries(engine, globex) == []
    assert user_key("pat") == "pat"
