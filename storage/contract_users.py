"""The storage contract kit, part 2: mobile users (SPEC 2) — `record_sync` and user reads.

Part of `StorageContract` (see `storage/contract.py` for how a plugin runs the kit). Checks that
a sync creates or updates the user without touching its selectors or seat, refuses another
user's e-mail writing nothing (SPEC 2.3), treats GUID ids of any case as one user (SPEC 1),
that users read back by key and e-mail with every field, and the one-time grace period (4.7).
"""

from __future__ import annotations

import pytest
from seatkeeper.domain.records import (
    MobileUser,
    user_key,
)
from seatkeeper.storage.contract_base import (
    EXTERNAL,
    INSPECTIONS,
    ORG,
    OTHER_ORG,
    STANDARD,
    A,
    D,
    Run,
    U,
    _ContractBase,
    add_users,
    all_users,
    at,
    make_org,
    make_user,
    present,
)
from seatkeeper.storage.protocol import (
    EmailTaken,
    Storage,
    UserQuery,
)

# --------------------------------------------------------------------------------- users


class UserContract(_ContractBase):
    """Users: reads, `record_sync` (SPEC 4.1) and `start_grace_period` (SPEC 4.7)."""

    def test_record_sync_creates_the_user(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage)
            user = await storage.record_sync(ORG, "u1", "Ann@Example.com", "Ann", STANDARD, at(1))
            expected = MobileUser(
                organization_id=ORG,
                id="u1",
                full_name="Ann",
                email="Ann@Example.com",
                created_at=at(1),
                first_sync_at=at(1),
                last_sync_at=at(1),
                last_required=STANDARD,
            )
            assert user == expected
            assert (
                user.selectors == (U, U)
                and user.assigned_at is None
                and user.grace_started_at is None
            )
            assert await storage.get_user(ORG, "u1") == expected
            # Without a full name, the e-mail stands for it.
            bare = await storage.record_sync(
                ORG, "u2", "bare@example.com", None, INSPECTIONS, at(2)
            )
            assert bare.full_name == "bare@example.com" and bare.last_required is INSPECTIONS

        run(check())

    def test_record_sync_updates_email_name_and_times(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage)
            await storage.record_sync(ORG, "u1", "old@example.com", "Old Name", STANDARD, at(1))
            user = await storage.record_sync(
                ORG, "u1", "New@Example.com", "New Name", INSPECTIONS, at(5)
            )
            assert (user.email, user.full_name) == ("New@Example.com", "New Name")
            assert (user.created_at, user.first_sync_at, user.last_sync_at) == (at(1), at(1), at(5))
            assert user.last_required is INSPECTIONS
            # No full name given: the name is kept.
            user = await storage.record_sync(ORG, "u1", "New@Example.com", None, EXTERNAL, at(9))
            assert (
                user.full_name == "New Name"
                and user.last_sync_at == at(9)
                and user.last_required is EXTERNAL
            )
            assert user.first_sync_at == at(1)
            assert await storage.get_user(ORG, "u1") == user
            # The e-mail index follows the change: the old address is free, the new one found.
            assert await storage.find_user_by_email(ORG, "old@example.com") is None
            assert present(await storage.find_user_by_email(ORG, "NEW@example.COM")).id == "u1"
            other = await storage.record_sync(ORG, "u2", "OLD@example.com", None, STANDARD, at(10))
            assert other.id == "u2"

        run(check())

    def test_record_sync_keeps_selectors_and_seat(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage)
            await add_users(
                storage, [make_user("u1", A, D, assigned_at=at(3), grace_started_at=at(2))]
            )
            user = await storage.record_sync(ORG, "u1", "u1@example.com", None, STANDARD, at(8))
            assert (user.selectors, user.assigned_at, user.grace_started_at) == (
                (A, D),
                at(3),
                at(2),
            )
            assert user.first_sync_at == at(8)  # first sync of a user created by an import
            assert await storage.count_holders(ORG, STANDARD) == 1

        run(check())

    def test_spec_2_3_record_sync_refuses_another_users_email_writing_nothing(
        self, storage: Storage, run: Run
    ) -> None:
        """Invariant 3: e-mails are unique per organization, case-insensitively."""

        async def check() -> None:
            await make_org(storage)
            await storage.record_sync(ORG, "u1", "ann@example.com", "Ann", STANDARD, at(1))
            await storage.record_sync(ORG, "u2", "bob@example.com", "Bob", STANDARD, at(1))
            before = await all_users(storage)
            with pytest.raises(EmailTaken):
                await storage.record_sync(ORG, "u3", "ANN@example.com", "Intruder", STANDARD, at(2))
            with pytest.raises(EmailTaken):
                await storage.record_sync(ORG, "u2", "Ann@Example.COM", "Bob", INSPECTIONS, at(3))
            assert await all_users(storage) == before  # no u3, u2 not touched (not even lastSyncAt)
            # Changing the case of one's own e-mail is no collision.
            user = await storage.record_sync(ORG, "u1", "ANN@EXAMPLE.COM", None, STANDARD, at(4))
            assert user.email == "ANN@EXAMPLE.COM"
            # Another organization has its own e-mails.
            await make_org(storage, OTHER_ORG)
            assert (
                await storage.record_sync(OTHER_ORG, "u9", "ann@example.com", None, STANDARD, at(5))
            ).id == "u9"

        run(check())

    def test_spec_1_guid_ids_are_one_user_whatever_their_case(
        self, storage: Storage, run: Run
    ) -> None:
        """SPEC 1, Mobile user: a GUID id is compared case-insensitively; other ids exactly."""

        async def check() -> None:
            await make_org(storage)
            guid = "3F2504E0-4F89-11D3-9A0C-0305E82C3301"
            await storage.record_sync(ORG, "{" + guid + "}", "g@example.com", "G", STANDARD, at(1))
            again = await storage.record_sync(
                ORG, guid.lower(), "g@example.com", None, STANDARD, at(2)
            )
            assert again.first_sync_at == at(1) and again.last_sync_at == at(2)
            assert again.key == user_key(guid) == user_key(guid.lower())
            assert present(await storage.get_user(ORG, user_key(guid))).last_sync_at == at(2)
            assert await storage.count_users(ORG, UserQuery()) == 1
            # Ids that are not GUIDs are case-sensitive: two users.
            await storage.record_sync(ORG, "alice", "a1@example.com", None, STANDARD, at(3))
            await storage.record_sync(ORG, "Alice", "a2@example.com", None, STANDARD, at(3))
            assert present(await storage.get_user(ORG, "alice")).email == "a1@example.com"
            assert present(await storage.get_user(ORG, "Alice")).email == "a2@example.com"
            assert await storage.get_user(ORG, "ALICE") is None
            assert await storage.count_users(ORG, UserQuery()) == 3

        run(check())

    def test_get_users_and_find_by_email(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            u1, u2 = make_user("u1", email="One@Example.com"), make_user("u2", A)
            await add_users(storage, [u1, u2])
            assert await storage.get_users(ORG, ["u2", "missing", "u1"]) == {"u1": u1, "u2": u2}
            assert await storage.get_users(ORG, []) == {}
            assert await storage.get_users(OTHER_ORG, ["u1"]) == {}
            assert await storage.get_user(OTHER_ORG, "u1") is None
            assert await storage.find_user_by_email(ORG, "one@EXAMPLE.com") == u1
            assert await storage.find_user_by_email(ORG, "one@example.org") is None
            assert await storage.find_user_by_email(OTHER_ORG, "one@example.com") is None

        run(check())

    def test_created_records_keep_every_field(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage)
            user = MobileUser(
                organization_id=ORG,
                id="full",
                full_name="Every Field",
                email="every@example.com",
                created_at=at(1),
                standard=D,
                inspections=A,
                assigned_at=at(2),
                first_sync_at=at(3),
                last_sync_at=at(4),
                grace_started_at=at(5),
                last_required=INSPECTIONS,
            )
            await add_users(storage, [user])
            assert await storage.get_user(ORG, "full") == user

        run(check())

    def test_spec_4_7_start_grace_period_once(self, storage: Storage, run: Run) -> None:
        """SPEC 4.7: the temporary window starts once per user record."""

        async def check() -> None:
            await make_org(storage)
            await storage.record_sync(ORG, "u1", "u1@example.com", None, STANDARD, at(1))
            started = present(await storage.start_grace_period(ORG, "u1", at(2)))
            assert started.grace_started_at == at(2) and started.last_sync_at == at(1)
            again = present(await storage.start_grace_period(ORG, "u1", at(7)))
            assert again.grace_started_at == at(2)
            assert present(await storage.get_user(ORG, "u1")).grace_started_at == at(2)
            assert await storage.start_grace_period(ORG, "missing", at(3)) is None
            assert await storage.get_user(ORG, "missing") is None

        run(check())
