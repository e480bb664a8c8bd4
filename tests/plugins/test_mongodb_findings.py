"""Issue 15's findings, each reproduced as it was reported: several `MongoStorage` processes on
one atomic mongomock client, driven call by call by the explorer's `Controller` (pauses,
failures before and after a write is applied, partial multi-document writes, crashes), the
server's clock separate from each process's wall clock.
"""

from __future__ import annotations

import asyncio
import threading

import mongomock
import pytest
from pymongo.errors import AutoReconnect
from seatkeeper.domain.records import LicenseState, LicenseType
from seatkeeper.plugins.mongodb.store import counter_id
from seatkeeper.plugins.mongodb.testing import (
    CRASH,
    FAIL_AFTER,
    PARTIAL,
    SimulatedCrash,
    World,
)
from seatkeeper.storage.contract import ORG, add_users, change_set, make_org, make_user
from seatkeeper.storage.protocol import Applied, LogQuery, SeatShortage, UserQuery

A, U = LicenseState.ASSIGNED, LicenseState.UNASSIGNED
STANDARD, INSPECTIONS = LicenseType.STANDARD, LicenseType.INSPECTIONS
HOUR = 3600


@pytest.fixture
def world(monkeypatch):
    made = World()
    monkeypatch.setattr(mongomock, "utcnow", made.server_clock)
    return made


def seed(world: World, users) -> dict:
    storage = world.storages["P"]

    async def go():
        await storage.open()
        await make_org(storage)
        await add_users(storage, users)
        return {u.key: u for u in await storage.list_users(ORG, UserQuery(), 1000, None)}

    seeded = asyncio.run(go())
    world.wrap()
    return seeded


def users_now(world: World) -> dict:
    store = world.storages["R"].store
    return {u.key: u for u in store.list_users(ORG, UserQuery(), 1000, None)}


def holders(world: World) -> dict[LicenseType, int]:
    found = users_now(world).values()
    return {t: sum(1 for u in found if u.active_license is t) for t in (STANDARD, INSPECTIONS)}


def counter(world: World, license_type: LicenseType) -> int:
    doc = world.storages["R"].store.counters.find_one({"_id": counter_id(ORG, license_type)})
    return doc["holders"]


def is_call(name: str, nth: int = 1):
    """A predicate matching the `nth` call named `name` (e.g. "users.bulk_write")."""
    seen = [0]

    def predicate(call) -> bool:
        if call is not None and call.name == name:
            seen[0] += 1
            return seen[0] == nth
        return False

    return predicate


def test_finding_1_recount_interleaved_with_a_free_up(world):
    """Recount checks "no journal", counts, checks again and compare-and-sets on the counters'
    versions; a free-up (one holder released, another given the seat) never `$inc`s, so the
    version did not move. Counted between its release and its take, the counter ended one low
    and the next assignment went over the limit."""
    limits = {STANDARD: 1, INSPECTIONS: 0}
    users = seed(world, [make_user("s0", A), make_user("n0"), make_user("n1")])
    free_up = change_set([(users["s0"], (U, U)), (users["n0"], (A, U))], limits)
    ctl, P, R = world.controller, world.storages["P"], world.storages["R"]
    ctl.spawn("R", lambda: R.writer.recount(ORG))
    assert ctl.run_until("R", is_call("users.count_documents"))  # versions read, no journal
    ctl.spawn("P", lambda: P.writer.apply(free_up))
    # The free-up runs until s0 has let its seat go and n0 has not yet taken it.
    released = [0]

    def before_take(call) -> bool:
        if call is not None and call.name == "users.bulk_write":
            released[0] += 1
        return released[0] == 3  # the lock, the release, then the take

    assert ctl.run_until("P", before_take)
    ctl.step("R")
    ctl.step("R")  # both seat types counted: Standard has 0 holders at this instant
    assert ctl.finish("P") == Applied()
    ctl.finish("R")
    assert holders(world)[STANDARD] == 1
    assert counter(world, STANDARD) == 1, "the recount wrote a count taken mid-change"
    late = change_set([(users["n1"], (A, U))], limits)
    assert isinstance(world.storages["Q"].writer.apply(late), SeatShortage)
    assert holders(world)[STANDARD] == 1


