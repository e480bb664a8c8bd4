"""`BaseStorage`: the protocol's operations that can be derived from others, derived once.

A plugin subclasses it, declares its `capabilities` and writes the primitives; every method here
is correct on any backend that keeps the primitives' promises, and a plugin overrides one when its
database can answer faster (an index, a counter). The derivations, and what they cost:

| derived | from | cost |
| --- | --- | --- |
| `get_user` | `get_users` | one call |
| `find_user_by_email` | `list_users(search=e-mail)`, then the exact folded e-mail | pages of the users whose id, name or e-mail contains it |
| `count_users` | `list_users` pages | the matching users |
| `count_holders` | `count_users(selector=(type, ASSIGNED))` (a holder, by invariant 2) | the holders |
| `holders_ranked_before` | `list_users(selector=(type, ASSIGNED))` pages | the holders |
| `find_longest_inactive_holder` | the same pages | the holders |
| `write_sync` | `record_sync`, `apply_changes`, `start_grace_period`, `append_sync_log` | up to four writes, each atomic but not together (override to make it one) |

`open`, `close` and `ping` do nothing unless overridden.

The primitives (abstract here): organizations, projects, subscriptions and tokens; `get_users`,
`record_sync`, `start_grace_period`, `apply_changes`, `list_users`; the logs' append, list and
purge; the administration log's list (its entries arrive with the administrative writes).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from datetime import datetime

from seatkeeper.domain.records import (
    AdminLogEntry,
    AuditEntry,
    LicenseState,
    LicenseType,
    MobileUser,
    Organization,
    Project,
    Settings,
    Subscription,
    SyncLogEntry,
    Token,
)
from seatkeeper.storage.protocol import (
    UNDECLARED,
    Applied,
    ApplyResult,
    Capabilities,
    ChangeSet,
    Conflict,
    LogQuery,
    SyncWriteResult,
    SyncWrites,
    SyncWritten,
    UserQuery,
    fold,
    sync_basis,
    user_sort_key,
)

#: Page size of the derivations that walk `list_users`.
PAGE = 1000


class BaseStorage(ABC):
    """A storage plugin's base class: write the abstract methods, override the rest for speed."""

    #: Declare yours (see `Capabilities`); the server assumes the least of an undeclared backend.
    capabilities: Capabilities = UNDECLARED

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    # -- primitives: organizations, projects, subscriptions, tokens -------------------------

    @abstractmethod
    async def create_organization(
        self,
        organization: Organization,
        default_project: Project,
        *,
        log: AdminLogEntry | None = None,
    ) -> None: ...

    @abstractmethod
    async def get_organization(self, organization_id: str) -> Organization | None: ...

    @abstractmethod
    async def list_organizations(self) -> list[Organization]: ...

    @abstractmethod
    async def update_settings(
        self, organization_id: str, settings: Settings, *, log: AdminLogEntry | None = None
    ) -> Organization | None: ...

    @abstractmethod
    async def upsert_project(
        self, project: Project, *, log: AdminLogEntry | None = None
    ) -> None: ...

    @abstractmethod
    async def get_project(self, organization_id: str, project_id: str) -> Project | None: ...

    @abstractmethod
    async def list_projects(self, organization_id: str) -> list[Project]: ...

    @abstractmethod
    async def add_subscription(
        self, subscription: Subscription, *, log: AdminLogEntry | None = None
    ) -> None: ...

    @abstractmethod
    async def list_subscriptions(self, organization_id: str) -> list[Subscription]: ...

    @abstractmethod
    async def add_token(self, token: Token, *, log: AdminLogEntry | None = None) -> None: ...

    @abstractmethod
    async def find_token(self, secret_hash: str) -> Token | None: ...

    @abstractmethod
    async def list_tokens(self, organization_id: str | None) -> list[Token]: ...

    @abstractmethod
    async def set_token_budget(
        self,
        token_id: str,
        organization_id: str | None,
        requests_per_second: float | None,
        *,
        log: AdminLogEntry | None = None,
    ) -> Token | None: ...

    @abstractmethod
    async def touch_token(self, token_id: str, at: datetime) -> None: ...

    @abstractmethod
    async def revoke_token(
        self,
        token_id: str,
        organization_id: str | None,
        at: datetime,
        *,
        log: AdminLogEntry | None = None,
    ) -> Token | None: ...

    # -- primitives: users -----------------------------------------------------------------

    @abstractmethod
    async def get_users(self, organization_id: str, keys: list[str]) -> dict[str, MobileUser]: ...

    @abstractmethod
    async def record_sync(
        self,
        organization_id: str,
        user_id: str,
        email: str,
        full_name: str | None,
        required: LicenseType,
        now: datetime,
    ) -> MobileUser: ...

    @abstractmethod
    async def start_grace_period(
        self, organization_id: str, key: str, now: datetime
    ) -> MobileUser | None: ...

    @abstractmethod
    async def apply_changes(self, change_set: ChangeSet) -> ApplyResult: ...

    @abstractmethod
    async def list_users(
        self, organization_id: str, query: UserQuery, first: int, after: tuple[str, str] | None
    ) -> list[MobileUser]: ...

    # -- primitives: logs ------------------------------------------------------------------

    @abstractmethod
    async def append_sync_log(self, entry: SyncLogEntry) -> None: ...

    @abstractmethod
    async def list_sync_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[SyncLogEntry]: ...

    @abstractmethod
    async def purge_sync_log(self, before: datetime) -> int: ...

    @abstractmethod
    async def list_audit_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[AuditEntry]: ...

    @abstractmethod
    async def list_admin_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[AdminLogEntry]: ...

    # -- derived ---------------------------------------------------------------------------

    async def _walk(self, organization_id: str, query: UserQuery) -> AsyncIterator[MobileUser]:
        """Every user matching `query`, in list order, page by page."""
        after: tuple[str, str] | None = None
        while True:
            page = await self.list_users(organization_id, query, PAGE, after)
            for user in page:
                yield user
            if len(page) < PAGE:
                return
            after = user_sort_key(page[-1])

    async def get_user(self, organization_id: str, key: str) -> MobileUser | None:
        """Derived from `get_users`."""
        return (await self.get_users(organization_id, [key])).get(key)

    async def find_user_by_email(self, organization_id: str, email: str) -> MobileUser | None:
        """Derived from `list_users` with the e-mail as search, then its exact folded form."""
        wanted = fold(email)
        async for user in self._walk(organization_id, UserQuery(search=email)):
            if user.email_key == wanted:
                return user
        return None

    async def count_users(self, organization_id: str, query: UserQuery) -> int:
        """Derived from `list_users` pages."""
        return sum([1 async for _ in self._walk(organization_id, query)])

    async def count_holders(self, organization_id: str, license_type: LicenseType) -> int:
        """Derived from `count_users`: a holder has the type's selector ASSIGNED (invariant 2)."""
        return await self.count_users(
            organization_id, UserQuery(selector=(license_type, LicenseState.ASSIGNED))
        )

    async def _holders(
        self, organization_id: str, license_type: LicenseType
    ) -> AsyncIterator[MobileUser]:
        query = UserQuery(selector=(license_type, LicenseState.ASSIGNED))
        async for user in self._walk(organization_id, query):
            if user.active_license is license_type:
                yield user

    async def holders_ranked_before(
        self, organization_id: str, license_type: LicenseType, assigned_at: datetime, key: str
    ) -> int:
        """Derived from the holders' pages (SPEC 5's order: assignedAt, then key)."""
        mark = (assigned_at, key)
        return sum(
            [
                1
                async for user in self._holders(organization_id, license_type)
                if user.assigned_at is not None and (user.assigned_at, user.key) < mark
            ]
        )

    async def find_longest_inactive_holder(
        self, organization_id: str, license_type: LicenseType, cutoff: datetime
    ) -> MobileUser | None:
        """Derived from the holders' pages (SPEC 4.6.2's order)."""
        best, best_rank = None, None
        async for user in self._holders(organization_id, license_type):
            activity = user.last_sync_at or user.assigned_at
            if activity is None or activity > cutoff:
                continue
            rank = (activity, user.assigned_at, user.key)
            if best_rank is None or rank < best_rank:
                best, best_rank = user, rank
        return best

    async def write_sync(self, writes: SyncWrites) -> SyncWriteResult:
        """Composed from the primitives, in the protocol's order, each step atomic on its own.

        Not one atomic step: a crash between two writes leaves the earlier ones (the record
        without its entry, say), and a refusal after the record leaves the record written —
        which a plugin written before `write_sync` existed did too. The basis is checked on
        the user `record_sync` returns, and the seat change comes after the record. A plugin
        overrides this to land everything in one transaction (see the `sqlite` plugin).
        """
        record = writes.record
        user = await self.record_sync(
            record.organization_id,
            record.user_id,
            record.email,
            record.full_name,
            record.required,
            record.now,
        )
        if sync_basis(user) != sync_basis(writes.expected):
            return Conflict((user.key,))
        if writes.change_set is not None:
            result = await self.apply_changes(writes.change_set)
            if not isinstance(result, Applied):
                return result
        if writes.start_grace:
            await self.start_grace_period(record.organization_id, user.key, record.now)
        if writes.change_set is not None or writes.start_grace:
            user = await self.get_user(record.organization_id, user.key) or user
        await self.append_sync_log(writes.log)
        return SyncWritten(user)
