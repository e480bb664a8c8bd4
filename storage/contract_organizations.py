"""The storage contract kit, part 1: lifecycle, organizations, settings, projects,
subscriptions (SPEC 1, Organization) and API tokens.

Part of `StorageContract` (see `storage/contract.py` for how a plugin runs the kit). Checks that
`open` is idempotent, that organizations and their default project are created once
(`AlreadyExists`), that settings, projects and subscriptions read back as written, and the
token operations of the protocol.
"""

from __future__ import annotations

from dataclasses import replace

from seatkeeper.domain.records import (
    DEFAULT_PROJECT_ID,
    AdminAction,
    AdminLogEntry,
    LicenseType,
    Project,
    ProjectKind,
    Role,
    Settings,
    Subscription,
    Token,
)
from seatkeeper.storage.contract_base import (
    EXTERNAL,
    INSPECTIONS,
    ORG,
    OTHER_ORG,
    STANDARD,
    A,
    Run,
    _ContractBase,
    add_users,
    at,
    default_project,
    make_org,
    make_user,
    present,
)
from seatkeeper.storage.protocol import (
    LogQuery,
    Storage,
)

# ------------------------------------------------------------------ organizations & friends


class OrganizationContract(_ContractBase):
    """Lifecycle, organizations, settings, projects and subscriptions (SPEC 1, Organization)."""

    def test_is_a_storage_and_open_is_idempotent(self, storage: Storage, run: Run) -> None:
        assert isinstance(storage, Storage)
        run(storage.open())  # already opened by the factory: opening again is harmless
        assert run(storage.ping()) is None

    def test_create_organization_stores_it_with_its_default_project(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            organization = await make_org(storage)
            assert await storage.get_organization(ORG) == organization
            assert present(await storage.get_organization(ORG)).settings == Settings()
            assert await storage.get_project(ORG, DEFAULT_PROJECT_ID) == default_project(ORG)
            assert await storage.list_projects(ORG) == [default_project(ORG)]
            assert await storage.get_organization("nobody") is None

        run(check())

    def test_list_organizations_oldest_first(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage, "o-late", at(30))
            await make_org(storage, "o-early", at(10))
            await make_org(storage, "o-middle", at(20))
            assert [o.id for o in await storage.list_organizations()] == [
                "o-early",
                "o-middle",
                "o-late",
            ]

        run(check())

    def test_update_settings_replaces_them_whole_in_that_organization_only(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            settings = Settings(
                auto_assign_licenses=True,
                auto_free_up_licenses=True,
                inactivity_days=7,
                grace_period_days=3,
            )
            updated = await storage.update_settings(ORG, settings)
            assert updated is not None and updated.id == ORG and updated.settings == settings
            assert present(await storage.get_organization(ORG)).settings == settings
            assert present(await storage.get_organization(OTHER_ORG)).settings == Settings()
            assert await storage.update_settings("nobody", settings) is None
            assert await storage.get_organization("nobody") is None

        run(check())

    def test_records_returned_are_snapshots(self, storage: Storage, run: Run) -> None:
        """Mutating a record given or returned never changes what is stored."""

        async def check() -> None:
            organization = await make_org(storage)
            organization.settings.inactivity_days = 1
            organization.name = "changed by the caller"
            fetched = present(await storage.get_organization(ORG))
            assert fetched.settings.inactivity_days == Settings().inactivity_days
            assert fetched.name == f"Organization {ORG}"
            fetched.settings.grace_period_days = 99
            assert present(await storage.get_organization(ORG)).settings == Settings()
            user = make_user("u1")
            await add_users(storage, [user])
            user.full_name = "changed by the caller"
            got = present(await storage.get_user(ORG, "u1"))
            got.standard = A
            assert await storage.get_user(ORG, "u1") == make_user("u1")

        run(check())

    def test_upsert_project_creates_replaces_and_lists_by_id(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            zeta = Project(ORG, "zeta", "Zeta", ProjectKind.INSPECTIONS)
            alpha = Project(ORG, "alpha", "Alpha", ProjectKind.EXTERNAL)
            await storage.upsert_project(zeta)
            await storage.upsert_project(alpha)
            assert await storage.get_project(ORG, "zeta") == zeta
            renamed = Project(ORG, "zeta", "Zeta renamed", ProjectKind.STANDARD)
            await storage.upsert_project(renamed)
            assert await storage.get_project(ORG, "zeta") == renamed
            assert await storage.list_projects(ORG) == [alpha, default_project(ORG), renamed]
            # Same project id in another organization: a different project.
            assert await storage.get_project(OTHER_ORG, "zeta") is None
            assert await storage.list_projects(OTHER_ORG) == [default_project(OTHER_ORG)]
            await storage.upsert_project(Project(OTHER_ORG, "zeta", "Theirs", ProjectKind.EXTERNAL))
            assert await storage.get_project(ORG, "zeta") == renamed
            assert await storage.get_project(ORG, "missing") is None

        run(check())

    def test_subscriptions_listed_by_valid_from_then_id_per_organization(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)

            def subscription(
                org: str,
                sub_id: str,
                start: int,
                seats: int | None = 5,
                license_type: LicenseType = STANDARD,
            ) -> Subscription:
                return Subscription(org, sub_id, license_type, seats, at(start), at(start + 1000))

            later = subscription(ORG, "a-later", 50)
            first_b = subscription(ORG, "b", 10)
            first_a = subscription(ORG, "a", 10, seats=None, license_type=EXTERNAL)
            theirs = subscription(OTHER_ORG, "x", 0, seats=1, license_type=INSPECTIONS)
            for s in (later, first_b, theirs, first_a):
                await storage.add_subscription(s)
            assert await storage.list_subscriptions(ORG) == [first_a, first_b, later]
            assert await storage.list_subscriptions(OTHER_ORG) == [theirs]
            assert await storage.list_subscriptions("nobody") == []

        run(check())


class TokenContract(_ContractBase):
    """Tokens: stored by hash, found by hash, listed, revoked (SPEC 9)."""

    @staticmethod
    def token(token_id: str, org: str | None, minute: int, role: Role = Role.ADMIN) -> Token:
        return Token(token_id, org, f"token {token_id}", role, f"hash-{token_id}", at(minute))

    def test_add_find_and_list_tokens(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            late = self.token("t-late", ORG, 30, Role.SYNC)
            early = self.token("t-early", ORG, 10, Role.READER)
            theirs = self.token("t-theirs", OTHER_ORG, 20)
            for t in (late, theirs, early):
                await storage.add_token(t)
            assert await storage.find_token("hash-t-late") == late
            assert await storage.find_token("hash-unknown") is None
            assert await storage.list_tokens(ORG) == [early, late]
            assert await storage.list_tokens(OTHER_ORG) == [theirs]
            assert await storage.list_tokens(None) == [early, theirs, late]
            assert await storage.list_tokens("nobody") == []

        run(check())

    def test_token_expiry_kept_and_last_use_only_moves_forward(
        self, storage: Storage, run: Run
    ) -> None:
        """A token's `expires_at` is stored as given; `touch_token` records its last use and
        never moves it back; an unknown id writes nothing."""

        async def check() -> None:
            await make_org(storage)
            expiring = replace(self.token("t1", ORG, 1, Role.READER), expires_at=at(60))
            await storage.add_token(expiring)
            assert await storage.find_token("hash-t1") == expiring
            await storage.touch_token("t1", at(5))
            assert present(await storage.find_token("hash-t1")).last_used_at == at(5)
            await storage.touch_token("t1", at(3))  # an older use, written late
            assert present(await storage.find_token("hash-t1")).last_used_at == at(5)
            await storage.touch_token("t1", at(9))
            await storage.touch_token("missing", at(9))
            assert await storage.list_tokens(ORG) == [replace(expiring, last_used_at=at(9))]

        run(check())

    def test_a_token_budget_is_set_cleared_and_logged_in_its_organization(
        self, storage: Storage, run: Run
    ) -> None:
        """`set_token_budget` sets a token's own request budget (None clears it) and appends its
        log entry; another organization's token, or none, is None and writes nothing."""

        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            mine = replace(self.token("t1", ORG, 1, Role.SYNC), requests_per_second=2.5)
            await storage.add_token(mine)
            await storage.add_token(self.token("t2", OTHER_ORG, 2))
            assert await storage.find_token("hash-t1") == mine
            entry = AdminLogEntry(ORG, at(3), AdminAction.TOKEN_CHANGED, "OPERATOR", "t1", "x")
            changed = await storage.set_token_budget("t1", ORG, 10.0, log=entry)
            assert changed == replace(mine, requests_per_second=10.0)
            assert await storage.set_token_budget("t2", ORG, 1.0) is None
            assert await storage.set_token_budget("missing", None, 1.0) is None
            assert present(await storage.find_token("hash-t2")).requests_per_second is None
            cleared = await storage.set_token_budget("t1", None, None)
            assert present(cleared).requests_per_second is None
            assert await storage.list_admin_log(ORG, LogQuery(), 10, None) == [entry]

        run(check())

    def test_revoke_token_once_in_its_organization(self, storage: Storage, run: Run) -> None:
        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            mine, theirs = self.token("t1", ORG, 1), self.token("t2", OTHER_ORG, 2)
            await storage.add_token(mine)
            await storage.add_token(theirs)
            revoked = await storage.revoke_token("t1", ORG, at(5))
            assert revoked == replace(mine, revoked_at=at(5))
            # Revoking again keeps the first time; a revoked token is still found (to refuse it).
            assert present(await storage.revoke_token("t1", ORG, at(9))).revoked_at == at(5)
            assert present(await storage.find_token("hash-t1")).revoked_at == at(5)
            # Another organization's token is not found from this one, and stays valid.
            assert await storage.revoke_token("t2", ORG, at(6)) is None
            assert present(await storage.find_token("hash-t2")).revoked_at is None
            assert await storage.revoke_token("missing", ORG, at(6)) is None
            assert await storage.revoke_token("missing", None, at(6)) is None
            # Without an organization (the operator), any token.
            assert present(await storage.revoke_token("t2", None, at(7))).revoked_at == at(7)
            assert [t.revoked_at for t in await storage.list_tokens(None)] == [at(5), at(7)]

        run(check())