def test_finding_2_a_reservation_left_by_an_error_is_repaired_while_the_server_runs(world):
    """An error after a one-user change reserved its seat leaves a journal and a counted seat;
    an hour later a full organization must not still answer SeatShortage."""
    limits = {STANDARD: 1, INSPECTIONS: 0}
    users = seed(world, [make_user("n0"), make_user("n1")])
    world.controller.inject(lambda c: c.who == "P" and c.name == "users.update_one", CRASH)
    with pytest.raises(SimulatedCrash):
        world.storages["P"].writer.apply(change_set([(users["n0"], (A, U))], limits))
    assert counter(world, STANDARD) == 1 and holders(world)[STANDARD] == 0
    world.later(HOUR)
    result = world.storages["Q"].writer.apply(change_set([(users["n1"], (A, U))], limits))
    assert result == Applied(), "a stale reservation kept a paid seat from its user"
    assert counter(world, STANDARD) == holders(world)[STANDARD] == 1


def test_finding_2_a_running_process_repairs_stale_change_sets_on_its_own(world, monkeypatch):
    """Nothing meets the user and nothing is full: the periodic repair of a running process
    still gives the seat back (no restart needed)."""
    limits = {STANDARD: 2, INSPECTIONS: 0}
    users = seed(world, [make_user("n0"), make_user("n1")])
    Q = world.storages["Q"]
    Q.settings = Q.settings.__class__(**{**Q.settings.__dict__, "repair_seconds": 0.05})

    async def go():
        await Q.open()
        world.controller.inject(lambda c: c.who == "P" and c.name == "users.update_one", CRASH)
        with pytest.raises(SimulatedCrash):
            world.storages["P"].writer.apply(change_set([(users["n0"], (A, U))], limits))
        assert counter(world, STANDARD) == 1
        world.later(HOUR)
        for _ in range(100):
            await asyncio.sleep(0.02)
            if counter(world, STANDARD) == 0:
                break
        await Q.close()

    asyncio.run(go())
    assert counter(world, STANDARD) == 0 and holders(world)[STANDARD] == 0
    assert world.storages["R"].store.journals.count_documents({}) == 0


def test_finding_2_a_free_up_stopped_after_its_commit_is_finished_while_the_server_runs(world):
    """A deadline (here: death) after the commit of a free-up left 1 seat bought, 0 held, the
    counter full and no one to free up; the next sync in the full organization finishes it."""
    limits = {STANDARD: 1, INSPECTIONS: 0}
    users = seed(world, [make_user("s0", A), make_user("n0"), make_user("n1")])
    world.controller.inject(
        lambda c: c.who == "P" and c.name == "users.bulk_write" and c.index > 3, CRASH
    )
    free_up = change_set([(users["s0"], (U, U)), (users["n0"], (A, U))], limits)
    with pytest.raises(SimulatedCrash):
        world.storages["P"].writer.apply(free_up)
    world.later(HOUR)
    late = world.storages["Q"].writer.apply(change_set([(users["n1"], (A, U))], limits))
    assert isinstance(late, SeatShortage)
    after = users_now(world)
    assert after["n0"].active_license is STANDARD, "the committed free-up was not finished"
    assert world.storages["R"].store.journals.count_documents({}) == 0


