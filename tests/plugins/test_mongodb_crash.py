"""Crash safety of the MongoDB plugin's change sets (SPEC 2, invariants 1, 2, 4 and 5).

For each kind of change set, the process "dies" before its 1st write, then before its 2nd, and so
on until one run completes: `CrashAfter` lets N writes through and makes every later call fail,
so nothing of the dying process cleans up. Each time, before any repair, no seat type may be over
its limit and the counter may not be below the holders; then a restarted process runs `repair()`
and the database must be exactly as before the change set or exactly as after it (its audit
entries present only in the second case), every counter equal to its holders, no lock and no
journal left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from seatkeeper.domain.records import LicenseState, LicenseType, MobileUser
from seatkeeper.plugins.mongodb import MongoStorage
from seatkeeper.plugins.mongodb import changes as changes_module
from seatkeeper.plugins.mongodb.store import counter_id
from seatkeeper.plugins.mongodb.testing import CrashAfter, SimulatedCrash, atomic_mongomock_client
from seatkeeper.storage.contract import ORG, add_users, change_set, make_org, make_user
from seatkeeper.storage.protocol import Applied, ChangeSet, Conflict, LogQuery, UserQuery

A, U = LicenseState.ASSIGNED, LicenseState.UNASSIGNED
STANDARD, INSPECTIONS = LicenseType.STANDARD, LicenseType.INSPECTIONS
URL = "mongodb://localhost/seatkeeper_crash?syncLogRetentionDays=0"


@dataclass
class Scenario:
    seed: list[MobileUser]
    limits: dict[LicenseType, int]
    build: Callable[[dict[str, MobileUser]], ChangeSet]
    min_crash_points: int
    parts: bool = False


def _changes(plan: list[tuple[str, tuple]], limits):
    return lambda users: change_set([(users[k], after) for k, after in plan], limits)


LIMITS = {STANDARD: 2, INSPECTIONS: 1}
SCENARIOS = {
    # One existing user: the journal, the seat, the user's write (the commit), audit, journal.
    "assign_one": Scenario(
        [make_user("s0", A), make_user("n0")], LIMITS, _changes([("n0", (A, U))], LIMITS), 4
    ),
    "switch_one": Scenario([make_user("s0", A)], LIMITS, _changes([("s0", (U, A))], LIMITS), 5),
    # Several users: journal, lock, seats, commit, apply, audit, release, journal.
    "assign_many": Scenario(
        [make_user(f"n{i}") for i in range(3)],
        {STANDARD: 3, INSPECTIONS: 0},
        _changes([(f"n{i}", (A, U)) for i in range(3)], {STANDARD: 3, INSPECTIONS: 0}),
        6,
    ),
    # The automatic free-up: a seat moves from an inactive holder to another user, type full.
    "free_up": Scenario(
        [make_user("s0", A), make_user("n0")],
        {STANDARD: 1, INSPECTIONS: 0},
        _changes([("s0", (U, U)), ("n0", (A, U))], {STANDARD: 1, INSPECTIONS: 0}),
        6,
    ),
    "create_with_seats": Scenario(
        [make_user("s0", A)],
        LIMITS,
        lambda users: change_set(
            [], LIMITS, creates=[make_user("c0", A), make_user("c1", U, A), make_user("c2")]
        ),
        6,
    ),
    "delete_holders": Scenario(
        [make_user("s0", A), make_user("s1", A), make_user("n0")],
        LIMITS,
        lambda users: change_set([], LIMITS, deletes=[users["s0"], users["s1"]]),
        6,
    ),
    # A large change set keeps its body in journal_parts, written before the journal itself
    # (the thresholds are lowered for this one: the body has 6 items, in parts of 2).
    "assign_many_in_parts": Scenario(
        [make_user(f"n{i}") for i in range(3)],
        {STANDARD: 3, INSPECTIONS: 0},
        _changes([(f"n{i}", (A, U)) for i in range(3)], {STANDARD: 3, INSPECTIONS: 0}),
        7,
        parts=True,
    ),
}


def _state(users: list[MobileUser]) -> dict[str, tuple]:
    return {u.key: (u.standard, u.inspections, u.assigned_at) for u in users}


def _expected_after(before: dict[str, tuple], changes: ChangeSet) -> dict[str, tuple]:
    after = dict(before)
    for change in changes.changes:
        after[change.user_key] = (change.standard, change.inspections, change.assigned_at)
    for deletion in changes.deletes:
        del after[deletion.user_key]
    for user in changes.creates:
        after[user.key] = (user.standard, user.inspections, user.assigned_at)
    return after


async def _holders(storage: MongoStorage) -> dict[LicenseType, int]:
    users = await storage.list_users(ORG, UserQuery(), 100_000, None)
    return {t: sum(1 for u in users if u.active_license is t) for t in (STANDARD, INSPECTIONS)}


def _counter(storage: MongoStorage, license_type: LicenseType) -> int:
    return storage.store.counters.find_one({"_id": counter_id(ORG, license_type)})["holders"]


def _run_once(scenario: Scenario, writes: int):
    """Seed, crash after `writes` writes (or complete), restart, repair; check everything."""
    client = atomic_mongomock_client()

    async def go():
        storage = MongoStorage(URL, client=client)
        await storage.open()
        await make_org(storage)
        await add_users(storage, scenario.seed)
        users = {u.key: u for u in await storage.list_users(ORG, UserQuery(), 100_000, None)}
        before = _state(list(users.values()))
        changes = scenario.build(users)
        crash = CrashAfter(storage.store, writes)
        try:
            result = await storage.apply_changes(changes)
        except SimulatedCrash:
            result = None
        # Before any repair: never over a limit, the counter never below the holders.
        observer = MongoStorage(URL, client=client)
        holders = await _holders(observer)
        for license_type, count in holders.items():
            assert count <= scenario.limits[license_type], f"{license_type.value} over-allocated"
            assert _counter(observer, license_type) >= count, "counter below the holders"
        # A restarted process repairs what the dead one left.
        report = await observer.repair(stale_after=timedelta(0))
        final = _state(await observer.list_users(ORG, UserQuery(), 100_000, None))
        audit_ids = {e.id for e in await observer.list_audit_log(ORG, LogQuery(), 100_000, None)}
        wanted_ids = {e.id for e in changes.audit}
        db = observer.store
        assert db.journals.count_documents({}) == 0 and db.journal_parts.count_documents({}) == 0
        assert db.users.count_documents({"journal": {"$ne": None}}) == 0, "a user is still locked"
        holders = await _holders(observer)
        for license_type, count in holders.items():
            assert _counter(observer, license_type) == count, (
                f"{license_type.value} counter != holders"
            )
            assert count <= scenario.limits[license_type]
        assert all(state[:2] != (A, A) for state in final.values()), "a user holds two seats"
        if final == before:
            assert wanted_ids.isdisjoint(audit_ids), "audit entries of a change that did not land"
        else:
            assert final == _expected_after(before, changes), "half a change set landed"
            assert wanted_ids <= audit_ids, "a change landed without its audit entries"
        if result is not None:
            assert result == Applied() and final == _expected_after(before, changes)
        return crash.crashed, report

    return asyncio.run(go())


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_spec_2_a_crash_between_any_two_writes_is_repaired_to_all_or_nothing(name, monkeypatch):
    """SPEC 2 invariants 1, 2, 4, 5 at every crash point of one kind of change set."""
    scenario = SCENARIOS[name]
    if scenario.parts:
        monkeypatch.setattr(changes_module, "INLINE_ITEMS", 4)
        monkeypatch.setattr(changes_module, "PART_ITEMS", 2)
    crash_points = 0
    for writes in range(40):
        crashed, _report = _run_once(scenario, writes)
        if not crashed:
            break
        crash_points += 1
    else:
        pytest.fail("the change set never completed")
    assert crash_points >= scenario.min_crash_points, f"only {crash_points} writes to crash between"


def test_repair_leaves_a_fresh_change_set_to_its_owner_and_takes_a_stale_one():
    """A journal younger than journalStaleSeconds may belong to a live process: untouched, and
    its organization's counters are not recounted while it exists."""
    client = atomic_mongomock_client()

    async def go():
        storage = MongoStorage(URL, client=client)
        await storage.open()
        await make_org(storage)
        await add_users(storage, [make_user("n0")])
        user = await storage.get_user(ORG, "n0")
        CrashAfter(storage.store, 2)  # journal and seat written, the user's write never sent
        with pytest.raises(SimulatedCrash):
            await storage.apply_changes(change_set([(user, (A, U))], LIMITS))
        other = MongoStorage(URL, client=client)
        assert await other.repair() == {
            "rolled_forward": 0,
            "rolled_back": 0,
            "recounted": 0,
            "recount_skipped": 0,
        }
        assert await other.count_holders(ORG, STANDARD) == 1  # the dead reservation still counts
        assert await other.repair(stale_after=timedelta(0)) == {
            "rolled_forward": 0,
            "rolled_back": 1,
            "recounted": 1,
            "recount_skipped": 0,
        }
        assert await other.count_holders(ORG, STANDARD) == 0

    asyncio.run(go())


