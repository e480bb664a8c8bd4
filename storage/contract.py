"""The storage contract kit: the promises of `storage/protocol.py`, as tests any plugin runs.

How an integrator uses it — one test module in the plugin's own test suite:

    import uuid

    import pytest
    from seatkeeper.storage import load_storage
    from seatkeeper.storage.contract import StorageContract

    @pytest.fixture
    def storage_factory():
        async def build():                      # called once per test, in that test's event loop
            storage = load_storage("myplugin://localhost/contract-" + uuid.uuid4().hex)
            await storage.open()
            return storage                      # fresh, empty and opened; the kit closes it
        return build

    class TestMyPlugin(StorageContract):        # every contract test runs against MyPlugin
        supports_threads = True                 # False: the backend is not thread-safe by design

`storage_factory` may live in the module, a conftest.py or the class itself; it is the only
fixture to provide (drop databases in its teardown, after a `yield`). For readable assertion
messages, put `pytest.register_assert_rewrite("seatkeeper.storage.contract")` at the top of
your conftest.py. Subclass one of the parts (`UserContract`, `ConcurrencyContract`, …) to run
only that area. Set `supports_threads = False` for a backend that may only be used from one
event loop: the tests that drive it from several threads at once are then reported as skipped.

The kit tests the protocol's promises, not the licensing rules: it plays the engine's part with
hand-made change sets. It uses times in whole seconds (some databases keep only milliseconds)
and runs in a few seconds on the memory plugin.
"""

from __future__ import annotations

import asyncio
import functools
import random
import threading
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol, TypeVar

import pytest
from seatkeeper.domain.records import (
    DEFAULT_PROJECT_ID,
    AdminAction,
    AdminLogEntry,
    AuditEntry,
    AuditReason,
    Client,
    LicenseState,
    LicenseType,
    MobileUser,
    Organization,
    Project,
    ProjectKind,
    Role,
    Settings,
    Subscription,
    SyncLogEntry,
    Token,
    user_key,
)
from seatkeeper.storage.protocol import (
    AlreadyExists,
    Applied,
    ApplyResult,
    ChangeSet,
    Conflict,
    EmailTaken,
    LogQuery,
    SeatShortage,
    SelectorChange,
    Storage,
    UserDeletion,
    UserQuery,
    user_sort_key,
)

__all__ = [
    "AdminLogContract",
    "ApplyChangesContract",
    "ConcurrencyContract",
    "EdgeCaseContract",
    "HolderQueryContract",
    "LogContract",
    "OrganizationContract",
    "StorageContract",
    "SyncWriteContract",
    "TokenContract",
    "UserContract",
    "UserListContract",
]

A, U, D = LicenseState.ASSIGNED, LicenseState.UNASSIGNED, LicenseState.DISABLED
STANDARD, INSPECTIONS, EXTERNAL = (
    LicenseType.STANDARD,
    LicenseType.INSPECTIONS,
    LicenseType.EXTERNAL,
)
SEATS = (STANDARD, INSPECTIONS)
NO_LIMIT = {STANDARD: 1_000_000, INSPECTIONS: 1_000_000}
T0 = datetime(2024, 1, 1, tzinfo=UTC)
ORG = "org-a"
OTHER_ORG = "org-b"


T = TypeVar("T")


class Run(Protocol):
    """The `run` fixture: runs a coroutine to its end in the test's one event loop."""

    def __call__(self, coroutine: Coroutine[Any, Any, T], /) -> T: ...


#: The integrator's `storage_factory` fixture: builds a fresh, empty, opened backend.
StorageFactory = Callable[[], Coroutine[Any, Any, Storage]]


def held_at(user: MobileUser) -> datetime:
    """When a holder took its seat (a holder always has `assigned_at`, invariant 3)."""
    return present(user.assigned_at)


def present(value: T | None) -> T:
    """`value`, which the test expects to be there: a record read back must exist."""
    assert value is not None, "expected a record, the storage answered None"
    return value


# ---------------------------------------------------------------------------------- helpers


def at(minutes: float) -> datetime:
    """A fixed instant, `minutes` after T0 (the kit never reads a clock)."""
    return T0 + timedelta(minutes=minutes)


async def make_org(storage: Storage, org_id: str = ORG, created_at: datetime = T0) -> Organization:
    """Create an organization with its default project, as the engine does."""
    organization = Organization(id=org_id, name=f"Organization {org_id}", created_at=created_at)
    await storage.create_organization(organization, default_project(org_id))
    return organization


def default_project(org_id: str) -> Project:
    return Project(org_id, DEFAULT_PROJECT_ID, "Default", ProjectKind.STANDARD)


