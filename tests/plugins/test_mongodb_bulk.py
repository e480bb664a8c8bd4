"""Large change sets on the MongoDB plugin: a few round trips per batch of users, whatever their
number, and every crash-safety property of SPEC 2 (invariants 1, 2, 4, 5) at the batch boundaries.

The engine's bulk operations (setLicenseState, createUsers, deleteUsers, the CSV import of SPEC 7)
each become one change set (`Storage.apply_changes`); `changes.BATCH` users go in one write. The
tests lower `BATCH` so that a few users make several batches, and count the operations sent with
`RoundTrips` (each is one round trip to a server).

Run as a script, this file measures the bulk operations through the real Engine on the atomic
mongomock client (see `main` at the end): `python tests/plugins/test_mongodb_bulk.py 2000`.
"""

from __future__ import annotations

import asyncio
import math
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from seatkeeper.domain.records import LicenseState, LicenseType, MobileUser
from seatkeeper.plugins.mongodb import ChangeSetAbandoned, MongoStorage
from seatkeeper.plugins.mongodb import changes as changes_module
from seatkeeper.plugins.mongodb.documents import user_document
from seatkeeper.plugins.mongodb.store import counter_id
from seatkeeper.plugins.mongodb.testing import (
    CrashAfter,
    RoundTrips,
    SimulatedCrash,
    atomic_mongomock_client,
)
from seatkeeper.rules.engine import Engine, NewUser
from seatkeeper.storage.contract import ORG, T0, add_users, change_set, make_org, make_user
from seatkeeper.storage.protocol import (
    AlreadyExists,
    Applied,
    ChangeSet,
    Conflict,
    LogQuery,
    UserQuery,
)

A, U, D = LicenseState.ASSIGNED, LicenseState.UNASSIGNED, LicenseState.DISABLED
STANDARD, INSPECTIONS = LicenseType.STANDARD, LicenseType.INSPECTIONS
URL = "mongodb://localhost/seatkeeper_bulk?syncLogRetentionDays=0&cacheSeconds=0"  # no read cache: counts independent of timing


def _storage(client=None, url: str = URL) -> MongoStorage:
    return MongoStorage(url, client=client or atomic_mongomock_client())


def _holder(user_id: str, inspections: bool, minutes_ago: int) -> MobileUser:
    """A seat holder assigned at its own moment (a change that keeps the seat keeps it)."""
    when = T0 - timedelta(minutes=minutes_ago)
    return make_user(user_id, U if inspections else A, A if inspections else U, assigned_at=when)


# ------------------------------------------------------------------ round trips through the Engine


def _csv(ids: list[str]) -> str:
    """A licenses file (SPEC 7) creating these users, STANDARD and INSPECTIONS in turn."""
    rows = ['"Id","Full Name","Email","Standard","Inspections"']
    for n, user_id in enumerate(ids):
        standard, inspections = ("Assigned", "") if n % 2 else ("", "Assigned")
        rows.append(
            f'"{user_id}","User {user_id}","{user_id}@example.com","{standard}","{inspections}"'
        )
    return "\r\n".join(rows) + "\r\n"


async def _bulk_operations(
    n: int, clock, report: Callable[[str, RoundTrips, float], None], url: str = URL
) -> None:
    """The engine's bulk operations on `n` users each, every one counted by `report`."""
    storage = _storage(url=url)
    await storage.open()
    engine = Engine(storage, clock)
    org = (await engine.create_organization("Acme")).value.organization.id
    for license_type in (STANDARD, INSPECTIONS):
        await engine.add_subscription(org, license_type, 4 * n, clock() + timedelta(days=365))

    async def measured(name: str, operation):
        trips = RoundTrips(storage.store)
        started = time.perf_counter()
        result = await operation
        took = time.perf_counter() - started
        trips.uninstall()
        report(name, trips, took)
        return result

    ids = [f"c{i:06}" for i in range(n)]
    new = [
        NewUser(i, f"User {i}", f"{i}@example.com", A if k % 2 else U) for k, i in enumerate(ids)
    ]
    assert (await measured("createUsers", engine.create_users(org, "admin", new))).ok
    clock.advance(minutes=1)
    # Half switch from STANDARD, half take a seat from none.
    assert (
        await measured(
            "setLicenseState", engine.set_license_state(org, "admin", ids, INSPECTIONS, A)
        )
    ).ok
    # Holders since distinct moments: disabling STANDARD keeps each one's seat and assignedAt, so
    # no two users of this change set get the same fields.
    keep = [f"k{i:06}" for i in range(n)]
    seed = [
        make_user(k, U, A, org=org, assigned_at=clock() - timedelta(minutes=i))
        for i, k in enumerate(keep)
    ]
    assert (
        await storage.apply_changes(
            ChangeSet(org, creates=seed, seat_limits={STANDARD: n, INSPECTIONS: 2 * n})
        )
        == Applied()
    )
    assert (
        await measured(
            "setLicenseState keeping seats",
            engine.set_license_state(org, "admin", keep, STANDARD, D),
        )
    ).ok
    imported = await measured(
        "import", engine.import_licenses(org, "admin", _csv([f"i{i:06}" for i in range(n)]))
    )
    assert imported.applied and imported.summary.created == n
    assert (await measured("deleteUsers", engine.delete_users(org, "admin", ids))).ok


