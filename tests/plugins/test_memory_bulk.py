"""The memory plugin's large writes (issue 9, finding 6; B9): built beside the live state in
slices that give the event loop back, swapped in whole.

The whole storage contract kit runs again with every change set taking that path, then what only
the sliced path promises: other organizations read and write meanwhile, readers of the
organization see all or nothing, its writers wait (from any thread) and none is lost, and a write
cancelled half-way leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from seatkeeper.domain.records import LicenseState, LicenseType
from seatkeeper.plugins import memory
from seatkeeper.storage import load_storage
from seatkeeper.storage.contract import (
    NO_LIMIT,
    ORG,
    OTHER_ORG,
    StorageContract,
    add_users,
    all_audit,
    all_users,
    at,
    change_set,
    make_org,
    make_user,
)
from seatkeeper.storage.protocol import Applied, ChangeSet, Conflict, UserQuery

A, U = LicenseState.ASSIGNED, LicenseState.UNASSIGNED
STANDARD = LicenseType.STANDARD
LARGE = 3_000  # users in a change set that the tests below make large


@pytest.fixture
def every_write_is_large(monkeypatch):
    """Every change set, however small, takes the sliced path."""
    monkeypatch.setattr(memory, "_IN_PLACE_USERS", -1)


@pytest.fixture
def storage_factory(every_write_is_large):
    async def build():
        storage = load_storage("memory://")
        await storage.open()
        return storage

    return build


class TestMemoryStorageContractEveryWriteSliced(StorageContract):
    """Every promise of the Storage protocol, each change set built beside the live state."""

    supports_threads = True


def _holders(n: int, prefix: str = "u", org: str = ORG):
    return [
        make_user(f"{prefix}{k:05d}", A, org=org, assigned_at=at(k % 90), name=f"N{k % 97}")
        for k in range(n)
    ]


async def _gave_the_loop_back(write) -> tuple[int, object]:
    """Run `write` while a ticker counts how often the loop ran it in between."""
    ticks = 0
    done = asyncio.Event()

    async def ticker():
        nonlocal ticks
        while not done.is_set():
            ticks += 1
            await asyncio.sleep(0)

    counting = asyncio.ensure_future(ticker())
    try:
        result = await write
    finally:
        done.set()
        await counting
    return ticks, result


def test_issue_9_a_large_write_gives_the_loop_back_and_lets_other_organizations_write():
    async def scenario():
        storage = load_storage("memory://")
        await make_org(storage)
        await make_org(storage, OTHER_ORG)
        seen = {}

        async def other_organization():
            await asyncio.sleep(0)  # the large write has begun
            user = await storage.record_sync(OTHER_ORG, "x", "x@example.com", "X", STANDARD, at(1))
            seen["other"] = user.last_sync_at
            seen["mid"] = await storage.count_users(ORG, UserQuery())  # the state before, whole

        big = ChangeSet(ORG, creates=_holders(LARGE), seat_limits=dict(NO_LIMIT))
        other = asyncio.ensure_future(other_organization())
        ticks, result = await _gave_the_loop_back(storage.apply_changes(big))
        await other
        return ticks, result, seen, await storage.count_users(ORG, UserQuery())

    ticks, result, seen, after = asyncio.run(scenario())
    assert result == Applied()
    assert ticks > 1
    assert seen == {"other": at(1), "mid": 0}
    assert after == LARGE


def test_issue_9_writers_of_the_organization_wait_for_a_large_write_and_are_not_lost():
    """A sync of the organization during its large write lands after it, on the state after."""

    async def scenario():
        storage = load_storage("memory://")
        await make_org(storage)
        await add_users(storage, _holders(10, prefix="old"))
        order = []

        async def sync_meanwhile():
            await asyncio.sleep(0)
            user = await storage.record_sync(
                ORG, "old00001", "new@example.com", None, STANDARD, at(5)
            )
            order.append("sync")
            return user

        users = await all_users(storage)
        flips = [(u, (U, U)) for u in users[:5]]
        big = change_set(flips, NO_LIMIT, creates=_holders(LARGE), when=at(3))
        syncing = asyncio.ensure_future(sync_meanwhile())
        result = await storage.apply_changes(big)
        order.append("write")
        synced = await syncing
        return result, order, synced, await storage.get_user(ORG, "old00001")

    result, order, synced, stored = asyncio.run(scenario())
    assert result == Applied()
    assert order == ["write", "sync"]
    # The sync saw the change set's work (released) and its own write is kept.
    assert synced.selectors == (U, U) and synced.email == "new@example.com"
    assert stored.email == "new@example.com" and stored.last_sync_at == at(5)


def test_issue_9_a_large_write_decided_on_stale_records_is_refused_whole():
    async def scenario():
        storage = load_storage("memory://")
        await make_org(storage)
        await add_users(storage, _holders(5, prefix="old"))
        users = await all_users(storage)
        stale = change_set([(users[0], (U, U))], NO_LIMIT, creates=_holders(LARGE))
        stale.changes[0] = type(stale.changes[0])(users[0].key, (U, A), U, U, None)
        result = await storage.apply_changes(stale)
        return result, await storage.count_users(ORG, UserQuery()), await all_audit(storage)

    result, count, audit = asyncio.run(scenario())
    assert result == Conflict((_holders(1, prefix="old")[0].key,))
    assert count == 5 and audit == []


def test_issue_9_a_large_write_cancelled_half_way_leaves_nothing_and_lets_writers_on():
    async def scenario():
        storage = load_storage("memory://")
        await make_org(storage)
        big = change_set([], NO_LIMIT, creates=_holders(LARGE * 3))
        writing = asyncio.ensure_future(storage.apply_changes(big))
        for _ in range(3):
            await asyncio.sleep(0)
        assert not writing.done()
        waiting = asyncio.ensure_future(
            storage.record_sync(ORG, "late", "late@example.com", None, STANDARD, at(2))
        )
        await asyncio.sleep(0)
        writing.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writing
        late = await asyncio.wait_for(waiting, 5)
        return late, await all_users(storage), await all_audit(storage)

    late, users, audit = asyncio.run(scenario())
    assert [u.id for u in users] == ["late"] and late.id == "late"
    assert audit == []


def test_issue_9_a_writer_in_another_thread_waits_for_a_large_write_and_is_woken():
    storage = load_storage("memory://")
    asyncio.run(make_org(storage))
    started, finished = threading.Event(), {}

    def other_thread():
        async def sync():
            started.wait(5)
            user = await storage.record_sync(ORG, "t", "t@example.com", None, STANDARD, at(4))
            finished["users_seen"] = await storage.count_users(ORG, UserQuery())
            return user

        finished["user"] = asyncio.run(sync())

    async def large_write():
        big = ChangeSet(ORG, creates=_holders(LARGE * 3), seat_limits=dict(NO_LIMIT))
        writing = asyncio.ensure_future(storage.apply_changes(big))
        await asyncio.sleep(0)
        started.set()
        return await writing

    thread = threading.Thread(target=other_thread)
    thread.start()
    assert asyncio.run(large_write()) == Applied()
    thread.join(10)
    assert not thread.is_alive()
    assert finished["user"].id == "t"
    assert finished["users_seen"] == LARGE * 3 + 1


def test_issue_9_large_writes_keep_every_index_those_of_the_records(every_write_is_large):
    """Creates, switches, releases and deletes in one sliced change set: the listing order, the
    holder counts, the SPEC 5 ranking and SPEC 6's pending count equal what the records say."""

    async def scenario():
        storage = load_storage("memory://")
        await make_org(storage)
        await add_users(storage, _holders(400, prefix="a"))
        for k in range(0, 400, 7):  # pending users: synced, required a seat, grace started
            await storage.record_sync(
                ORG, f"a{k:05d}", f"a{k:05d}@example.com", None, STANDARD, at(k)
            )
            await storage.start_grace_period(ORG, f"a{k:05d}", at(k))
        users = await all_users(storage)
        changes = [(u, (U, A)) for u in users[:100]] + [(u, (U, U)) for u in users[100:200]]
        big = change_set(
            changes,
            NO_LIMIT,
            creates=_holders(300, prefix="b"),
            deletes=users[200:250],
            when=at(95),
        )
        assert await storage.apply_changes(big) == Applied()
        users = await all_users(storage)
        figures = {}
        for license_type in (STANDARD, LicenseType.INSPECTIONS):
            holders = sorted(
                (u.assigned_at, u.key) for u in users if u.active_license is license_type
            )
            figures[license_type] = (
                len(holders),
                await storage.count_holders(ORG, license_type),
                [
                    (
                        sum(1 for h in holders if h < mark),
                        await storage.holders_ranked_before(ORG, license_type, *mark),
                    )
                    for mark in holders[:: max(1, len(holders) // 7)]
                ],
                sum(1 for u in users if UserQuery(pending_for=license_type).matches(u)),
                await storage.count_users(ORG, UserQuery(pending_for=license_type)),
            )
        return users, figures, len(await all_audit(storage))

    users, figures, audited = asyncio.run(scenario())
    assert len(users) == 400 - 50 + 300
    for held, counted, ranks, pending, pending_counted in figures.values():
        assert held == counted
        assert all(expected == found for expected, found in ranks)
        assert pending == pending_counted
    assert audited == 100 * 2 + 100 + 50  # switches write two entries, releases and deletes one
