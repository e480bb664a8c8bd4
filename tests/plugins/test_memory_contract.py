"""The memory plugin against the whole storage contract kit, built through its entry point,
plus what only the memory plugin promises (its `sync_log_cap` URL option)."""

from __future__ import annotations

import asyncio
import random

import pytest
from seatkeeper.domain.records import Client, LicenseState, LicenseType, SyncLogEntry
from seatkeeper.storage import LogQuery, StorageConfigError, load_storage
from seatkeeper.storage.contract import (
    NO_LIMIT,
    ORG,
    StorageContract,
    add_users,
    all_users,
    at,
    change_set,
    make_org,
    make_user,
)
from seatkeeper.storage.protocol import Applied, user_sort_key


@pytest.fixture
def storage_factory():
    """A fresh memory backend per test, found by URL scheme as any integrator's plugin would be."""

    async def build():
        storage = load_storage("memory://")
        await storage.open()
        return storage

    return build


class TestMemoryStorageContract(StorageContract):
    """Every promise of the Storage protocol, on `memory://` (thread-safe: one lock)."""

    supports_threads = True


def _entry(minute: int, n: int) -> SyncLogEntry:
    return SyncLogEntry(
        organization_id=ORG,
        at=at(minute),
        user_id=f"u{n}",
        email=f"u{n}@example.com",
        project_id=None,
        client=Client.MOBILE,
        ok=True,
        id=f"e{n:04d}",
    )


async def _kept_after_appending(url: str, count: int) -> list[SyncLogEntry]:
    storage = load_storage(url)
    await storage.open()
    await make_org(storage)
    for n in range(count):
        await storage.append_sync_log(_entry(n, n))
    return await storage.list_sync_log(ORG, LogQuery(), 10_000, None)


@pytest.mark.parametrize("cap", [1, 10, 50])
def test_sync_log_cap_drops_the_oldest_entries(cap):
    """The cap bounds the log per organization: the newest entries are kept, the oldest dropped.

    The plugin trims in chunks of a tenth of the cap (appends stay O(1)), so the log holds
    between `cap` and `cap + max(1, cap // 10)` entries once full.
    """
    count = cap * 3 + 7
    kept = asyncio.run(_kept_after_appending(f"memory://?sync_log_cap={cap}", count))
    assert cap <= len(kept) <= cap + max(1, cap // 10)
    assert [e.id for e in kept] == [
        f"e{n:04d}" for n in range(count - 1, count - 1 - len(kept), -1)
    ]


def test_sync_log_cap_default_keeps_everything_small():
    kept = asyncio.run(_kept_after_appending("memory://", 300))
    assert len(kept) == 300


def test_sync_log_cap_is_per_organization():
    async def scenario():
        storage = load_storage("memory://?sync_log_cap=5")
        await make_org(storage)
        await make_org(storage, "org-b")
        for n in range(20):
            await storage.append_sync_log(_entry(n, n))
        await storage.append_sync_log(
            SyncLogEntry("org-b", at(0), "b", "b@example.com", None, Client.WEB, True, id="b")
        )
        return await storage.list_sync_log("org-b", LogQuery(), 100, None)

    assert [e.id for e in asyncio.run(scenario())] == ["b"]


@pytest.mark.parametrize(
    "url",
    [
        "memory://?sync_log_cap=abc",
        "memory://?sync_log_cap=0",
        "memory://?sync_log_cap=-5",
        "memory://?sync_log_cap=1.5",
        "memory://?sync_log_cap=",
        "memory://?sync_log_cap=10&sync_log_cap=20",
        "memory://?synclogcap=10",
    ],
)
def test_bad_sync_log_cap_is_a_clear_configuration_error(url):
    with pytest.raises(StorageConfigError) as caught:
        load_storage(url)
    message = str(caught.value)
    assert "memory" in message and "sync_log_cap" in message
    assert isinstance(caught.value.__cause__, ValueError)


class _CountingDict(dict):
    """A dict that counts its item reads: how many user records an operation touches."""

    reads = 0

    def __getitem__(self, key):
        self.reads += 1
        return super().__getitem__(key)

    def get(self, key, default=None):
        self.reads += 1
        return super().get(key, default)


def test_spec_5_issue_9_finding_7_ranking_a_holder_reads_no_holder_records():
    """Finding 7: with 10,000 holders and the subscription ended (SPEC 5 over capacity), each
    holder's sync ranked itself by reading every holder. The ranking answers from the ordered
    index: it reads no user record, however many hold a seat (and stays right, see the kit)."""

    async def scenario():
        storage = load_storage("memory://")
        await make_org(storage)
        holders = [
            make_user(f"u{n:05d}", LicenseState.ASSIGNED, assigned_at=at(n % 500))
            for n in range(10_000)
        ]
        await add_users(storage, holders)
        tenant = storage._tenants[ORG]
        tenant.users = counting = _CountingDict(tenant.users)
        middle = holders[5_000]
        ahead = await storage.holders_ranked_before(
            ORG, LicenseType.STANDARD, middle.assigned_at, middle.key
        )
        expected = sum(
            1 for u in holders if (u.assigned_at, u.key) < (middle.assigned_at, middle.key)
        )
        return ahead, expected, counting.reads

    ahead, expected, reads = asyncio.run(scenario())
    assert ahead == expected
    assert reads == 0


def test_spec_5_bulk_writes_keep_the_ranking_and_the_listing_order():
    """Change sets over a thousand users rebuild the sorted indexes once (200,000 inserts one by
    one held the event loop 29 s): the ranking and SPEC 6a's order stay those of the records."""
    rng = random.Random(9)
    A, U = LicenseState.ASSIGNED, LicenseState.UNASSIGNED
    STANDARD, INSPECTIONS = LicenseType.STANDARD, LicenseType.INSPECTIONS

    async def scenario():
        storage = load_storage("memory://")
        await make_org(storage)
        await add_users(storage, [make_user(f"seed{n}", A, assigned_at=at(n)) for n in range(50)])
        await add_users(
            storage,
            [
                make_user(
                    f"u{n}",
                    *rng.choice([(A, U), (U, A), (U, U)]),
                    assigned_at=at(rng.randint(0, 40)),
                    name=f"Name {rng.randint(0, 99)}",
                )
                for n in range(1_500)
            ],
        )
        users = await all_users(storage)
        flips = [(u, (U, A) if u.standard is A else (A, U)) for u in users[:1_200]]
        assert await storage.apply_changes(change_set(flips, NO_LIMIT, when=at(50))) == Applied()
        users = await all_users(storage)
        assert [user_sort_key(u) for u in users] == sorted(user_sort_key(u) for u in users)
        assert len(users) == 1_550
        for license_type in (STANDARD, INSPECTIONS):
            holders = sorted(
                (u.assigned_at, u.key) for u in users if u.active_license is license_type
            )
            for mark in [holders[0], holders[len(holders) // 2], holders[-1], (at(99), "")]:
                expected = sum(1 for h in holders if h < mark)
                assert await storage.holders_ranked_before(ORG, license_type, *mark) == expected

    asyncio.run(scenario())