def test_finding_3_a_repairer_whose_clock_runs_ahead_leaves_a_live_change_set_alone(world):
    """Staleness judged on each client's wall clock: a repairer 200 s ahead deleted a live
    one-user journal and recounted; the owner then committed, and a type went over."""
    limits = {STANDARD: 1, INSPECTIONS: 0}
    users = seed(world, [make_user("n0"), make_user("n1")])
    ctl, P = world.controller, world.storages["P"]
    ctl.spawn("P", lambda: P.writer.apply(change_set([(users["n0"], (A, U))], limits)))
    assert ctl.run_until("P", is_call("users.update_one"))  # seat reserved, not yet committed
    world.skew("R", 200)
    world.storages["R"].writer.repair()
    assert ctl.finish("P") == Applied()
    late = world.storages["Q"].writer.apply(change_set([(users["n1"], (A, U))], limits))
    assert isinstance(late, SeatShortage)
    assert holders(world)[STANDARD] == 1 == counter(world, STANDARD)


def test_finding_3_a_skewed_repairer_never_strands_locked_users_of_a_live_import(world):
    limits = {STANDARD: 5, INSPECTIONS: 0}
    users = seed(world, [make_user("s0", A)])
    ctl, P = world.controller, world.storages["P"]
    importing = change_set(
        [(users["s0"], (U, U))], limits, creates=[make_user("c0", A), make_user("c1")]
    )
    ctl.spawn("P", lambda: P.writer.apply(importing))
    assert ctl.run_until("P", is_call("users.insert_many"))
    world.skew("R", 200)
    world.storages["R"].writer.repair()
    ctl.run_until("P", lambda call: False)
    world.later(HOUR)
    world.storages["Q"].writer.repair()  # a restart, an hour later
    store = world.storages["R"].store
    assert store.users.count_documents({"journal": {"$ne": None}}) == 0, "users left locked"
    assert store.journals.count_documents({}) == 0


def test_finding_4_opposite_switches_cut_by_a_failover_never_over_allocate(world):
    """A: Standard -> Inspections and B: Inspections -> Standard reserve nothing (net zero); a
    failover between the two statements of one unordered bulk_write (not retryable) left
    Inspections with 2 holders for 1 seat."""
    limits = {STANDARD: 1, INSPECTIONS: 1}
    users = seed(world, [make_user("a", A), make_user("b", U, A)])
    swap = change_set([(users["a"], (U, A)), (users["b"], (A, U))], limits)
    world.controller.inject(
        lambda c: c.who == "P" and c.name == "users.bulk_write" and c.index > 2, PARTIAL
    )
    with pytest.raises(AutoReconnect):
        world.storages["P"].writer.apply(swap)
    now = holders(world)
    assert now[INSPECTIONS] <= 1 and now[STANDARD] <= 1, f"over the limit: {now}"
    world.later(HOUR)
    world.storages["Q"].writer.repair()
    after = users_now(world)
    assert after["a"].active_license is INSPECTIONS and after["b"].active_license is STANDARD


@pytest.mark.parametrize("then", ["seventeen_changes", "deletion"])
def test_finding_5_the_audit_of_a_change_that_landed_is_never_lost(world, then):
    """Repair proved a one-user commit by the journal id in the user's `ops` (16 ids kept):
    after 16 more changes, or once the user was deleted, the audit entries were never written."""
    limits = {STANDARD: 5, INSPECTIONS: 5}
    users = seed(world, [make_user("n0")])
    assign = change_set([(users["n0"], (A, U))], limits, operation_id="lost")
    world.controller.inject(lambda c: c.who == "P" and c.name == "audit_log.insert_many", CRASH)
    with pytest.raises(SimulatedCrash):
        world.storages["P"].writer.apply(assign)
    Q = world.storages["Q"]
    if then == "deletion":
        current = users_now(world)["n0"]
        Q.writer.apply(change_set([], limits, deletes=[current]))
    else:
        for n in range(17):
            current = users_now(world)["n0"]
            after = (U, U) if current.active_license else (A, U)
            Q.writer.apply(change_set([(current, after)], limits, operation_id=f"later{n}"))
    world.later(HOUR)
    Q.writer.repair()
    audit = Q.store.list_audit_log(ORG, LogQuery(), 10_000, None)
    assert sum(e.operation_id == "lost" for e in audit) == len(assign.audit)


