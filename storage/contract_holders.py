"""The storage contract kit, part 4: holder queries — the seat counts and rankings
the rules engine reads: holders counted per seat, ranked before a user (SPEC 5) and the longest
inactive holder, ties broken by `assigned_at` then key (SPEC 4.6.2).

Part of `StorageContract` (see `storage/contract.py` for how a plugin runs the kit).
"""

from __future__ import annotations

import random
import uuid

from seatkeeper.domain.records import (
    MobileUser,
)
from seatkeeper.storage.contract_base import (
    NO_LIMIT,
    ORG,
    OTHER_ORG,
    SEATS,
    STANDARD,
    A,
    D,
    Run,
    U,
    _ContractBase,
    add_users,
    all_users,
    at,
    change_set,
    held_at,
    make_org,
    make_user,
    present,
)
from seatkeeper.storage.protocol import (
    Applied,
    Storage,
    UserQuery,
)

# -------------------------------------------------------------------------- holder queries


class HolderQueryContract(_ContractBase):
    """count_holders, holders_ranked_before (SPEC 5), find_longest_inactive_holder (SPEC 4.6.2)."""

    @staticmethod
    def population() -> list[MobileUser]:
        rng = random.Random(7)
        users = []
        for i in range(40):
            seat = rng.choice([(A, U), (U, A), (A, D), (D, A), (U, U), (D, D)])
            holder = A in seat
            last_sync = rng.choice([None, at(rng.randint(0, 30))])
            user_id = (
                str(uuid.UUID(int=rng.getrandbits(128))).upper()
                if i % 5 == 0
                else f"u{rng.randint(0, 9)}-{i}"
            )
            users.append(
                make_user(
                    user_id,
                    *seat,
                    assigned_at=at(rng.randint(0, 10)) if holder else None,
                    last_sync_at=last_sync,
                    first_sync_at=last_sync,
                )
            )
        return users

    def test_count_holders(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage)
            users = self.population()
            await add_users(storage, users)
            for license_type in SEATS:
                expected = sum(1 for u in users if u.active_license is license_type)
                assert await storage.count_holders(ORG, license_type) == expected > 0
                assert (
                    await storage.count_users(ORG, UserQuery(selector=(license_type, A)))
                    == expected
                )
            assert await storage.count_holders(OTHER_ORG, STANDARD) == 0

        run(check())

    def test_spec_5_holders_ranked_before(self, storage: Storage, run: Run) -> None:
        """SPEC 5: holders rank by assignedAt, ties by id (the stored key)."""

        async def check() -> None:
            await make_org(storage)
            users = self.population()
            await add_users(storage, users)
            for license_type in SEATS:
                holders = [u for u in users if u.active_license is license_type]
                marks = [(held_at(u), u.key) for u in holders]
                marks += [(at(m), k) for m in (-1, 0, 5, 11) for k in ("", "u5", "\U0010ffff")]
                for mark in marks:
                    expected = sum(1 for u in holders if (held_at(u), u.key) < mark)
                    assert (
                        await storage.holders_ranked_before(ORG, license_type, *mark) == expected
                    ), mark

        run(check())

    def test_spec_5_holders_ranked_before_follows_every_change(
        self, storage: Storage, run: Run
    ) -> None:
        """SPEC 5's ranking stays right after seats are released, taken, switched, re-taken
        later, users deleted and renamed: a backend keeping its own ordered index must keep it
        current on every write."""

        async def check_ranking() -> None:
            users = await all_users(storage)
            for license_type in SEATS:
                holders = [u for u in users if u.active_license is license_type]
                marks = [(held_at(u), u.key) for u in holders]
                marks += [(at(m), k) for m in (-1, 5, 30) for k in ("", "u5", "\U0010ffff")]
                for mark in marks:
                    expected = sum(1 for u in holders if (held_at(u), u.key) < mark)
                    got = await storage.holders_ranked_before(ORG, license_type, *mark)
                    assert got == expected, (license_type, mark)

        async def check() -> None:
            await make_org(storage)
            await add_users(storage, self.population())
            await check_ranking()
            users = await all_users(storage)
            holders = [u for u in users if u.active_license is not None]
            others = [u for u in users if u.active_license is None and D not in u.selectors]
            changes = [(u, (U, U)) for u in holders[:4]]  # released
            changes += [(u, (A, U)) for u in others[:3]]  # taken, ranked last (later)
            changes += [(u, (U, A) if u.standard is A else (A, U)) for u in holders[4:7]]
            result = await storage.apply_changes(change_set(changes, NO_LIMIT, when=at(20)))
            assert result == Applied()
            await check_ranking()
            users = await all_users(storage)
            holders = [u for u in users if u.active_license is not None]
            result = await storage.apply_changes(change_set([], NO_LIMIT, deletes=holders[:3]))
            assert result == Applied()
            await check_ranking()
            renamed = holders[3]
            await storage.record_sync(
                ORG, renamed.id, "renamed@example.com", "Renamed", STANDARD, at(21)
            )
            await check_ranking()
            assert await storage.holders_ranked_before(OTHER_ORG, STANDARD, at(30), "") == 0

        run(check())

    def test_spec_4_6_2_find_longest_inactive_holder(self, storage: Storage, run: Run) -> None:
        """SPEC 4.6.2: inactive longest (lastSyncAt, else assignedAt) at or before the cutoff;
        ties by older assignedAt, then smaller id."""

        async def check() -> None:
            await make_org(storage)
            users = self.population()
            await add_users(storage, users)
            for license_type in SEATS:
                holders = [u for u in users if u.active_license is license_type]
                activities = sorted({u.last_sync_at or held_at(u) for u in holders})
                for cutoff in [at(-1), *activities, at(100)]:
                    candidates = [u for u in holders if (u.last_sync_at or held_at(u)) <= cutoff]
                    expected = min(
                        candidates,
                        key=lambda u: (u.last_sync_at or held_at(u), held_at(u), u.key),
                        default=None,
                    )
                    assert (
                        await storage.find_longest_inactive_holder(ORG, license_type, cutoff)
                        == expected
                    ), cutoff
            assert await storage.find_longest_inactive_holder(OTHER_ORG, STANDARD, at(100)) is None

        run(check())

    def test_spec_4_6_2_ties_broken_by_assigned_at_then_key(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            await make_org(storage)
            same = at(5)
            users = [
                make_user("b", A, assigned_at=at(2), last_sync_at=same),
                make_user("a", A, assigned_at=at(2), last_sync_at=same),
                make_user("c", A, assigned_at=at(1), last_sync_at=same),
                make_user("never-synced", A, assigned_at=at(6)),
                make_user("inspector", U, A, assigned_at=at(0), last_sync_at=at(0)),
            ]
            await add_users(storage, users)
            assert (
                present(await storage.find_longest_inactive_holder(ORG, STANDARD, same)).id == "c"
            )
            await storage.apply_changes(change_set([(users[2], (U, U))], NO_LIMIT))
            assert (
                present(await storage.find_longest_inactive_holder(ORG, STANDARD, same)).id == "a"
            )
            assert await storage.find_longest_inactive_holder(ORG, STANDARD, at(4)) is None
            # Never synced: measured from assignedAt.
            await storage.apply_changes(
                change_set([(users[0], (U, U)), (users[1], (U, U))], NO_LIMIT)
            )
            assert (
                present(await storage.find_longest_inactive_holder(ORG, STANDARD, at(6))).id
                == "never-synced"
            )
            assert await storage.find_longest_inactive_holder(ORG, STANDARD, at(5)) is None

        run(check())