def _tallies(n: int, clock) -> dict[str, Counter]:
    tallies: dict[str, Counter] = {}
    asyncio.run(
        _bulk_operations(
            n, clock, lambda name, trips, _: tallies.__setitem__(name, Counter(trips.tally))
        )
    )
    return tallies


def test_a_bulk_operation_costs_the_same_round_trips_for_ten_users_and_for_forty(clock):
    """Every write of a change set carries all its users (up to `BATCH`): a user keeping its seat
    (its own assignedAt) is one more operation inside the same `bulk_write`, not a round trip."""
    small, large = _tallies(10, clock), _tallies(40, clock)
    for name in small:
        print(
            f"\n{name}: {sum(large[name].values())} round trips: {dict(sorted(large[name].items()))}"
        )
    assert small == large
    keeping = large["setLicenseState keeping seats"]
    assert keeping["users.bulk_write"] == 2  # lock, then write: was one update_many per user
    assert sum(keeping.values()) <= 15


def test_with_smaller_batches_the_writes_grow_by_batches_not_by_users(clock, monkeypatch):
    monkeypatch.setattr(changes_module, "BATCH", 10)
    tallies = _tallies(45, clock)
    batches = math.ceil(45 / 10)
    created = tallies["createUsers"]
    assert created["users.insert_many"] == batches
    assert created["users.update_many"] == 1  # the created users unlocked by their lock, at once
    assert created["audit_log.insert_many"] == math.ceil(22 / 10)  # one entry per seat assigned
    switched = tallies["setLicenseState"]
    # The lock; the switches (22 users) written seatless (release then take: issue 15, finding
    # 4); then their new seats with the takes (23), each in batches of ten.
    assert switched["users.bulk_write"] == batches + math.ceil(22 / 10) + math.ceil(45 / 10)
    imported = tallies["import"]
    assert imported["users.insert_many"] == batches
    assert imported["audit_log.insert_many"] == batches
    deleted = tallies["deleteUsers"]
    assert deleted["users.bulk_write"] == batches and deleted["users.delete_many"] == batches


# ------------------------------------------------------------------ crashes between batches


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


async def _users(storage: MongoStorage) -> list[MobileUser]:
    return await storage.list_users(ORG, UserQuery(), 100_000, None)


def _holders(users: list[MobileUser]) -> dict[LicenseType, int]:
    return {t: sum(1 for u in users if u.active_license is t) for t in (STANDARD, INSPECTIONS)}


def _counter(storage: MongoStorage, license_type: LicenseType) -> int:
    return storage.store.counters.find_one({"_id": counter_id(ORG, license_type)})["holders"]