def test_finding_6_a_cache_read_racing_a_write_never_serves_the_old_value(world):
    from seatkeeper.domain.records import Settings

    seed(world, [])
    P = world.storages["P"]
    P.store.cache.seconds = 60
    read_done, write_done = threading.Event(), threading.Event()
    organizations = P.store.organizations

    class SlowRead:
        def __getattr__(self, name):
            method = getattr(organizations, name)

            def call(*args, **kwargs):
                result = method(*args, **kwargs)
                if name == "find_one" and threading.current_thread().name == "slow":
                    read_done.set()
                    write_done.wait(10)
                return result

            return call

    P.store.organizations = SlowRead()
    reader = threading.Thread(target=lambda: P.store.get_organization(ORG), name="slow")
    reader.start()
    read_done.wait(10)
    P.store.update_settings(ORG, Settings(auto_assign_licenses=True))
    write_done.set()
    reader.join()
    assert P.store.get_organization(ORG).settings.auto_assign_licenses is True


def test_finding_6_the_creates_filter_stays_under_16_mib_with_the_longest_unicode_values(world):
    import bson
    from seatkeeper.plugins.mongodb import changes

    seed(world, [])
    writer = world.storages["Q"].writer
    sizes: list[int] = []
    users = writer.store.users

    class Measured:
        def __getattr__(self, name):
            method = getattr(users, name)

            def call(*args, **kwargs):
                if args and isinstance(args[0], dict):
                    sizes.append(len(bson.encode(args[0])))
                return method(*args, **kwargs)

            return call

    writer.store.users = Measured()
    # U+0390 is 2 bytes in UTF-8 and case-folds to 3 code points of 2 bytes each: the longest
    # id (128 characters) and e-mail (254) that the keys are folded from.
    grow = "\u0390"
    creates = [
        {
            "key": (f"{n:05d}" + grow * 123).casefold(),
            "email_key": (f"{n:05d}" + grow * 59 + "@" + grow * 189).casefold(),
        }
        for n in range(changes.BATCH)
    ]
    writer._taken(ORG, creates)
    assert sizes and max(sizes) < 16 * 1024 * 1024 - 16 * 1024, f"{max(sizes) / 2**20:.1f} MiB"


def test_finding_6_of_several_repairers_one_does_the_work(world):
    limits = {STANDARD: 1, INSPECTIONS: 0}
    users = seed(world, [make_user("n0")])
    world.controller.inject(lambda c: c.who == "P" and c.name == "users.update_one", CRASH)
    with pytest.raises(SimulatedCrash):
        world.storages["P"].writer.apply(change_set([(users["n0"], (A, U))], limits))
    world.later(HOUR)
    ctl, Q, R = world.controller, world.storages["Q"], world.storages["R"]
    ctl.spawn("Q", lambda: Q.writer.repair())
    assert ctl.run_until("Q", is_call("users.find_one"))  # Q has claimed the journal
    ctl.spawn("R", lambda: R.writer.repair())
    ctl.run_until("R", is_call("users.find_one"))  # R lists journals: is it claimed too?
    ctl.finish("R")
    ctl.finish("Q")
    first, second = ctl.outcome("Q")[0], ctl.outcome("R")[0]
    assert first["rolled_back"] + second["rolled_back"] == 1


# ------------------------------------------------ real-server differences, start-up, lifecycle


