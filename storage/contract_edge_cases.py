"""The storage contract kit, part 8: edge cases of one change set the protocol
settled (issue 11): a user changed, deleted or created twice, delete-then-recreate, which refusal
wins (`Conflict`, then `AlreadyExists`, then `SeatShortage`), and unknown organizations.

Part of `StorageContract` (see `storage/contract.py` for how a plugin runs the kit).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from seatkeeper.domain.records import (
    Client,
    Project,
    ProjectKind,
    Settings,
    SyncLogEntry,
)
from seatkeeper.storage.contract_base import (
    INSPECTIONS,
    NO_LIMIT,
    ORG,
    STANDARD,
    A,
    D,
    Run,
    U,
    _ContractBase,
    add_users,
    all_audit,
    all_users,
    at,
    change_set,
    make_org,
    make_user,
)
from seatkeeper.storage.protocol import (
    AlreadyExists,
    Applied,
    ChangeSet,
    Conflict,
    LogQuery,
    SeatShortage,
    Storage,
    UserQuery,
)

# ------------------------------------------------------------------------- edge cases


class EdgeCaseContract(_ContractBase):
    """The cases the protocol's docstrings settle that a plugin author might not think of:
    repeated users in one change set, delete-then-recreate, unknown organizations, and which
    refusal wins when several apply (issue 11)."""

    def test_a_user_changed_or_deleted_twice_in_one_change_set_is_a_conflict(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            await make_org(storage)
            u1, u2 = make_user("u1"), make_user("u2")
            await add_users(storage, [u1, u2])
            twice = change_set([(u1, (A, U)), (u1, (U, A))], NO_LIMIT)
            result = await storage.apply_changes(twice)
            assert isinstance(result, Conflict) and "u1" in result.user_keys
            changed_and_deleted = change_set([(u2, (A, U))], NO_LIMIT, deletes=[u2])
            result = await storage.apply_changes(changed_and_deleted)
            assert isinstance(result, Conflict) and "u2" in result.user_keys
            assert await all_users(storage) == [u1, u2] and await all_audit(storage) == []

        run(check())

    def test_a_user_created_twice_or_an_email_twice_in_one_change_set_already_exists(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            await make_org(storage)
            same_id = [
                make_user("dup", email="a@example.com"),
                make_user("dup", email="b@example.com"),
            ]
            result = await storage.apply_changes(
                ChangeSet(ORG, creates=same_id, seat_limits=dict(NO_LIMIT))
            )
            assert isinstance(result, AlreadyExists) and "dup" in result.user_keys
            same_email = [
                make_user("x1", email="Same@example.com"),
                make_user("x2", email="same@EXAMPLE.com"),
            ]
            result = await storage.apply_changes(
                ChangeSet(ORG, creates=same_email, seat_limits=dict(NO_LIMIT))
            )
            assert isinstance(result, AlreadyExists) and "same@example.com" in result.emails
            assert await all_users(storage) == []

        run(check())

    def test_delete_then_recreate_in_one_change_set_replaces_the_user(
        self, storage: Storage, run: Run
    ) -> None:
        """A deletion frees its id and e-mail for a create of the same change set."""

        async def check() -> None:
            await make_org(storage)
            old = make_user("same", A, email="same@example.com", name="Old")
            await add_users(storage, [old])
            new = make_user("same", U, A, email="same@example.com", name="New", assigned_at=at(3))
            changes = change_set([], {STANDARD: 0, INSPECTIONS: 1}, creates=[new], deletes=[old])
            assert await storage.apply_changes(changes) == Applied()
            assert await all_users(storage) == [new]
            assert await storage.count_holders(ORG, STANDARD) == 0
            assert await storage.count_holders(ORG, INSPECTIONS) == 1

        run(check())

    def test_which_refusal_wins_conflict_then_already_exists_then_seat_shortage(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            await make_org(storage)
            holder, waiting = make_user("holder", A), make_user("waiting")
            await add_users(storage, [holder, waiting])
            stale = replace(waiting, standard=D)
            taken = make_user("holder", email="other@example.com")
            full = {STANDARD: 1, INSPECTIONS: 0}
            # All three problems at once: the stale expectation wins.
            everything = change_set([(stale, (A, U))], full, creates=[taken])
            assert isinstance(await storage.apply_changes(everything), Conflict)
            # A taken id and a seat shortage: the taken id wins.
            both = change_set([(waiting, (A, U))], full, creates=[taken])
            assert isinstance(await storage.apply_changes(both), AlreadyExists)
            # Both seat types short: STANDARD is named first.
            two_short = change_set(
                [(waiting, (A, U))],
                {STANDARD: 1, INSPECTIONS: 0},
                creates=[make_user("inspector", U, A)],
            )
            assert await storage.apply_changes(two_short) == SeatShortage(STANDARD, 1, 1)
            assert await all_users(storage) == [holder, waiting]

        run(check())

    def test_unknown_organization_reads_are_empty_and_writes_change_nothing(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            await make_org(storage)
            nobody = "no-such-org"
            assert await storage.get_organization(nobody) is None
            assert await storage.list_projects(nobody) == []
            assert await storage.list_subscriptions(nobody) == []
            assert await storage.get_user(nobody, "u1") is None
            assert await storage.get_users(nobody, ["u1"]) == {}
            assert await storage.count_users(nobody, UserQuery()) == 0
            assert await storage.count_holders(nobody, STANDARD) == 0
            assert await storage.list_users(nobody, UserQuery(), 10, None) == []
            assert await storage.start_grace_period(nobody, "u1", at(1)) is None
            assert await storage.update_settings(nobody, Settings()) is None
            await storage.upsert_project(Project(nobody, "p", "P", ProjectKind.STANDARD))
            assert await storage.get_project(nobody, "p") is None
            await storage.append_sync_log(
                SyncLogEntry(nobody, at(1), "u1", "u1@example.com", None, Client.API, True)
            )
            assert await storage.list_sync_log(nobody, LogQuery(), 10, None) == []
            with pytest.raises(LookupError):
                await storage.record_sync(nobody, "u1", "u1@example.com", None, STANDARD, at(1))
            with pytest.raises(LookupError):
                await storage.apply_changes(
                    ChangeSet(nobody, creates=[make_user("u1", org=nobody)], seat_limits=NO_LIMIT)
                )
            assert await storage.list_organizations() == [await storage.get_organization(ORG)]

        run(check())