def _crash_and_repair(seed: list[MobileUser], limits: dict, build: Callable, writes: int) -> bool:
    """Seed, let `writes` writes through then crash, repair from another process, check SPEC 2.
    Returns whether the crash happened (False: the change set completed)."""
    client = atomic_mongomock_client()

    async def go() -> bool:
        storage = _storage(client)
        await storage.open()
        await make_org(storage)
        await add_users(storage, seed)
        users = {u.key: u for u in await _users(storage)}
        before = _state(list(users.values()))
        changes = build(users)
        crash = CrashAfter(storage.store, writes)
        try:
            result = await storage.apply_changes(changes)
        except SimulatedCrash:
            result = None
        observer = _storage(client)
        # Invariant 1 at the crash point, before any repair: never over a limit, and the counter
        # never below the holders (so no other process can be let over it).
        for license_type, count in _holders(await _users(observer)).items():
            assert count <= limits[license_type], (
                f"{license_type.value} over its limit after {crash.log}"
            )
            assert _counter(observer, license_type) >= count, (
                f"counter below the holders after {crash.log}"
            )
        await observer.repair(stale_after=timedelta(0))
        after_repair = await _users(observer)
        final = _state(after_repair)
        audit_ids = {e.id for e in await observer.list_audit_log(ORG, LogQuery(), 100_000, None)}
        db = observer.store
        assert db.journals.count_documents({}) == 0 and db.journal_parts.count_documents({}) == 0
        assert db.users.count_documents({"journal": {"$ne": None}}) == 0, "a user is still locked"
        for license_type, count in _holders(after_repair).items():
            assert _counter(observer, license_type) == count, (
                f"{license_type.value} counter != holders"
            )
        assert all(state[:2] != (A, A) for state in final.values()), (
            "a user holds two seats"
        )  # invariant 2
        wanted_ids = {e.id for e in changes.audit}
        if final == before:
            assert wanted_ids.isdisjoint(audit_ids), "audit entries of a change that did not land"
        else:
            assert final == _expected_after(before, changes), (
                f"half a change set landed after {crash.log}"
            )
            assert wanted_ids <= audit_ids, (
                "a change landed without its audit entries"
            )  # invariant 4
        if result is not None:
            assert result == Applied() and final == _expected_after(before, changes)
        return crash.crashed

    return asyncio.run(go())


def _creates(users):
    limits = {STANDARD: 4, INSPECTIONS: 2}
    made = [make_user(f"c{i}", A) for i in range(3)] + [
        make_user(f"c{i}", U, A) for i in range(3, 5)
    ]
    return change_set([], limits, creates=made + [make_user("c5"), make_user("c6", D)])


def _moves(users):
    """Two release STANDARD, one switches to INSPECTIONS, three take STANDARD: STANDARD stays
    full throughout only if every release is written before any take."""
    plan = [
        ("s0", (U, U)),
        ("s1", (D, U)),
        ("s2", (U, A)),
        ("n0", (A, U)),
        ("n1", (A, U)),
        ("n2", (A, D)),
    ]
    return change_set([(users[k], after) for k, after in plan], {STANDARD: 3, INSPECTIONS: 1})


def _keeps(users):
    """Disable STANDARD for holders of INSPECTIONS: each keeps its seat and its assignedAt."""
    return change_set([(users[f"k{i}"], (D, A)) for i in range(5)], {STANDARD: 0, INSPECTIONS: 5})


def _deletes(users):
    return change_set(
        [],
        {STANDARD: 3, INSPECTIONS: 1},
        deletes=[users[k] for k in ("s0", "s1", "s2", "n0", "n1")],
    )


def _frees_for_creates(users):
    """SPEC 7 REPLACE: seats taken from users left out of the file go to the users it creates;
    STANDARD is full, and no seat is reserved (the net gain is nil)."""
    limits = {STANDARD: 3, INSPECTIONS: 1}
    return change_set(
        [(users[k], (U, U)) for k in ("s0", "s1", "s2")],
        limits,
        creates=[make_user("c0", A), make_user("c1", A), make_user("c2", A), make_user("c3")],
    )


def _mixed(users):
    """Creates, changes and deletes in one change set (the shape of a REPLACE import)."""
    limits = {STANDARD: 3, INSPECTIONS: 2}
    plan = [("s0", (U, A)), ("n0", (A, U)), ("n1", (U, A))]
    return change_set(
        [(users[k], after) for k, after in plan],
        limits,
        creates=[make_user("c0", A), make_user("c1"), make_user("c2", D, U)],
        deletes=[users["s1"], users["s2"]],
    )


HOLDERS = [
    make_user("s0", A),
    make_user("s1", A),
    make_user("s2", A),
    make_user("n0"),
    make_user("n1"),
    make_user("n2"),
]
BATCHED = {
    "creates": ([], {STANDARD: 4, INSPECTIONS: 2}, _creates),
    "moves": (HOLDERS, {STANDARD: 3, INSPECTIONS: 1}, _moves),
    "keeps": ([_holder(f"k{i}", True, i) for i in range(5)], {STANDARD: 0, INSPECTIONS: 5}, _keeps),
    "deletes": (HOLDERS, {STANDARD: 3, INSPECTIONS: 1}, _deletes),
    "frees_for_creates": (HOLDERS, {STANDARD: 3, INSPECTIONS: 1}, _frees_for_creates),
    "mixed": (HOLDERS, {STANDARD: 3, INSPECTIONS: 2}, _mixed),
}