def make_user(
    user_id: str,
    standard: LicenseState = U,
    inspections: LicenseState = U,
    *,
    org: str = ORG,
    assigned_at: datetime | None = None,
    email: str | None = None,
    name: str | None = None,
    **fields: Any,
) -> MobileUser:
    """A user record ready to create; a holder gets `assigned_at = T0` unless told otherwise.

    The default e-mail derives from the id's key: give ids that differ only in case their own.
    """
    if assigned_at is None and A in (standard, inspections):
        assigned_at = T0
    email = email or f"{user_key(user_id)}@example.com"
    return MobileUser(
        organization_id=org,
        id=user_id,
        full_name=name or f"User {user_id}",
        email=email,
        created_at=fields.pop("created_at", T0),
        standard=standard,
        inspections=inspections,
        assigned_at=assigned_at,
        **fields,
    )


async def add_users(storage: Storage, users: list[MobileUser], org: str = ORG) -> None:
    """Create users through `apply_changes`, the only way the protocol creates full records."""
    result = await storage.apply_changes(
        ChangeSet(org, creates=list(users), seat_limits=dict(NO_LIMIT))
    )
    assert result == Applied(), f"seeding users failed: {result}"


def audit_entries(
    user: MobileUser,
    after: tuple[LicenseState, LicenseState],
    when: datetime = T0,
    operation_id: str = "op",
    reason: AuditReason = AuditReason.MANUAL,
) -> list[AuditEntry]:
    """One audit entry per selector that `after` changes (invariant 4), with unique ids."""
    return [
        AuditEntry(
            organization_id=user.organization_id,
            at=when,
            user_id=user.id,
            license_type=license_type,
            from_state=before,
            to_state=state,
            actor="contract-kit",
            reason=reason,
            operation_id=operation_id,
            id=uuid.uuid4().hex,
        )
        for license_type, before, state in zip(SEATS, user.selectors, after)
        if before is not state
    ]


def change_to(
    user: MobileUser, standard: LicenseState, inspections: LicenseState, when: datetime = T0
) -> SelectorChange:
    """Change `user` (as it was read) to the given selectors; `assigned_at` follows the seat held."""
    held_before = user.active_license
    held_after = INSPECTIONS if inspections is A else STANDARD if standard is A else None
    assigned_at = (
        None if held_after is None else user.assigned_at if held_after is held_before else when
    )
    return SelectorChange(user.key, user.selectors, standard, inspections, assigned_at)


def change_set(
    changes: list[tuple[MobileUser, tuple[LicenseState, LicenseState]]],
    limits: dict[LicenseType, int],
    *,
    org: str = ORG,
    when: datetime = T0,
    operation_id: str = "op",
    creates: list[MobileUser] | None = None,
    deletes: list[MobileUser] | None = None,
) -> ChangeSet:
    """A change set with its audit entries, built the way the engine builds one."""
    audit: list[AuditEntry] = []
    selector_changes = []
    for user, after in changes:
        selector_changes.append(change_to(user, *after, when=when))
        audit += audit_entries(user, after, when, operation_id)
    for user in deletes or []:
        audit += audit_entries(user, (U, U), when, operation_id, AuditReason.DELETE)
    return ChangeSet(
        organization_id=org,
        creates=list(creates or []),
        changes=selector_changes,
        deletes=[UserDeletion(u.key, u.selectors) for u in deletes or []],
        seat_limits=dict(limits),
        audit=audit,
    )


async def all_users(storage: Storage, org: str = ORG) -> list[MobileUser]:
    return await storage.list_users(org, UserQuery(), 1_000_000, None)


async def all_audit(storage: Storage, org: str = ORG) -> list[AuditEntry]:
    return await storage.list_audit_log(org, LogQuery(), 1_000_000, None)