def test_spec_8_an_entry_past_retention_is_never_returned_before_the_ttl_monitor_runs(
    monkeypatch,
):
    """mongomock deletes expired entries whenever it reads; a server's TTL monitor runs once a
    minute, later under load. Here it never runs: the query itself must leave them out."""
    from datetime import UTC, datetime, timedelta

    from seatkeeper.domain.records import Client, SyncLogEntry
    from seatkeeper.plugins.mongodb import MongoStorage
    from seatkeeper.plugins.mongodb.testing import atomic_mongomock_client

    monkeypatch.setattr(mongomock.store.CollectionStore, "_expire_documents", lambda *a: None)
    storage = MongoStorage(
        "mongodb://localhost/ttl?syncLogRetentionDays=90", client=atomic_mongomock_client()
    )
    now = datetime.now(UTC)

    def entry(age: timedelta, entry_id: str) -> SyncLogEntry:
        return SyncLogEntry(
            ORG, now - age, "u1", "u1@example.com", "default", Client.MOBILE, True, id=entry_id
        )

    async def go():
        await storage.open()
        await make_org(storage)
        await storage.append_sync_log(entry(timedelta(days=91), "expired"))
        await storage.append_sync_log(entry(timedelta(days=89), "kept"))
        assert storage.store.sync_log.count_documents({}) == 2  # the monitor has not run
        listed = await storage.list_sync_log(ORG, LogQuery(), 10, None)
        assert [e.id for e in listed] == ["kept"]
        since_long_ago = LogQuery(since=now - timedelta(days=365))
        assert [e.id for e in await storage.list_sync_log(ORG, since_long_ago, 10, None)] == [
            "kept"
        ]

    asyncio.run(go())


def test_invariant_3_a_storage_used_before_open_still_has_its_unique_indexes():
    """Used without `open()`, the plugin must not run without the unique e-mail index: a
    second user with the same e-mail is refused (invariant 3)."""
    from datetime import UTC, datetime

    from seatkeeper.plugins.mongodb import MongoStorage
    from seatkeeper.plugins.mongodb.testing import atomic_mongomock_client
    from seatkeeper.storage.protocol import EmailTaken

    storage = MongoStorage("mongodb://localhost/unopened", client=atomic_mongomock_client())
    now = datetime.now(UTC)

    async def go():
        await make_org(storage)
        await storage.record_sync(ORG, "u1", "same@example.com", None, STANDARD, now)
        with pytest.raises(EmailTaken):
            await storage.record_sync(ORG, "u2", "SAME@example.com", None, STANDARD, now)

    asyncio.run(go())


def test_a_document_too_large_is_one_storage_error_and_leaves_no_journal(world, monkeypatch):
    """A write the driver refuses before sending (DocumentTooLarge is not a PyMongoError) is a
    StorageError for the engine, and the change set is undone at once: nothing was sent that
    could have landed."""
    from bson.errors import InvalidDocument
    from seatkeeper.storage.protocol import StorageError

    users = seed(world, [make_user("n0"), make_user("n1")])
    limits = {STANDARD: 5, INSPECTIONS: 0}
    Q = world.storages["Q"]
    world.controller.inject(lambda c: c.who == "Q" and c.name == "users.insert_many", "too_large")
    real = world.controller._perform

    def perform(p, call, action, *rest):
        if action == "too_large":
            raise InvalidDocument("BSON document too large (17000000 bytes)")
        return real(p, call, action, *rest)

    monkeypatch.setattr(world.controller, "_perform", perform)
    changes = change_set(
        [(users["n0"], (A, U))], limits, creates=[make_user("c0", A), make_user("c1")]
    )
    with pytest.raises(StorageError, match="InvalidDocument"):
        asyncio.run(Q.apply_changes(changes))
    store = world.storages["R"].store
    assert store.journals.count_documents({}) == 0
    assert store.users.count_documents({"journal": {"$type": "string"}}) == 0
    assert counter(world, STANDARD) == 0 and holders(world)[STANDARD] == 0


# ------------------------------------------------------------ found by the explorer, beyond