@pytest.mark.parametrize("parts", [False, True], ids=["inline", "journal_parts"])
@pytest.mark.parametrize("name", sorted(BATCHED))
def test_spec_2_a_crash_between_any_two_batches_is_repaired_to_all_or_nothing(
    name, parts, monkeypatch
):
    """SPEC 2 invariants 1, 2, 4, 5 at every crash point of change sets cut into batches of two
    users (and, with `journal_parts`, a journal body in parts of two items)."""
    monkeypatch.setattr(changes_module, "BATCH", 2)
    if parts:
        monkeypatch.setattr(changes_module, "INLINE_ITEMS", 4)
        monkeypatch.setattr(changes_module, "PART_ITEMS", 2)
    seed, limits, build = BATCHED[name]
    for writes in range(80):
        if not _crash_and_repair(seed, limits, build, writes):
            break
    else:
        pytest.fail("the change set never completed")
    # Batches of two: each kind of write of these five or more users is three writes at least.
    assert writes >= 9, f"only {writes} writes to crash between"


# ------------------------------------------------------------------ refusals in a later batch


def test_spec_2_a_user_changed_meanwhile_in_the_last_batch_refuses_the_whole_change_set(
    monkeypatch,
):
    """The first batches lock, the last finds a user not as expected: Conflict naming it, every
    lock undone, nothing written, no seat counted."""
    monkeypatch.setattr(changes_module, "BATCH", 2)

    async def go():
        storage = _storage()
        await storage.open()
        await make_org(storage)
        await add_users(storage, [make_user(f"n{i}") for i in range(5)])
        users = {u.key: u for u in await _users(storage)}
        changes = change_set(
            [(users[f"n{i}"], (A, U)) for i in range(5)], {STANDARD: 5, INSPECTIONS: 0}
        )
        moved = change_set([(users["n4"], (U, A))], {STANDARD: 5, INSPECTIONS: 5})
        assert await storage.apply_changes(moved) == Applied()
        trips = RoundTrips(storage.store)
        assert await storage.apply_changes(changes) == Conflict(("n4",))
        assert trips.tally["users.bulk_write"] == 3  # three batches locked, the third fell short
        assert storage.store.users.count_documents({"journal": {"$ne": None}}) == 0
        assert storage.store.journals.count_documents({}) == 0
        assert {u.key: u.selectors for u in await _users(storage)} == {
            **{f"n{i}": (U, U) for i in range(4)},
            "n4": (U, A),
        }
        assert (_counter(storage, STANDARD), _counter(storage, INSPECTIONS)) == (0, 1)

    asyncio.run(go())


def test_spec_2_a_user_created_meanwhile_refuses_the_creates_of_every_batch(monkeypatch):
    """A sync creates one of the users between the check and the second batch's insert: the
    unique index refuses it, the first batch's users are deleted again, the seats uncounted
    (invariant 3: one user per id)."""
    monkeypatch.setattr(changes_module, "BATCH", 2)

    async def go():
        storage = _storage()
        await storage.open()
        await make_org(storage)
        creates = [make_user(f"c{i}", A) for i in range(5)]
        users = storage.store.users
        inserted = []

        class RacingUsers:
            """The users collection, with another process's first sync of c3 before batch two."""

            def __getattr__(self, name):
                return getattr(users, name)

            def insert_many(self, documents, **kwargs):
                inserted.append(len(documents))
                if len(inserted) == 2:
                    users.insert_one(user_document(make_user("c3", email="racer@example.com")))
                return users.insert_many(documents, **kwargs)

        storage.store.users = RacingUsers()
        result = await storage.apply_changes(
            change_set([], {STANDARD: 5, INSPECTIONS: 0}, creates=creates)
        )
        storage.store.users = users
        assert result == AlreadyExists(("c3",), ())
        assert inserted == [2, 2]
        assert sorted(u.key for u in await _users(storage)) == ["c3"]
        assert _counter(storage, STANDARD) == 0
        assert storage.store.journals.count_documents({}) == 0

    asyncio.run(go())


