"""The contract kit has teeth: backends with classic mistakes fail the kit test aimed at them.

Each mutant is the memory plugin with one promise of the Storage protocol broken the way a real
backend might break it. The kit's own test methods are called directly, with the fixtures they
ask for, on the mutant (must fail) and on the unbroken plugin (must pass).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from seatkeeper.plugins.memory import MemoryStorage
from seatkeeper.storage import Applied, ChangeSet, SeatShortage, UserQuery, contract


class ReadDecideWrite(MemoryStorage):
    """Checks the seat limit, yields, then writes without the check: the race SPEC 2.1 forbids."""

    async def apply_changes(self, change_set: ChangeSet):
        current = await self.get_users(
            change_set.organization_id, [c.user_key for c in change_set.changes]
        )
        for license_type, gained in change_set.holder_delta(current).items():
            holders = await self.count_holders(change_set.organization_id, license_type)
            if gained > 0 and holders + gained > change_set.seat_limits.get(license_type, 0):
                return SeatShortage(license_type, holders, gained)
        await asyncio.sleep(0)
        return await super().apply_changes(replace(change_set, seat_limits=dict(contract.NO_LIMIT)))


class OneChangeAtATime(MemoryStorage):
    """Applies a change set one change after another: not all or nothing."""

    async def apply_changes(self, change_set: ChangeSet):
        for change in change_set.changes:
            result = await super().apply_changes(replace(change_set, changes=[change], audit=[]))
            if not isinstance(result, Applied):
                return result
        return await super().apply_changes(replace(change_set, changes=[]))


class LowercaseSearch(MemoryStorage):
    """Searches with str.lower(), as a case-insensitive regex would, not casefold: 'ß' ≠ 'ss'."""

    def _search(self, query: UserQuery, users):
        needle = (query.search or "").lower()
        return [
            u
            for u in users
            if needle in u.id.lower() or needle in u.full_name.lower() or needle in u.email.lower()
        ]

    async def list_users(self, organization_id, query, first, after):
        users = await super().list_users(organization_id, replace(query, search=None), 10**9, after)
        return self._search(query, users)[:first]

    async def count_users(self, organization_id, query):
        return len(await self.list_users(organization_id, query, 10**9, None))


class NewestKeyWinsTies(MemoryStorage):
    """Finds the longest inactive holder but breaks ties the wrong way round."""

    async def find_longest_inactive_holder(self, organization_id, license_type, cutoff):
        holders = await self.list_users(
            organization_id, UserQuery(selector=(license_type, contract.A)), 10**9, None
        )
        candidates = [u for u in holders if (u.last_sync_at or u.assigned_at) <= cutoff]
        candidates.sort(key=lambda u: u.key, reverse=True)  # ties: larger key first (wrong)
        candidates.sort(key=lambda u: (u.last_sync_at or u.assigned_at, u.assigned_at))
        return candidates[0] if candidates else None


class PurgesOneOrganization(MemoryStorage):
    """Purges the sync log of the first organization only."""

    async def purge_sync_log(self, before):
        with self._lock:
            first = next(iter(self._tenants.values()))
            return first.sync_log.purge(before)


CASES = [
    (
        ReadDecideWrite,
        contract.ConcurrencyContract,
        "test_spec_2_1_tasks_racing_for_seats_never_over_allocate",
    ),
    (
        ReadDecideWrite,
        contract.ConcurrencyContract,
        "test_spec_2_1_and_2_2_concurrent_switches_and_frees_tasks",
    ),
    (
        OneChangeAtATime,
        contract.ApplyChangesContract,
        "test_conflict_on_stale_expectation_writes_nothing",
    ),
    (
        LowercaseSearch,
        contract.UserListContract,
        "test_spec_6a_list_users_order_filters_and_counts",
    ),
    (
        NewestKeyWinsTies,
        contract.HolderQueryContract,
        "test_spec_4_6_2_ties_broken_by_assigned_at_then_key",
    ),
    (
        PurgesOneOrganization,
        contract.LogContract,
        "test_spec_8_purge_sync_log_drops_older_entries_of_every_organization",
    ),
]


def run_kit_test(backend_class: type[MemoryStorage], kit_class: type, test_name: str) -> None:
    """Call one kit test as pytest would: a fresh backend and the test's one event loop."""
    with asyncio.Runner() as runner:
        storage = backend_class("memory://")
        runner.run(storage.open())
        getattr(kit_class(), test_name)(storage=storage, run=runner.run)


@pytest.mark.parametrize(
    ("mutant", "kit_class", "test_name"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_the_kit_catches_a_broken_backend(mutant, kit_class, test_name):
    with pytest.raises(AssertionError):
        run_kit_test(mutant, kit_class, test_name)


@pytest.mark.parametrize(("kit_class", "test_name"), sorted({(c[1], c[2]) for c in CASES}, key=str))
def test_the_same_kit_tests_pass_on_the_memory_plugin(kit_class, test_name):
    run_kit_test(MemoryStorage, kit_class, test_name)


def test_the_kit_requires_a_storage_factory():
    """Without a `storage_factory` fixture the kit does not silently test nothing."""
    fixtures = {name for cls in contract.StorageContract.__mro__ for name in vars(cls)}
    assert "storage_factory" not in fixtures  # pytest reports "fixture 'storage_factory' not found"
    assert "storage" in fixtures and "run" in fixtures
