"""The storage contract kit's common ground: shared constants, record builders and fixtures.

Part of `StorageContract` (see `storage/contract.py` for how a plugin runs the kit, and import
from there). `_ContractBase` provides the `run` and `storage` fixtures every part uses; the
helpers build organizations, users, change sets and audit entries as the engine would, at fixed
instants (the kit never reads a clock).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol, TypeVar

import pytest
from seatkeeper.domain.records import (
    DEFAULT_PROJECT_ID,
    AuditEntry,
    AuditReason,
    LicenseState,
    LicenseType,
    MobileUser,
    Organization,
    Project,
    ProjectKind,
    user_key,
)
from seatkeeper.storage.protocol import (
    Applied,
    ChangeSet,
    LogQuery,
    SelectorChange,
    Storage,
    UserDeletion,
    UserQuery,
)

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