def test_explorer_found_a_repairer_dying_before_its_recount_left_a_counter_too_high(world):
    """Explorer seed 209: a reservation whose answer was lost left a journal; a repairer rolled
    it back, deleted the journal and died before recounting. With no journal left, no later
    repair looked at the organization again: a seat stayed counted for no one, for good."""
    limits = {STANDARD: 1, INSPECTIONS: 0}
    users = seed(world, [make_user("n0"), make_user("n1")])
    world.controller.inject(
        lambda c: c.who == "P" and c.name == "counters.find_one_and_update", FAIL_AFTER
    )
    with pytest.raises(AutoReconnect):
        world.storages["P"].writer.apply(change_set([(users["n0"], (A, U))], limits))
    world.later(HOUR)
    world.controller.inject(lambda c: c.who == "R" and c.name == "counters.find", CRASH)
    with pytest.raises(SimulatedCrash):
        world.storages["R"].writer.repair()  # rolled back, journal deleted, then death
    world.controller.participants["R"].dead = False  # R restarts
    assert world.storages["Q"].store.journals.count_documents({}) == 0
    world.later(HOUR)
    world.storages["Q"].writer.repair()
    assert counter(world, STANDARD) == holders(world)[STANDARD] == 0
    late = world.storages["Q"].writer.apply(change_set([(users["n1"], (A, U))], limits))
    assert late == Applied()


def test_explorer_found_an_owner_paused_past_its_deadline_releasing_a_seat_twice(world):
    """Explorer (seed 12 on the code before issue 15): the one-user path sent its post-commit
    writes without checking its deadline; an owner paused past it released the given-up seat
    after repair had already recounted it: the counter fell below the holders."""
    limits = {STANDARD: 1, INSPECTIONS: 1}
    users = seed(world, [make_user("s0", A), make_user("n0")])
    ctl, P = world.controller, world.storages["P"]
    ctl.spawn("P", lambda: P.writer.apply(change_set([(users["s0"], (U, A))], limits)))
    assert ctl.run_until("P", is_call("audit_log.insert_many"))  # committed: s0 switched
    world.later(HOUR)  # P is paused for an hour (a frozen VM)
    world.storages["R"].writer.repair()  # rolls it forward and recounts
    ctl.run_until("P", lambda call: False)
    assert ctl.outcome("P")[1] is not None  # the owner gave up instead of writing
    late = world.storages["Q"].writer.apply(change_set([(users["n0"], (A, U))], limits))
    assert late == Applied()
    assert counter(world, STANDARD) == holders(world)[STANDARD] == 1
    assert counter(world, INSPECTIONS) == holders(world)[INSPECTIONS] == 1


def test_a_sync_of_a_user_whose_creation_is_rolled_back_keeps_the_synced_user(world):
    """Found extending the explorer's reach to syncs: an import crashed after inserting its
    created users (locked, seatless, pending); the device of one of them synced meanwhile (an
    acknowledged write: the user exists, synced); repair rolled the import back and deleted
    that user with the others. The sync must survive: as if it had come first."""
    from datetime import UTC, datetime

    limits = {STANDARD: 5, INSPECTIONS: 0}
    seed(world, [])
    importing = change_set([], limits, creates=[make_user("c0", A), make_user("c1")])
    commit = is_call("journals.update_one", 2)  # the first one writes the journal
    world.controller.inject(lambda c: c.who == "P" and commit(c), CRASH)
    with pytest.raises(SimulatedCrash):
        world.storages["P"].writer.apply(importing)  # died at its commit: still pending
    assert world.storages["Q"].store.users.count_documents({"journal": {"$exists": True}}) == 2
    now = datetime.now(UTC)
    synced = world.storages["Q"].store.record_sync(ORG, "c0", "c0@example.com", None, STANDARD, now)
    assert synced.last_sync_at is not None
    world.later(HOUR)
    world.storages["Q"].writer.repair()
    after = users_now(world)
    assert "c1" not in after  # the import did not happen
    assert "c0" in after and after["c0"].last_sync_at is not None, "an acknowledged sync lost"
    assert after["c0"].active_license is None
    store = world.storages["Q"].store
    assert store.users.count_documents({"journal": {"$exists": True}}) == 0
    assert counter(world, STANDARD) == holders(world)[STANDARD] == 0
