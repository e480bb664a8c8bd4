"""The multi-process kit fails a plugin that is atomic only inside one process (issue 11).

`InProcessLockStorage` is deliberately broken: it checks the seat limit and the expectations
under an asyncio lock of its own process, then writes (on SQLite, without a limit). Inside one
process that is correct (it passes the threaded kit's task races); across processes two checks
pass before either write lands, and the kit must see the over-allocation.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from seatkeeper.domain.records import SEAT_TYPES
from seatkeeper.plugins.sqlite import SQLiteStorage
from seatkeeper.storage.contract_processes import MultiProcessContract
from seatkeeper.storage.protocol import ApplyResult, ChangeSet, Conflict, SeatShortage


class InProcessLockStorage(SQLiteStorage):
    """Broken on purpose: read, decide and write under a lock that only this process sees."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._guard: asyncio.Lock | None = None

    async def apply_changes(self, change_set: ChangeSet) -> ApplyResult:
        self._guard = self._guard or asyncio.Lock()
        async with self._guard:
            org = change_set.organization_id
            keys = [c.user_key for c in change_set.changes]
            current = await self.get_users(org, keys)
            stale = [
                c.user_key
                for c in change_set.changes
                if current[c.user_key].selectors != c.expected
            ]
            if stale:
                return Conflict(tuple(stale))
            for license_type, gained in change_set.holder_delta(current).items():
                holders = await self.count_holders(org, license_type)
                if gained > 0 and holders + gained > change_set.seat_limits.get(license_type, 0):
                    return SeatShortage(license_type, holders, gained)
            # The write lands a moment later, as on a busy disk: long enough that the processes'
            # checks overlap even on a loaded machine (with 0.05 s the kit once saw no race).
            await asyncio.sleep(0.2)
            unlimited = {t: 10**9 for t in SEAT_TYPES}
            return await super().apply_changes(replace(change_set, seat_limits=unlimited))


class BrokenKit(MultiProcessContract):
    open_storage = InProcessLockStorage


def test_the_kit_fails_a_plugin_that_locks_only_in_its_own_process(tmp_path):
    races = BrokenKit.run_races(f"sqlite:///{tmp_path}/broken.db")
    with pytest.raises(AssertionError, match="assignments landed for 10 seats"):
        BrokenKit().test_spec_2_1_processes_racing_for_the_last_seats_never_over_allocate(races)


def test_the_same_plugin_inside_one_process_keeps_the_limit(tmp_path):
    """What makes it a trap: with tasks of one process only, the seat limit holds."""
    from seatkeeper.storage.contract import (
        ORG,
        STANDARD,
        A,
        U,
        add_users,
        at,
        change_set,
        make_org,
        make_user,
    )

    async def race():
        storage = InProcessLockStorage(f"sqlite:///{tmp_path}/one.db")
        await make_org(storage)
        await add_users(storage, [make_user(f"w{i}") for i in range(50)])
        users = await storage.get_users(ORG, [f"w{i}" for i in range(50)])
        results = await asyncio.gather(
            *(
                storage.apply_changes(change_set([(u, (A, U))], {STANDARD: 10}, when=at(1)))
                for u in users.values()
            )
        )
        holders = await storage.count_holders(ORG, STANDARD)
        await storage.close()
        return sum(type(r).__name__ == "Applied" for r in results), holders

    assert asyncio.run(race()) == (10, 10)
