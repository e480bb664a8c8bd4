"""The storage contract kit, part 5: listing users (`UserQuery`): filters, sort
orders, pages and counts, checked against an in-memory oracle on a random population.

Part of `StorageContract` (see `storage/contract.py` for how a plugin runs the kit).
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from seatkeeper.domain.records import (
    MobileUser,
)
from seatkeeper.storage.contract_base import (
    EXTERNAL,
    INSPECTIONS,
    ORG,
    OTHER_ORG,
    SEATS,
    STANDARD,
    T0,
    A,
    D,
    Run,
    U,
    _ContractBase,
    add_users,
    make_org,
    make_user,
)
from seatkeeper.storage.protocol import (
    Storage,
    UserQuery,
    user_sort_key,
)

# -------------------------------------------------------------------------------- listing


def _user_population(rng: random.Random, size: int = 150) -> list[MobileUser]:
    """Users with clashing names, GUID and exotic ids, and every selector and time shape."""
    names = [
        "Alice",
        "alice",
        "ALICE",
        "Bob",
        "Émile",
        "émile",
        "Zoë",
        "Straße",
        "STRASSE",
        "o'Brien (ops)",
        "a.b+c",
        "李雷",
        "Ångström",
        "zed",
        "Zed",
        "[x]*?",
    ]
    selector_pairs = [(A, U), (U, A), (U, U), (D, U), (U, D), (D, A), (A, D), (D, D)]
    ids = [f"u{i:03d}" for i in range(size - 8)]
    ids += ["U001", "\U0010ffffz", "\U0010ffff", "x" * 128, "a b", "ünï"]
    ids += [
        str(uuid.UUID(int=rng.getrandbits(128))).upper(),
        "{" + str(uuid.UUID(int=rng.getrandbits(128))) + "}",
    ]
    users = []

    def day() -> datetime:
        return T0 + timedelta(days=rng.randint(0, 30))

    for i, user_id in enumerate(ids):
        standard, inspections = rng.choice(selector_pairs)
        email = (
            f"{rng.choice(['Ann', 'bob.x', 'c+d'])}{i}@{rng.choice(['Example.com', 'mail.ORG'])}"
        )
        last_sync = rng.choice([None, day()])
        users.append(
            MobileUser(
                organization_id=ORG,
                id=user_id,
                full_name=rng.choice(names + [email]),
                email=email,
                created_at=day(),
                standard=standard,
                inspections=inspections,
                assigned_at=day() if A in (standard, inspections) else None,
                first_sync_at=last_sync,
                last_sync_at=last_sync,
                grace_started_at=rng.choice([None, day()]),
                last_required=rng.choice([None, STANDARD, INSPECTIONS, EXTERNAL]),
            )
        )
    return users


def _user_queries() -> list[UserQuery]:
    def day(n: int) -> datetime:
        return T0 + timedelta(days=n)

    queries = [
        UserQuery(),
        UserQuery(matches_nobody=True),
        UserQuery(search="al", matches_nobody=True),
    ]
    for needle in [
        "",
        "al",
        "ALI",
        "straSSE",
        "ß",
        "émi",
        "ÉMI",
        "+",
        ".",
        "(",
        "[x]*?",
        "@example.COM",
        "u00",
        "U001",
        "\U0010ffff",
        "zz-none",
        "-",
        "李",
    ]:
        queries.append(UserQuery(search=needle))
    for license_type in SEATS:
        for state in (A, U, D):
            queries.append(UserQuery(selector=(license_type, state)))
        queries.append(UserQuery(pending_for=license_type))
        for n in (0, 10, 20):
            queries.append(UserQuery(pending_for=license_type, grace_since=day(n)))
    for state in (A, U, D):
        queries.append(UserQuery(any_state=state))
    for n in (0, 5, 15, 30):
        queries.append(UserQuery(active_before=day(n)))
        queries.append(UserQuery(active_since=day(n)))
    queries += [
        UserQuery(search="a", selector=(STANDARD, A)),
        UserQuery(search="E", any_state=D, active_before=day(20)),
        UserQuery(selector=(INSPECTIONS, U), active_since=day(10)),
        UserQuery(search="u0", pending_for=STANDARD, grace_since=day(5)),
        UserQuery(any_state=U, active_since=day(5), active_before=day(25)),
    ]
    return queries


class UserListContract(_ContractBase):
    """list_users and count_users (SPEC 6a), with `UserQuery.matches` as the oracle."""

    def test_spec_6a_list_users_order_filters_and_counts(self, storage: Storage, run: Run) -> None:
        """SPEC 6a: name case-insensitively then id; every filter selects what `matches` selects."""

        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            users = _user_population(random.Random(2024))
            await add_users(storage, users)
            await add_users(
                storage, [make_user("intruder", org=OTHER_ORG, name="Alice")], OTHER_ORG
            )
            ordered = sorted(users, key=user_sort_key)
            for query in _user_queries():
                expected = [u for u in ordered if query.matches(u)]
                assert await storage.list_users(ORG, query, 10_000, None) == expected, query
                assert await storage.count_users(ORG, query) == len(expected), query

        run(check())

    def test_spec_6a_keyset_pages_cover_each_user_once(self, storage: Storage, run: Run) -> None:
        """SPEC 6a: keyset cursors on (name case-insensitively, id): pages neither skip nor repeat."""

        async def check() -> None:
            await make_org(storage)
            users = _user_population(random.Random(99))
            await add_users(storage, users)
            ordered = sorted(users, key=user_sort_key)
            for query, first in [
                (UserQuery(), 1),
                (UserQuery(), 7),
                (UserQuery(search="a"), 3),
                (UserQuery(any_state=U), 5),
            ]:
                expected = [u for u in ordered if query.matches(u)]
                walked, after = [], None
                while True:
                    page = await storage.list_users(ORG, query, first, after)
                    assert len(page) <= first
                    walked += page
                    if len(page) < first:
                        break
                    after = user_sort_key(page[-1])
                    assert len(walked) <= len(users), f"pages repeat users after {after!r}"
                assert walked == expected, (query, first)

        run(check())

    def test_spec_6a_after_between_users(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage)
            users = _user_population(random.Random(5), size=60)
            await add_users(storage, users)
            ordered = sorted(users, key=user_sort_key)
            for after in [
                ("", ""),
                ("alice", ""),
                ("alice", "u050"),
                ("m", "zzz"),
                ("\U0010ffff", ""),
                ("émile", "\U0010ffff"),
            ]:
                expected = [u for u in ordered if user_sort_key(u) > after]
                assert await storage.list_users(ORG, UserQuery(), 10_000, after) == expected, after
                assert await storage.list_users(ORG, UserQuery(), 2, after) == expected[:2], after

        run(check())