def test_an_operation_that_meets_a_user_locked_by_a_dead_process_repairs_it(monkeypatch):
    """The engine's retry after a Conflict finds the user free: the plugin repaired the stale
    change set that held it, once that change set is older than journalStaleSeconds (by the
    server's clock)."""
    import mongomock
    from seatkeeper.plugins.mongodb.testing import ServerClock

    server_clock = ServerClock()
    monkeypatch.setattr(mongomock, "utcnow", server_clock)
    client = atomic_mongomock_client()
    url = URL

    async def go():
        storage = MongoStorage(url, client=client)
        await storage.open()
        await make_org(storage)
        await add_users(storage, [make_user("n0"), make_user("n1")])
        users = {k: await storage.get_user(ORG, k) for k in ("n0", "n1")}
        CrashAfter(storage.store, 2)  # journal written, both users locked, then death
        with pytest.raises(SimulatedCrash):
            await storage.apply_changes(
                change_set([(users["n0"], (A, U)), (users["n1"], (A, U))], LIMITS)
            )
        other = MongoStorage(url, client=client)
        assert other.store.users.count_documents({"journal": {"$ne": None}}) == 2
        server_clock.advance(other.settings.journal_stale_seconds + 1)  # the journal is stale
        first = await other.apply_changes(change_set([(users["n0"], (U, A))], LIMITS))
        assert first == Conflict(("n0",))
        assert other.store.users.count_documents({"journal": {"$ne": None}}) == 0
        assert await other.apply_changes(change_set([(users["n0"], (U, A))], LIMITS)) == Applied()
        assert await other.count_holders(ORG, INSPECTIONS) == 1
        assert await other.count_holders(ORG, STANDARD) == 0

    asyncio.run(go())


def test_recount_repairs_a_counter_left_too_high_and_never_lowers_it_under_a_live_journal():
    client = atomic_mongomock_client()

    async def go():
        storage = MongoStorage(URL, client=client)
        await storage.open()
        await make_org(storage)
        await add_users(storage, [make_user("s0", A)])
        counters = storage.store.counters
        counters.update_one({"_id": counter_id(ORG, STANDARD)}, {"$inc": {"holders": 3, "v": 1}})
        storage.store.journals.insert_one({"_id": "live", "org": ORG, "at": None})
        assert storage.writer.recount(ORG) is False  # a change set in flight: wait
        assert await storage.count_holders(ORG, STANDARD) == 4
        storage.store.journals.delete_one({"_id": "live"})
        assert (await storage.repair(recount_all=True))["recounted"] == 1
        assert await storage.count_holders(ORG, STANDARD) == 1

    asyncio.run(go())