def test_spec_2_an_owner_past_its_deadline_after_the_commit_stops_and_repair_finishes(monkeypatch):
    """Between two batches of the roll-forward the owner checks its deadline too: past it, it
    stops (ChangeSetAbandoned) so that repair never writes alongside it; repair then finishes
    the committed change set whole."""
    monkeypatch.setattr(changes_module, "BATCH", 2)
    now = [0.0]

    class FakeTime:
        @staticmethod
        def monotonic():
            return now[0]

    monkeypatch.setattr(changes_module, "time", FakeTime)

    async def go():
        client = atomic_mongomock_client()
        storage = _storage(client)
        await storage.open()
        await make_org(storage)
        await add_users(storage, [make_user(f"n{i}") for i in range(5)])
        users = {u.key: u for u in await _users(storage)}
        changes = change_set(
            [(users[f"n{i}"], (A, U)) for i in range(5)], {STANDARD: 5, INSPECTIONS: 0}
        )
        journals = storage.store.journals

        class SlowAfterCommit:
            def __getattr__(self, name):
                return getattr(journals, name)

            def update_one(self, *args, **kwargs):
                result = journals.update_one(*args, **kwargs)
                if args[1].get("$set", {}).get("state") == "committed":
                    now[0] += 3600  # the commit landed, then the process stalled for an hour
                return result

        storage.store.journals = SlowAfterCommit()
        with pytest.raises(ChangeSetAbandoned):
            await storage.apply_changes(changes)
        storage.store.journals = journals
        assert (
            storage.store.users.count_documents({"journal": {"$ne": None}}) == 5
        )  # nothing applied
        report = await _storage(client).repair(stale_after=timedelta(0))
        assert report["rolled_forward"] == 1
        assert {u.key: u.selectors for u in await _users(storage)} == {
            f"n{i}": (A, U) for i in range(5)
        }
        assert _counter(storage, STANDARD) == 5

    asyncio.run(go())


# ------------------------------------------------------------------ measuring (not a test)


def _linear_mongomock() -> None:
    """For measuring large sizes only: make mongomock's quadratic parts linear. `$in` becomes a
    set look-up (mongomock scans the list for every document), and its unique-index emulation
    (a scan of the whole collection per unique index for every document written) is skipped;
    the plugin's own checks for existing ids and e-mails still run. Round trips are unaffected."""
    import mongomock.collection
    from mongomock import filtering

    scan = filtering._in_op
    sets: dict[int, tuple[list, frozenset]] = {}  # by the list's id, the list kept alive with it

    def in_op(doc_val, search_val):
        if not isinstance(search_val, list) or len(search_val) < 16:
            return scan(doc_val, search_val)
        entry = sets.get(id(search_val))
        if entry is None or entry[0] is not search_val:
            try:
                values = frozenset(search_val)
            except TypeError:
                return scan(doc_val, search_val)
            if any(isinstance(v, filtering._RE_TYPES) for v in values):
                return scan(doc_val, search_val)
            if len(sets) > 64:
                sets.clear()
            entry = sets[id(search_val)] = (search_val, values)
        if doc_val is filtering.NOTHING:
            return None in entry[1]
        return any(v in entry[1] for v in filtering._force_list(doc_val))

    filtering._filterer_inst._operator_map["$in"] = in_op
    mongomock.collection.Collection._ensure_uniques = lambda self, data: None


def main(argv: list[str]) -> None:
    """`python tests/plugins/test_mongodb_bulk.py N [N ...] [--linear]`: each bulk operation on N
    users through the Engine: seconds and round trips (with `--linear`, see `_linear_mongomock`)."""
    # Run as a script: the repository root, so that `tests` imports as the package it is.
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    from tests.conftest import FakeClock

    if "--linear" in argv:
        _linear_mongomock()
    for n in [int(a) for a in argv if not a.startswith("-")] or [2000]:

        def report(name: str, trips: RoundTrips, took: float, n: int = n) -> None:
            print(
                f"{name:30s} {n:7d} users {took:9.2f} s {trips.total:5d} round trips  {dict(sorted(trips.tally.items()))}",
                flush=True,
            )

        # mongomock takes minutes where a server takes seconds: no owner's deadline while measuring.
        asyncio.run(_bulk_operations(n, FakeClock(), report, URL + "&journalStaleSeconds=86400"))


if __name__ == "__main__":
    main(sys.argv[1:])
