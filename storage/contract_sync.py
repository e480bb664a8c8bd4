"""The contract kit's part for `write_sync`: a sync's writes land together or not at all.

Part of `StorageContract` (see `storage/contract.py` for how a plugin runs the kit). Like the
rest of the kit, these tests play the engine's part with hand-made records and change sets.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest
from seatkeeper.domain.records import Client, MobileUser, SyncLogEntry
from seatkeeper.storage.contract_base import (
    NO_LIMIT,
    ORG,
    STANDARD,
    A,
    U,
    _ContractBase,
    add_users,
    all_audit,
    at,
    change_set,
    make_org,
    make_user,
)
from seatkeeper.storage.protocol import (
    AlreadyExists,
    ChangeSet,
    Conflict,
    EmailTaken,
    LogQuery,
    SeatShortage,
    Storage,
    SyncRecord,
    SyncWrites,
    SyncWritten,
    recorded_user,
)

__all__ = ["SyncWriteContract"]

#: The kit's `run` fixture: runs a coroutine in the test's event loop.
Run = Callable[[Coroutine[Any, Any, None]], None]


def record(user_id: str, when: datetime, email: str | None = None) -> SyncRecord:
    return SyncRecord(ORG, user_id, email or f"{user_id}@example.com", None, STANDARD, when)


def entry(user_id: str, when: datetime, ok: bool = True) -> SyncLogEntry:
    return SyncLogEntry(ORG, when, user_id, f"{user_id}@example.com", None, Client.MOBILE, ok)


async def read_user(storage: Storage, key: str) -> MobileUser:
    user = await storage.get_user(ORG, key)
    assert user is not None, f"no user {key!r}"
    return user


async def log_of(storage: Storage, user_id: str) -> list[SyncLogEntry]:
    return await storage.list_sync_log(ORG, LogQuery(user_key=user_id), 1000, None)


class SyncWriteContract(_ContractBase):
    """`write_sync`: the record, a grace start or seat change, and the log entry, atomically."""

    def test_write_sync_records_a_new_user_and_its_log_entry(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            await make_org(storage)
            sync = record("u1", at(1))
            result = await storage.write_sync(SyncWrites(sync, None, entry("u1", at(1))))
            assert isinstance(result, SyncWritten)
            assert result.user == recorded_user(None, sync)
            assert await storage.get_user(ORG, "u1") == result.user
            assert [e.at for e in await log_of(storage, "u1")] == [at(1)]

        run(check())

    def test_write_sync_updates_a_user_and_starts_its_grace_once(
        self, storage: Storage, run: Run
    ) -> None:
        """SPEC 4.1 and 4.7: the record as `recorded_user` says; the window starts once."""

        async def check() -> None:
            await make_org(storage)
            await add_users(storage, [make_user("u1")])
            before = await storage.get_user(ORG, "u1")
            sync = record("u1", at(2), email="New@Example.com")
            writes = SyncWrites(sync, before, entry("u1", at(2)), start_grace=True)
            result = await storage.write_sync(writes)
            assert result == SyncWritten(
                replace(recorded_user(before, sync), grace_started_at=at(2))
            )
            stored = await storage.get_user(ORG, "u1")
            assert stored is not None and isinstance(result, SyncWritten)
            assert stored == result.user
            assert stored.grace_started_at == at(2) and stored.email == "New@Example.com"
            assert stored.last_sync_at == at(2) and stored.first_sync_at == at(2)
            again = SyncWrites(record("u1", at(3)), stored, entry("u1", at(3)), start_grace=True)
            assert isinstance(await storage.write_sync(again), SyncWritten)
            kept = await storage.get_user(ORG, "u1")
            assert kept is not None and kept.grace_started_at == at(2)
            assert len(await log_of(storage, "u1")) == 2

        run(check())

    def test_write_sync_assigns_a_seat_to_the_user_it_creates(
        self, storage: Storage, run: Run
    ) -> None:
        """SPEC 4.6: the seat change sees the record, even for a user this write creates."""

        async def check() -> None:
            await make_org(storage)
            sync = record("u1", at(1))
            fresh = recorded_user(None, sync)
            seat = change_set([(fresh, (A, U))], {STANDARD: 1}, when=at(1))
            result = await storage.write_sync(
                SyncWrites(sync, None, entry("u1", at(1)), change_set=seat)
            )
            assert isinstance(result, SyncWritten)
            assert result.user.selectors == (A, U) and result.user.assigned_at == at(1)
            assert await storage.get_user(ORG, "u1") == result.user
            assert await storage.count_holders(ORG, STANDARD) == 1
            assert len(await all_audit(storage)) == 1
            assert len(await log_of(storage, "u1")) == 1

        run(check())

    @pytest.mark.parametrize("refusal", ["basis", "shortage", "change conflict"])
    def test_a_refused_write_sync_writes_no_seat_no_grace_and_no_entry(
        self, storage: Storage, run: Run, refusal: str
    ) -> None:
        """Nothing of a refused sync lands but, on a backend without multi-document atomicity,
        its record (MongoDB); SQLite and memory write nothing at all."""

        async def check() -> None:
            await make_org(storage)
            await add_users(storage, [make_user("holder", A), make_user("u1")])
            stored = await read_user(storage, "u1")
            expected: MobileUser = stored
            limits = dict(NO_LIMIT)
            seat_for = stored
            if refusal == "basis":  # the engine read the user before a grace window started
                await storage.start_grace_period(ORG, "u1", at(1))
                stored = await read_user(storage, "u1")
            elif refusal == "shortage":
                limits = {STANDARD: 1}
            else:  # the change expects selectors the user no longer has
                seat_for = make_user("u1", U, A, assigned_at=at(0))
            seat = change_set([(seat_for, (A, U))], limits, when=at(2))
            writes = SyncWrites(
                record("u1", at(2)), expected, entry("u1", at(2)), True, change_set=seat
            )
            result = await storage.write_sync(writes)
            wanted = {"basis": Conflict, "shortage": SeatShortage, "change conflict": Conflict}
            assert isinstance(result, wanted[refusal]), result
            after = await read_user(storage, "u1")
            assert (after.selectors, after.assigned_at, after.grace_started_at) == (
                stored.selectors,
                stored.assigned_at,
                stored.grace_started_at,
            )
            assert await storage.count_holders(ORG, STANDARD) == 1
            assert await all_audit(storage) == []
            assert await log_of(storage, "u1") == []

        run(check())

    def test_write_sync_refuses_another_users_email_writing_nothing(
        self, storage: Storage, run: Run
    ) -> None:
        """Invariant 3: EmailTaken, and neither the user nor the entry is written."""

        async def check() -> None:
            await make_org(storage)
            await add_users(storage, [make_user("u1", email="ann@example.com")])
            sync = record("u2", at(1), email="ANN@example.com")
            with pytest.raises(EmailTaken):
                await storage.write_sync(SyncWrites(sync, None, entry("u2", at(1))))
            assert await storage.get_user(ORG, "u2") is None
            assert await log_of(storage, "u2") == []

        run(check())

    def test_write_sync_for_an_unknown_organization_raises_lookup_error(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            await make_org(storage)
            sync = SyncRecord("nowhere", "u1", "u1@example.com", None, STANDARD, at(1))
            log = SyncLogEntry("nowhere", at(1), "u1", "u1@example.com", None, Client.MOBILE, True)
            with pytest.raises(LookupError):
                await storage.write_sync(SyncWrites(sync, None, log))
            assert await storage.list_sync_log("nowhere", LogQuery(), 10, None) == []

        run(check())

    def test_write_sync_results_are_the_apply_changes_refusals(
        self, storage: Storage, run: Run
    ) -> None:
        """AlreadyExists from a change set's create is returned as it is, nothing written."""

        async def check() -> None:
            await make_org(storage)
            await add_users(storage, [make_user("u1"), make_user("taken")])
            before = await storage.get_user(ORG, "u1")
            seat = ChangeSet(ORG, creates=[make_user("taken")], seat_limits=dict(NO_LIMIT))
            writes = SyncWrites(record("u1", at(1)), before, entry("u1", at(1)), change_set=seat)
            assert isinstance(await storage.write_sync(writes), AlreadyExists)
            assert await log_of(storage, "u1") == []

        run(check())