def run_in_threads(workers: list[Callable[[], Coroutine[Any, Any, Any]]]) -> list[Any]:
    """Run each coroutine function in its own thread and event loop, all started together.

    The backend object is shared: this is how a threaded server uses it.
    """
    barrier = threading.Barrier(len(workers), timeout=30)

    def thread_main(worker: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
        barrier.wait()
        return asyncio.run(worker())

    with ThreadPoolExecutor(max_workers=len(workers)) as pool:
        futures = [pool.submit(thread_main, worker) for worker in workers]
        return [future.result(timeout=60) for future in futures]


# ------------------------------------------------------------------------------------ base


class _ContractBase:
    """Fixtures shared by every part of the kit. The integrator provides `storage_factory`."""

    #: False for a backend that is not thread-safe by design (one event loop only): the tests
    #: that share it between threads are then skipped, visibly, with this reason.
    supports_threads: ClassVar[bool] = True

    @pytest.fixture
    def run(self) -> Iterator[Run]:
        """Run a coroutine in this test's one event loop (the backend is built in it too)."""
        with asyncio.Runner() as runner:
            yield runner.run

    @pytest.fixture
    def storage(self, run: Run, storage_factory: StorageFactory) -> Iterator[Storage]:
        """A fresh, opened backend from the integrator's `storage_factory`, closed afterwards."""
        storage = run(storage_factory())
        yield storage
        run(storage.close())

    def require_threads(self) -> None:
        if not self.supports_threads:
            pytest.skip(
                f"{type(self).__name__}.supports_threads is False: backend not thread-safe by design"
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


# ------------------------------------------------------------------------------------ logs


def _sync_entries(rng: random.Random) -> list[SyncLogEntry]:
    guid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
    user_ids = ["u1", "U1", "u2", guid, guid.upper(), "{" + guid + "}"]
    entries = []
    for n in range(80):
        ok = rng.random() < 0.6
        user_id = rng.choice(user_ids)
        entries.append(
            SyncLogEntry(
                organization_id=rng.choice([ORG, ORG, OTHER_ORG]),
                at=at(rng.randint(0, 20)),  # many entries share an instant: the id orders them
                user_id=user_id,
                email=f"{user_key(user_id)}@example.com",
                project_id=DEFAULT_PROJECT_ID,
                client=rng.choice(list(Client)),
                ok=ok,
                error_code=None if ok else "LICENSE_NOT_FOUND",
                reason=None if ok else "NO_SEAT_AVAILABLE",
                license_type=STANDARD if ok else None,
                id=f"e{rng.randrange(10**6):06d}-{n:02d}",
            )
        )
    rng.shuffle(entries)  # appended out of order, as several servers or a stepped clock would
    return entries


def _log_queries() -> list[LogQuery]:
    guid_key = user_key("3f2504e0-4f89-11d3-9a0c-0305e82c3301")
    return [
        LogQuery(),
        LogQuery(user_key="u1"),
        LogQuery(user_key="U1"),
        LogQuery(user_key=guid_key),
        LogQuery(user_key="nobody"),
        LogQuery(since=at(5)),
        LogQuery(until=at(15)),
        LogQuery(since=at(5), until=at(15)),
        LogQuery(since=at(7), until=at(7)),
        LogQuery(user_key=guid_key, since=at(3), until=at(18)),
    ]


Entry = TypeVar("Entry", SyncLogEntry, AuditEntry)
#: Any log's entry: what `_walk` pages through.
LogEntry = TypeVar("LogEntry", SyncLogEntry, AuditEntry, AdminLogEntry)


def _log_oracle(
    entries: Iterable[Entry],
    org: str,
    query: LogQuery,
    is_error: Callable[[Entry], bool] | None,
) -> list[Entry]:
    return sorted(
        (
            e
            for e in entries
            if e.organization_id == org
            and (query.user_key is None or user_key(e.user_id) == query.user_key)
            and (not query.errors_only or (is_error is not None and is_error(e)))
            and (query.since is None or query.since <= e.at)
            and (query.until is None or e.at < query.until)
        ),
        key=lambda e: (e.at, e.id),
        reverse=True,
    )


async def _walk(
    fetch: Callable[[str, LogQuery, int, tuple[datetime, str] | None], Awaitable[list[LogEntry]]],
    org: str,
    query: LogQuery,
    first: int,
    limit: int,
) -> list[LogEntry]:
    """Every page of a log, following keyset cursors; `limit` bounds a walk that would loop."""
    walked: list[LogEntry] = []
    after: tuple[datetime, str] | None = None
    while True:
        page = await fetch(org, query, first, after)
        assert len(page) <= first
        walked += page
        if len(page) < first:
            return walked
        after = (page[-1].at, page[-1].id)
        assert len(walked) <= limit, f"pages repeat entries after {after!r}"


class LogContract(_ContractBase):
    """Sync log and audit log: newest first, keyset pages, filters, purge (SPEC 8)."""

    def test_spec_8_sync_log_newest_first_filtered_and_paged(
        self, storage: Storage, run: Run
    ) -> None:
        """SPEC 8: queried by user, errors only, half-open time range, newest first."""

        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            entries = _sync_entries(random.Random(3))
            for entry in entries:
                await storage.append_sync_log(entry)
            queries = _log_queries()
            queries += [replace(q, errors_only=True) for q in queries]
            for org in (ORG, OTHER_ORG):
                for query in queries:
                    expected = _log_oracle(entries, org, query, lambda e: not e.ok)
                    assert await storage.list_sync_log(org, query, 10_000, None) == expected, (
                        org,
                        query,
                    )
                    assert (
                        await _walk(storage.list_sync_log, org, query, 4, len(entries)) == expected
                    ), (org, query)
            # `after` need not be an entry's own position.
            cut = (at(10), "e5")
            expected = [
                e for e in _log_oracle(entries, ORG, LogQuery(), None) if (e.at, e.id) < cut
            ]
            assert await storage.list_sync_log(ORG, LogQuery(), 10_000, cut) == expected

        run(check())

    def test_spec_8_purge_sync_log_drops_older_entries_of_every_organization(
        self, storage: Storage, run: Run
    ) -> None:
        """SPEC 8: sync-log entries expire after the retention period."""

        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            entries = _sync_entries(random.Random(4))
            for entry in entries:
                await storage.append_sync_log(entry)
            await add_users(storage, [make_user("u1")])
            user = present(await storage.get_user(ORG, "u1"))
            await storage.apply_changes(change_set([(user, (D, U))], NO_LIMIT, when=at(0)))
            assert await storage.purge_sync_log(at(10)) == sum(1 for e in entries if e.at < at(10))
            assert await storage.purge_sync_log(at(10)) == 0
            kept = [e for e in entries if e.at >= at(10)]
            for org in (ORG, OTHER_ORG):
                assert await storage.list_sync_log(org, LogQuery(), 10_000, None) == _log_oracle(
                    kept, org, LogQuery(), None
                )
            assert len(await all_audit(storage)) == 1  # the audit log is not the sync log

        run(check())

    def test_spec_8_audit_log_newest_first_filtered_and_paged(
        self, storage: Storage, run: Run
    ) -> None:
        """SPEC 8 and invariant 4: what apply_changes wrote, newest first, by user and time."""

        async def check() -> None:
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            guid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
            rng = random.Random(11)
            written: list[AuditEntry] = []
            for org in (ORG, OTHER_ORG):
                ids = ("u1", "U1", "u2", guid.upper())
                await add_users(
                    storage,
                    [make_user(i, org=org, email=f"a{n}@example.com") for n, i in enumerate(ids)],
                    org,
                )
            for step in range(40):
                org = rng.choice([ORG, OTHER_ORG])
                user = present(
                    await storage.get_user(org, rng.choice(["u1", "U1", "u2", user_key(guid)]))
                )
                target = rng.choice([(A, U), (U, A), (D, U), (U, D), (U, U), (D, D)])
                if target == user.selectors:
                    continue
                changes = change_set(
                    [(user, target)],
                    NO_LIMIT,
                    org=org,
                    when=at(rng.randint(0, 20)),
                    operation_id=f"op{step}",
                )
                changes.audit = [
                    replace(e, id=f"a{rng.randrange(10**6):06d}-{step:02d}{i}")
                    for i, e in enumerate(changes.audit)
                ]
                assert await storage.apply_changes(changes) == Applied()
                written += changes.audit
            # A refused change set leaves no audit entry.
            user = present(await storage.get_user(ORG, "u2"))
            refused = change_set(
                [(replace(user, standard=D if user.standard is not D else U), (A, U))],
                NO_LIMIT,
                when=at(5),
            )
            assert isinstance(await storage.apply_changes(refused), Conflict)
            for org in (ORG, OTHER_ORG):
                for query in _log_queries():
                    expected = _log_oracle(written, org, query, None)
                    assert await storage.list_audit_log(org, query, 10_000, None) == expected, (
                        org,
                        query,
                    )
                    assert (
                        await _walk(storage.list_audit_log, org, query, 3, len(written)) == expected
                    ), (org, query)

        run(check())

    async def _commit_after_aba(self, storage: Storage, planned_at: datetime) -> list[AuditEntry]:
        """A change set planned first (its entries with the smallest ids, at `planned_at`) and
        committed last, after two others (ordered too) took and gave back the seat at minute 5 (A-B-A:
        its expectation still holds, as for an import planned while syncs ran). Returns the
        audit log, oldest first, after checking that it replays to the stored selectors."""
        await make_org(storage)
        await add_users(storage, [make_user("u1")])
        user = present(await storage.get_user(ORG, "u1"))
        late = change_set([(user, (A, U))], NO_LIMIT, when=planned_at, operation_id="late")
        late.audit = [replace(e, id="0" * 32) for e in late.audit]
        late.order_audit = True
        for step, target in enumerate([(A, U), (U, U)]):
            current = present(await storage.get_user(ORG, "u1"))
            between = change_set(
                [(current, target)], NO_LIMIT, when=at(5), operation_id=f"between{step}"
            )
            between.order_audit = True
            assert await storage.apply_changes(between) == Applied()
        assert await storage.apply_changes(late) == Applied()
        oldest_first = list(reversed(await all_audit(storage)))
        assert [e.operation_id for e in oldest_first] == ["between0", "between1", "late"]
        state = U
        for entry in oldest_first:
            assert entry.from_state is state, entry
            state = entry.to_state
        assert present(await storage.get_user(ORG, "u1")).standard is state is A
        return oldest_first

    def test_spec_8_ordered_audit_lists_in_commit_order(self, storage: Storage, run: Run) -> None:
        """Invariant 4, SPEC 8: with `order_audit`, entries of one instant list in the order their
        change sets committed, not the order in which their ids were planned."""
        run(self._commit_after_aba(storage, at(5)))

    def test_spec_8_ordered_audit_is_never_before_what_it_follows(
        self, storage: Storage, run: Run
    ) -> None:
        """Invariant 4, SPEC 8: with `order_audit`, an entry planned at an earlier instant than
        entries committed before it is raised to their instant, so it still lists after them."""
        oldest_first = run(self._commit_after_aba(storage, at(0)))
        assert oldest_first[-1].at == at(5)


class AdminLogContract(_ContractBase):
    """The administration log (SPEC 8): each administrative write appends the entry it is given
    (`log=`) when, and only when, the write happens; read newest first in keyset pages."""

    @staticmethod
    def entry(org: str, minute: int, action: AdminAction, target: str) -> AdminLogEntry:
        return AdminLogEntry(
            org, at(minute), action, "ADMIN:t-admin", target, f"{action.value} {target}"
        )

    def test_spec_8_every_administrative_write_appends_its_entry(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            E, expected = self.entry, []
            created = E(ORG, 0, AdminAction.ORGANIZATION_CREATED, ORG)
            organization = Organization(ORG, "Organization", T0)
            await storage.create_organization(organization, default_project(ORG), log=created)
            await make_org(storage, OTHER_ORG)
            expected.append(created)
            writes: list[tuple[AdminLogEntry, Callable[[AdminLogEntry], Awaitable[object]]]] = [
                (
                    E(ORG, 1, AdminAction.SETTINGS_CHANGED, ORG),
                    lambda log: storage.update_settings(ORG, Settings(True), log=log),
                ),
                (
                    E(ORG, 2, AdminAction.PROJECT_CREATED, "p1"),
                    lambda log: storage.upsert_project(
                        Project(ORG, "p1", "One", ProjectKind.INSPECTIONS), log=log
                    ),
                ),
                (
                    E(ORG, 3, AdminAction.SUBSCRIPTION_ADDED, "s1"),
                    lambda log: storage.add_subscription(
                        Subscription(ORG, "s1", STANDARD, 5, at(0), at(600)), log=log
                    ),
                ),
                (
                    E(ORG, 3, AdminAction.TOKEN_CREATED, "t1"),  # the same instant: by id
                    lambda log: storage.add_token(
                        Token("t1", ORG, "ci", Role.SYNC, "hash-t1", at(3)), log=log
                    ),
                ),
                (
                    E(ORG, 4, AdminAction.TOKEN_REVOKED, "t1"),
                    lambda log: storage.revoke_token("t1", None, at(4), log=log),
                ),
            ]
            for log, write in writes:
                await write(log)
                expected.append(log)
            newest_first = sorted(expected, key=lambda e: (e.at, e.id), reverse=True)
            assert await storage.list_admin_log(ORG, LogQuery(), 100, None) == newest_first
            assert await _walk(storage.list_admin_log, ORG, LogQuery(), 2, 10) == newest_first
            in_range = LogQuery(since=at(1), until=at(4))
            assert await storage.list_admin_log(ORG, in_range, 100, None) == [
                e for e in newest_first if at(1) <= e.at < at(4)
            ]
            assert await storage.list_admin_log(OTHER_ORG, LogQuery(), 100, None) == []
            assert await storage.list_admin_log("nobody", LogQuery(), 100, None) == []
            # The writes themselves landed as they do without a log.
            assert present(await storage.get_organization(ORG)).settings == Settings(True)
            assert present(await storage.find_token("hash-t1")).revoked_at == at(4)

        run(check())

    def test_spec_8_a_write_that_does_not_happen_appends_nothing(
        self, storage: Storage, run: Run
    ) -> None:
        async def check() -> None:
            E = self.entry
            await make_org(storage)
            await make_org(storage, OTHER_ORG)
            await storage.add_token(Token("theirs", OTHER_ORG, "x", Role.SYNC, "hash-x", at(0)))
            await storage.add_token(Token("mine", ORG, "y", Role.SYNC, "hash-y", at(0)))
            nobody = "nobody"
            assert (
                await storage.update_settings(
                    nobody, Settings(), log=E(nobody, 1, AdminAction.SETTINGS_CHANGED, nobody)
                )
                is None
            )
            await storage.upsert_project(
                Project(nobody, "p", "P", ProjectKind.STANDARD),
                log=E(nobody, 1, AdminAction.PROJECT_CREATED, "p"),
            )
            await storage.add_subscription(
                Subscription(nobody, "s", STANDARD, 1, at(0), at(9)),
                log=E(nobody, 1, AdminAction.SUBSCRIPTION_ADDED, "s"),
            )
            assert await storage.list_admin_log(nobody, LogQuery(), 100, None) == []
            # Not found in this organization, or not found at all: no token revoked, no entry.
            revoked = E(ORG, 2, AdminAction.TOKEN_REVOKED, "theirs")
            assert await storage.revoke_token("theirs", ORG, at(2), log=revoked) is None
            missing = E(ORG, 2, AdminAction.TOKEN_REVOKED, "missing")
            assert await storage.revoke_token("missing", None, at(2), log=missing) is None
            # Revoked twice: the second keeps the first time and appends nothing.
            first = E(ORG, 3, AdminAction.TOKEN_REVOKED, "mine")
            second = E(ORG, 4, AdminAction.TOKEN_REVOKED, "mine")
            await storage.revoke_token("mine", ORG, at(3), log=first)
            again = await storage.revoke_token("mine", ORG, at(4), log=second)
            assert present(again).revoked_at == at(3)
            assert await storage.list_admin_log(ORG, LogQuery(), 100, None) == [first]
            assert await storage.list_admin_log(OTHER_ORG, LogQuery(), 100, None) == []

        run(check())


# ----------------------------------------------------------------------------- concurrency


class ConcurrencyContract(_ContractBase):
    """SPEC 2 under concurrent asyncio tasks and threads: the promises that need atomicity.

    Every worker reads, yields to the others, then writes with the expectation it read: the
    gap a backend must close with one atomic step.
    """

    USERS = 200
    LIMIT = 10

    async def _assign_one(self, storage: Storage, key: str) -> object:
        user = present(await storage.get_user(ORG, key))
        await asyncio.sleep(0)  # let the other workers read too
        return await storage.apply_changes(
            change_set([(user, (A, U))], {STANDARD: self.LIMIT, INSPECTIONS: 0}, when=at(1))
        )

    async def _assert_seat_race_outcome(self, storage: Storage, results: list[object]) -> None:
        applied = [r for r in results if isinstance(r, Applied)]
        refused = [r for r in results if isinstance(r, SeatShortage)]
        assert len(applied) == self.LIMIT, (
            f"{len(applied)} assignments succeeded for {self.LIMIT} seats"
        )
        assert len(refused) == self.USERS - self.LIMIT
        assert all(r.license_type is STANDARD for r in refused)
        assert await storage.count_holders(ORG, STANDARD) == self.LIMIT
        assert (
            len(await storage.list_users(ORG, UserQuery(selector=(STANDARD, A)), 10_000, None))
            == self.LIMIT
        )
        assert len(await all_audit(storage)) == self.LIMIT  # audit entries only for what landed

    def _seed_waiting_users(self, storage: Storage, run: Run) -> list[str]:
        async def seed() -> None:
            await make_org(storage)
            await add_users(storage, [make_user(f"w{i:03d}") for i in range(self.USERS)])

        run(seed())
        return [f"w{i:03d}" for i in range(self.USERS)]

    def test_spec_2_1_tasks_racing_for_seats_never_over_allocate(
        self, storage: Storage, run: Run
    ) -> None:
        """Invariant 1: 200 concurrent tasks, 10 seats: exactly 10 assignments land."""
        keys = self._seed_waiting_users(storage, run)

        async def race() -> None:
            results = await asyncio.gather(*(self._assign_one(storage, k) for k in keys))
            await self._assert_seat_race_outcome(storage, list(results))

        run(race())

    def test_spec_2_1_threads_racing_for_seats_never_over_allocate(
        self, storage: Storage, run: Run
    ) -> None:
        """Invariant 1 with threads, each running its own event loop on the same backend."""
        self.require_threads()
        keys = self._seed_waiting_users(storage, run)
        threads = 20
        slices = [keys[i::threads] for i in range(threads)]

        def worker(mine: list[str]) -> Callable[[], Coroutine[Any, Any, list[object]]]:
            async def go() -> list[object]:
                return await asyncio.gather(*(self._assign_one(storage, k) for k in mine))

            return go

        results = [r for chunk in run_in_threads([worker(s) for s in slices]) for r in chunk]
        run(self._assert_seat_race_outcome(storage, results))

    # -- switches and frees ----------------------------------------------------------------

    LIMITS: ClassVar[dict[LicenseType, int]] = {STANDARD: 6, INSPECTIONS: 3}
    CHURN_USERS = 24

    def _seed_full_organization(self, storage: Storage, run: Run) -> None:
        async def seed() -> None:
            await make_org(storage)
            users = [make_user(f"s{i}", A) for i in range(self.LIMITS[STANDARD])]
            users += [make_user(f"i{i}", U, A) for i in range(self.LIMITS[INSPECTIONS])]
            users += [make_user(f"n{i}") for i in range(self.CHURN_USERS - len(users))]
            await add_users(storage, users)

        run(seed())

    async def _churn(self, storage: Storage, seed: int, steps: int) -> int:
        """Random switches, seat moves, releases and assignments; return audit entries landed."""
        rng = random.Random(seed)
        keys = [u.key for u in await all_users(storage)]
        landed = 0
        for step in range(steps):
            a, b = rng.sample(keys, 2)
            users = await storage.get_users(ORG, [a, b])
            first, second = users[a], users[b]
            held = first.active_license
            if held is not None and second.active_license is None and rng.random() < 0.4:
                # Free: move the seat from `first` to `second` (net zero holders).
                target = (A, U) if held is STANDARD else (U, A)
                plan = [(first, (U, U)), (second, target)]
            elif held is not None and rng.random() < 0.7:
                plan = [(first, (U, A) if held is STANDARD else (A, U))]  # switch
            elif held is not None:
                plan = [(first, (U, U))]  # release
            else:
                plan = [(first, rng.choice([(A, U), (U, A)]))]  # assign
            changes = change_set(plan, self.LIMITS, when=at(step), operation_id=f"{seed}-{step}")
            await asyncio.sleep(0)
            result = await storage.apply_changes(changes)
            assert isinstance(result, (Applied, Conflict, SeatShortage)), result
            if isinstance(result, Applied):
                landed += len(changes.audit)
        return landed

    async def _assert_invariants(self, storage: Storage) -> None:
        users = await all_users(storage)
        assert len(users) == self.CHURN_USERS
        for user in users:
            assert user.selectors != (A, A), f"{user.id} holds two seats"
        for license_type in SEATS:
            holders = sum(1 for u in users if u.active_license is license_type)
            assert holders <= self.LIMITS[license_type], f"{license_type.value}: {holders} holders"
            assert await storage.count_holders(ORG, license_type) == holders

    async def _watch(self, storage: Storage, done: threading.Event) -> int:
        """Check the seat limits while the others churn; return how many looks were taken."""
        looks = 0
        while not done.is_set() or looks == 0:
            for license_type in SEATS:
                assert await storage.count_holders(ORG, license_type) <= self.LIMITS[license_type]
            looks += 1
            await asyncio.sleep(0)
        return looks

    def test_spec_2_1_and_2_2_concurrent_switches_and_frees_tasks(
        self, storage: Storage, run: Run
    ) -> None:
        """Invariants 1, 2, 4 under concurrent tasks: no double seat, no type over its limit,
        one audit entry per selector change that landed."""
        self._seed_full_organization(storage, run)

        async def churn() -> None:
            done = threading.Event()
            watcher = asyncio.ensure_future(self._watch(storage, done))
            try:
                landed = await asyncio.gather(
                    *(self._churn(storage, seed, 40) for seed in range(8))
                )
            finally:
                done.set()
            await watcher
            await self._assert_invariants(storage)
            assert len(await all_audit(storage)) == sum(landed) > 0

        run(churn())

    def test_spec_2_1_and_2_2_concurrent_switches_and_frees_threads(
        self, storage: Storage, run: Run
    ) -> None:
        """Invariants 1, 2, 4 under threads, each with its own event loop."""
        self.require_threads()
        self._seed_full_organization(storage, run)
        churners = 8
        done, lock, finished = threading.Event(), threading.Lock(), [0]

        def churner(seed: int) -> Callable[[], Coroutine[Any, Any, int]]:
            async def go() -> int:
                try:
                    return await self._churn(storage, seed, 60)
                finally:  # the last churner out stops the watcher, even on failure
                    with lock:
                        finished[0] += 1
                        if finished[0] == churners:
                            done.set()

            return go

        workers = [churner(seed) for seed in range(churners)] + [lambda: self._watch(storage, done)]
        *landed, _looks = run_in_threads(workers)
        run(self._assert_invariants(storage))
        assert len(run(all_audit(storage))) == sum(landed) > 0

    # -- e-mails and creates -----------------------------------------------------------------

    ROUNDS = 30

    async def _one_sync(self, storage: Storage, contender: int, r: int) -> bool:
        """Contender `contender` syncs its own user with the e-mail of round `r`; True if it won."""
        await asyncio.sleep(0)
        email = f"Race{r}@Example.com" if contender % 2 else f"race{r}@example.COM"
        try:
            await storage.record_sync(ORG, f"c{contender}-r{r}", email, None, STANDARD, at(r))
            return True
        except EmailTaken:
            return False

    async def _sync_rounds(
        self, storage: Storage, contender: int, barrier: threading.Barrier
    ) -> list[bool]:
        outcome = []
        for r in range(self.ROUNDS):
            try:
                barrier.wait()  # every contender starts the round together
                outcome.append(await self._one_sync(storage, contender, r))
            except BaseException:
                barrier.abort()  # don't leave the other contender waiting
                raise
        return outcome

    async def _assert_one_winner_per_email(
        self, storage: Storage, outcomes: list[list[bool]]
    ) -> None:
        for r in range(self.ROUNDS):
            winners = [c for c, outcome in enumerate(outcomes) if outcome[r]]
            assert len(winners) == 1, f"round {r}: winners {winners}"
            owner = await storage.find_user_by_email(ORG, f"RACE{r}@example.com")
            assert owner is not None and owner.id == f"c{winners[0]}-r{r}"
        assert await storage.count_users(ORG, UserQuery()) == self.ROUNDS

    def test_spec_2_3_tasks_racing_for_an_email_one_wins(self, storage: Storage, run: Run) -> None:
        """Invariant 3 under concurrent tasks: two users syncing one e-mail, exactly one wins."""
        run(make_org(storage))

        async def race() -> None:
            outcomes = []
            for r in range(self.ROUNDS):
                pair = await asyncio.gather(
                    *(self._one_sync(storage, c, r) for c in range(2)),
                )
                outcomes.append(pair)
            await self._assert_one_winner_per_email(storage, [list(x) for x in zip(*outcomes)])

        run(race())

    def test_spec_2_3_threads_racing_for_an_email_one_wins(
        self, storage: Storage, run: Run
    ) -> None:
        """Invariant 3 with threads: each round, two threads sync two users with one e-mail."""
        self.require_threads()
        run(make_org(storage))
        barrier = threading.Barrier(2, timeout=30)

        def contender(c: int) -> Callable[[], Coroutine[Any, Any, list[bool]]]:
            return lambda: self._sync_rounds(storage, c, barrier)

        outcomes = run_in_threads([contender(0), contender(1)])
        run(self._assert_one_winner_per_email(storage, outcomes))

    def test_concurrent_syncs_of_one_new_user_all_succeed(self, storage: Storage, run: Run) -> None:
        """record_sync is an atomic upsert: racing first syncs of one user make one user."""
        run(make_org(storage))
        guid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"
        spellings = [guid, guid.upper(), "{" + guid + "}", "{" + guid.upper() + "}"]

        async def sync(i: int) -> MobileUser:
            await asyncio.sleep(0)
            return await storage.record_sync(
                ORG, spellings[i % 4], "g@example.com", "G", STANDARD, at(i)
            )

        async def tasks() -> list[MobileUser]:
            return await asyncio.gather(*(sync(i) for i in range(20)))

        results = run(tasks())
        if self.supports_threads:
            results += [u for chunk in run_in_threads([tasks for _ in range(8)]) for u in chunk]
        assert {u.key for u in results} == {user_key(guid)}
        stored = present(run(storage.get_user(ORG, user_key(guid))))
        assert stored.first_sync_at in {at(i) for i in range(20)} and stored.last_sync_at in {
            at(i) for i in range(20)
        }
        assert run(storage.count_users(ORG, UserQuery())) == 1

    def test_concurrent_creates_of_one_user_one_lands(self, storage: Storage, run: Run) -> None:
        """apply_changes creates: racing imports of one id (or one e-mail) create it once."""
        run(make_org(storage))

        async def create(i: int, by: str) -> ApplyResult:
            await asyncio.sleep(0)
            user = (
                make_user("same", email=f"{i}@example.com")
                if by == "id"
                else make_user(f"id{i}", email="SAME@example.com")
            )
            return await storage.apply_changes(
                ChangeSet(ORG, creates=[user], seat_limits=dict(NO_LIMIT))
            )

        async def tasks(by: str) -> list[ApplyResult]:
            return await asyncio.gather(*(create(i, by) for i in range(30)))

        for by in ("id", "email"):
            results = run(tasks(by))
            if self.supports_threads:
                results += [
                    r
                    for chunk in run_in_threads([functools.partial(tasks, by) for _ in range(6)])
                    for r in chunk
                ]
            assert sum(isinstance(r, Applied) for r in results) == 1, by
            assert all(isinstance(r, (Applied, AlreadyExists)) for r in results)
        assert run(storage.count_users(ORG, UserQuery())) == 2


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


# ------------------------------------------------------------------------------ all of it


from seatkeeper.storage.contract_sync import SyncWriteContract


class StorageContract(
    OrganizationContract,
    TokenContract,
    UserContract,
    ApplyChangesContract,
    HolderQueryContract,
    UserListContract,
    LogContract,
    AdminLogContract,
    ConcurrencyContract,
    EdgeCaseContract,
    SyncWriteContract,
):
    """Every promise of the Storage protocol. Subclass it as `Test…` and provide `storage_factory`."""
