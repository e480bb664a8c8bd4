"""The memory plugin answers SPEC 6's pending count from an index, not a scan (issue 14, B15a).

The kit (storage/contract.py) checks that the count stays exactly `UserQuery.matches`; these
tests check that it reads no user record, however many users the organization holds, and that
the index follows every write that can make a user pending or not.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from seatkeeper.domain.records import LicenseState, LicenseType, MobileUser
from seatkeeper.storage import UserQuery, load_storage
from seatkeeper.storage.contract import (
    NO_LIMIT,
    ORG,
    add_users,
    at,
    change_set,
    make_org,
    make_user,
)

A, U, D = LicenseState.ASSIGNED, LicenseState.UNASSIGNED, LicenseState.DISABLED
STANDARD, INSPECTIONS = LicenseType.STANDARD, LicenseType.INSPECTIONS


class _CountingDict(dict[str, MobileUser]):
    """A dict of users that counts every record read through it (by key or by iterating)."""

    reads = 0

    def __getitem__(self, key: str) -> MobileUser:
        self.reads += 1
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.reads += 1
        return super().get(key, default)

    def values(self) -> Any:
        for value in super().values():
            self.reads += 1
            yield value

    def items(self) -> Any:
        for item in super().items():
            self.reads += 1
            yield item

    def __iter__(self) -> Iterator[str]:
        for key in super().__iter__():
            self.reads += 1
            yield key


def _population(size: int) -> list[MobileUser]:
    """`size` users: most hold a seat or need none; every 100th is pending, grace 0–9 days."""
    users = []
    for n in range(size):
        user = make_user(f"u{n:05d}", A if n % 3 == 0 else U, assigned_at=at(0))
        if n % 100 == 1:
            user.last_required = STANDARD if n % 200 == 1 else INSPECTIONS
            user.grace_started_at = at(0) + timedelta(days=(n // 100) % 10)
        users.append(user)
    return users


def test_spec_6_issue_14_pending_count_reads_no_user_record_at_10000_users() -> None:
    """B15a: the subscriptions view's pending count scanned every user (9 → 86 ms at 100 →
    100,000 users). It is now answered from a per-type sorted index: no user record is read."""

    async def scenario() -> list[tuple[int, int, int]]:
        storage = load_storage("memory://")
        await make_org(storage)
        users = _population(10_000)
        await add_users(storage, users)
        tenant = storage._tenants[ORG]  # type: ignore[attr-defined]  # the plugin's own state
        tenant.users = counting = _CountingDict(tenant.users)
        results = []
        for license_type in (STANDARD, INSPECTIONS):
            for since in (None, at(0) + timedelta(days=4)):
                query = UserQuery(pending_for=license_type, grace_since=since)
                counting.reads = 0
                counted = await storage.count_users(ORG, query)
                reads = counting.reads
                results.append((counted, sum(1 for u in users if query.matches(u)), reads))
        return results

    results = asyncio.run(scenario())
    assert all(counted == expected for counted, expected, _ in results), results
    assert all(counted > 0 for counted, _, _ in results)
    assert [reads for _, _, reads in results] == [0, 0, 0, 0]


def test_spec_6_pending_index_follows_syncs_grace_starts_changes_and_deletes() -> None:
    """Every write that can make a user pending or not keeps the count equal to `matches`."""

    async def scenario() -> None:
        storage = load_storage("memory://")
        await make_org(storage)
        await add_users(storage, [make_user(f"u{n}", U) for n in range(4)])

        async def check(expected_standard: int, expected_inspections: int) -> None:
            everyone = await storage.list_users(ORG, UserQuery(), 100, None)
            for license_type, expected in (
                (STANDARD, expected_standard),
                (INSPECTIONS, expected_inspections),
            ):
                for since in (None, at(1), at(5)):
                    query = UserQuery(pending_for=license_type, grace_since=since)
                    truth = sum(1 for u in everyone if query.matches(u))
                    assert await storage.count_users(ORG, query) == truth, query
                assert await storage.count_users(ORG, UserQuery(pending_for=license_type)) == (
                    expected
                )

        await check(0, 0)
        await storage.record_sync(ORG, "u0", "u0@example.com", None, STANDARD, at(1))
        await check(0, 0)  # no grace window yet
        await storage.start_grace_period(ORG, "u0", at(2))
        await check(1, 0)
        await storage.record_sync(ORG, "u0", "u0@example.com", "New Name", INSPECTIONS, at(3))
        await check(0, 1)  # the latest sync required another type (and the name re-indexed)
        await storage.record_sync(ORG, "u1", "u1@example.com", None, INSPECTIONS, at(3))
        await storage.start_grace_period(ORG, "u1", at(6))
        await check(0, 2)
        u0 = await storage.get_user(ORG, "u0")
        assert u0 is not None
        await storage.apply_changes(change_set([(u0, (U, D))], NO_LIMIT))
        await check(0, 1)  # disabled for the type it requires
        u0 = await storage.get_user(ORG, "u0")
        assert u0 is not None
        await storage.apply_changes(change_set([(u0, (U, U))], NO_LIMIT))
        await check(0, 2)  # enabled again: pending again
        u1 = await storage.get_user(ORG, "u1")
        assert u1 is not None
        await storage.apply_changes(change_set([(u1, (U, A))], NO_LIMIT, when=at(7)))
        await check(0, 1)  # holds the seat now
        u0 = await storage.get_user(ORG, "u0")
        assert u0 is not None
        await storage.apply_changes(change_set([], NO_LIMIT, deletes=[u0]))
        await check(0, 0)

    asyncio.run(scenario())
