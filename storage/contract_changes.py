"""The storage contract kit, part 3: `apply_changes`, the one write path of the engine.

Part of `StorageContract` (see `storage/contract.py` for how a plugin runs the kit). Checks that
a change set commits all or nothing: `Applied` with its audit entries, or `Conflict`,
`EmailTaken`, `SeatShortage` and nothing changed; expected versions, seat limits and deletions.
"""

from __future__ import annotations

from dataclasses import replace

from seatkeeper.storage.contract_base import (
    INSPECTIONS,
    NO_LIMIT,
    ORG,
    OTHER_ORG,
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
    present,
)
from seatkeeper.storage.protocol import (
    AlreadyExists,
    Applied,
    ChangeSet,
    Conflict,
    SeatShortage,
    Storage,
    user_sort_key,
)

# ------------------------------------------------------------------------- apply_changes


class ApplyChangesContract(_ContractBase):
    """`apply_changes`: compare-and-set, seat limits, all or nothing (SPEC 2)."""

    def test_applied_writes_both_selectors_assigned_at_and_audit(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            await make_org(storage)
            u1, u2 = make_user("u1"), make_user("u2", A, assigned_at=at(1))
            await add_users(storage, [u1, u2])
            changes = change_set(
                [(u1, (A, D)), (u2, (U, A))], {STANDARD: 1, INSPECTIONS: 1}, when=at(5)
            )
            assert await storage.apply_changes(changes) == Applied()
            stored = await storage.get_users(ORG, ["u1", "u2"])
            assert (stored["u1"].selectors, stored["u1"].assigned_at) == ((A, D), at(5))
            assert (stored["u2"].selectors, stored["u2"].assigned_at) == ((U, A), at(5))
            assert stored["u1"].email == u1.email and stored["u1"].created_at == u1.created_at
            assert await storage.count_holders(ORG, STANDARD) == 1
            assert await storage.count_holders(ORG, INSPECTIONS) == 1
            assert sorted(e.id for e in await all_audit(storage)) == sorted(
                e.id for e in changes.audit
            )
            assert len(changes.audit) == 4

        run(check())

    def test_release_clears_assigned_at(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage)
            holder = make_user("u1", A, assigned_at=at(1))
            await add_users(storage, [holder])
            assert (
                await storage.apply_changes(
                    change_set([(holder, (D, U))], {STANDARD: 0, INSPECTIONS: 0})
                )
                == Applied()
            )
            user = present(await storage.get_user(ORG, "u1"))
            assert (user.selectors, user.assigned_at) == ((D, U), None)
            assert await storage.count_holders(ORG, STANDARD) == 0

        run(check())

    def test_conflict_on_stale_expectation_writes_nothing(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage)
            users = [make_user(f"u{i}") for i in range(5)]
            await add_users(storage, users)
            stale = replace(users[3], standard=D)  # the engine read D; the store holds U
            changes = change_set(
                [(u, (A, U)) for u in users[:3]] + [(stale, (A, U)), (users[4], (U, A))], NO_LIMIT
            )
            result = await storage.apply_changes(changes)
            assert isinstance(result, Conflict) and "u3" in result.user_keys
            assert await all_users(storage) == sorted(users, key=user_sort_key)
            assert await all_audit(storage) == []
            assert await storage.count_holders(ORG, STANDARD) == 0

        run(check())

    def test_conflict_on_missing_user_writes_nothing(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage)
            present = make_user("present")
            await add_users(storage, [present])
            ghost = make_user("ghost")
            for changes in (
                change_set([(present, (A, U)), (ghost, (A, U))], NO_LIMIT),
                change_set([(present, (A, U))], NO_LIMIT, deletes=[ghost]),
            ):
                result = await storage.apply_changes(changes)
                assert isinstance(result, Conflict) and "ghost" in result.user_keys
            assert await all_users(storage) == [present]
            assert await all_audit(storage) == []

        run(check())

    def test_conflict_on_stale_deletion_writes_nothing(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage)
            victim, bystander = make_user("victim", A), make_user("bystander")
            await add_users(storage, [victim, bystander])
            stale = replace(victim, standard=U)
            result = await storage.apply_changes(
                change_set([(bystander, (D, D))], NO_LIMIT, deletes=[stale])
            )
            assert isinstance(result, Conflict) and "victim" in result.user_keys
            assert await all_users(storage) == [bystander, victim]

        run(check())

    def test_already_exists_by_id_or_email_case_insensitively(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            await make_org(storage)
            guid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
            existing = [make_user(guid, email="taken@example.com"), make_user("plain")]
            await add_users(storage, existing)
            fresh = make_user("fresh")
            for collider, field in (
                (make_user("{" + guid.upper() + "}", email="other@example.com"), "key"),
                (make_user("plain", email="other2@example.com"), "key"),
                (make_user("newcomer", email="TAKEN@Example.COM"), "email"),
            ):
                result = await storage.apply_changes(
                    ChangeSet(ORG, creates=[fresh, collider], seat_limits=dict(NO_LIMIT))
                )
                assert isinstance(result, AlreadyExists), result
                if field == "key":
                    assert collider.key in result.user_keys
                else:
                    assert "taken@example.com" in result.emails
            assert await all_users(storage) == sorted(existing, key=user_sort_key)
            # Another organization does not collide.
            await make_org(storage, OTHER_ORG)
            await add_users(
                storage, [make_user("plain", org=OTHER_ORG, email="taken@example.com")], OTHER_ORG
            )

        run(check())

    def test_spec_2_1_seat_shortage_writes_nothing(self, storage: Storage, run: Run) -> None:
        """Invariant 1: a change set that would raise a type above its limit is refused whole."""

        async def check() -> None:
            await make_org(storage)
            holders = [make_user(f"h{i}", A) for i in range(3)]
            waiting = [make_user(f"w{i}") for i in range(3)]
            await add_users(storage, holders + waiting)
            changes = change_set(
                [(waiting[0], (A, U)), (waiting[1], (A, U)), (waiting[2], (U, A))],
                {STANDARD: 4, INSPECTIONS: 5},
                creates=[make_user("new", D, U)],
            )
            assert await storage.apply_changes(changes) == SeatShortage(STANDARD, 3, 2)
            # A create that brings a seat counts too.
            born_holder = ChangeSet(
                ORG, creates=[make_user("born", A)], seat_limits={STANDARD: 3, INSPECTIONS: 5}
            )
            assert await storage.apply_changes(born_holder) == SeatShortage(STANDARD, 3, 1)
            assert await all_users(storage) == sorted(holders + waiting, key=user_sort_key)
            assert await all_audit(storage) == []
            assert await storage.count_holders(ORG, STANDARD) == 3
            # Exactly at the limit is allowed.
            exact = change_set([(waiting[0], (A, U))], {STANDARD: 4, INSPECTIONS: 0})
            assert await storage.apply_changes(exact) == Applied()
            assert await storage.count_holders(ORG, STANDARD) == 4

        run(check())

    def test_spec_5_change_that_does_not_raise_holders_passes_over_the_limit(
        self, storage: Storage, run: Run
    ) -> None:
        """SPEC 5: capacity fell below the holders; a change that does not worsen it passes."""

        async def check() -> None:
            await make_org(storage)
            h0, h1, h2 = (make_user(f"h{i}", A, assigned_at=at(i)) for i in range(3))
            newcomer = make_user("newcomer")
            await add_users(storage, [h0, h1, h2, newcomer])
            over = {STANDARD: 1, INSPECTIONS: 0}
            # Move a seat from h0 to the newcomer: holders stay at 3 > 1.
            assert (
                await storage.apply_changes(
                    change_set([(h0, (U, U)), (newcomer, (A, U))], over, when=at(10))
                )
                == Applied()
            )
            assert await storage.count_holders(ORG, STANDARD) == 3
            assert present(await storage.get_user(ORG, "newcomer")).assigned_at == at(10)
            # Disable the other selector of a holder: no holder count moves.
            assert await storage.apply_changes(change_set([(h1, (A, D))], over)) == Applied()
            # A switch raises INSPECTIONS: refused at limit 0, allowed at 1 although STANDARD stays over.
            h2 = present(await storage.get_user(ORG, "h2"))
            assert await storage.apply_changes(change_set([(h2, (U, A))], over)) == SeatShortage(
                INSPECTIONS, 0, 1
            )
            assert (
                await storage.apply_changes(
                    change_set([(h2, (U, A))], {STANDARD: 1, INSPECTIONS: 1})
                )
                == Applied()
            )
            assert await storage.count_holders(ORG, STANDARD) == 2
            assert await storage.count_holders(ORG, INSPECTIONS) == 1

        run(check())

    def test_creates_changes_and_deletes_together(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage)
            leaving, staying, switching = (
                make_user("leaving", A),
                make_user("staying"),
                make_user("switching", A),
            )
            await add_users(storage, [leaving, staying, switching])
            changes = change_set(
                [(staying, (A, U)), (switching, (U, A))],
                {STANDARD: 2, INSPECTIONS: 1},
                creates=[make_user("born", A, email="born@example.com")],
                deletes=[leaving],
            )
            assert await storage.apply_changes(changes) == Applied()
            assert await storage.get_user(ORG, "leaving") is None
            assert await storage.find_user_by_email(ORG, leaving.email) is None
            assert sorted(u.id for u in await all_users(storage)) == [
                "born",
                "staying",
                "switching",
            ]
            assert await storage.count_holders(ORG, STANDARD) == 2  # staying, born
            assert await storage.count_holders(ORG, INSPECTIONS) == 1  # switching
            assert len(await all_audit(storage)) == len(changes.audit) == 4
            # The deleted user's e-mail and id are free again.
            await add_users(storage, [make_user("leaving", email=leaving.email)])

        run(check())

    def test_organizations_are_isolated(self, storage: Storage, run: Run) -> None:
        """SPEC 1, Organization: nothing crosses from one organization to another."""

        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            mine = make_user("same-id", A)
            theirs = make_user("same-id", org=OTHER_ORG)
            await add_users(storage, [mine])
            await add_users(storage, [theirs], OTHER_ORG)
            # Their seat limit is their own: my full STANDARD does not block them.
            limits = {STANDARD: 1, INSPECTIONS: 0}
            assert (
                await storage.apply_changes(change_set([(theirs, (A, U))], limits, org=OTHER_ORG))
                == Applied()
            )
            assert await storage.count_holders(ORG, STANDARD) == 1
            assert await storage.count_holders(OTHER_ORG, STANDARD) == 1
            # An expectation is checked against this organization's record only.
            mine_now = present(await storage.get_user(ORG, "same-id"))
            assert isinstance(
                await storage.apply_changes(
                    change_set([(replace(mine_now, standard=U), (D, U))], NO_LIMIT)
                ),
                Conflict,
            )
            assert (
                await storage.apply_changes(change_set([(mine_now, (U, U))], NO_LIMIT)) == Applied()
            )
            assert present(await storage.get_user(OTHER_ORG, "same-id")).selectors == (A, U)
            assert (
                len(await all_audit(storage)) == 1 and len(await all_audit(storage, OTHER_ORG)) == 1
            )

        run(check())
