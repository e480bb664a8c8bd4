"""The in-memory storage plugin (`memory://`): the embedded default, one process, no persistence.

Every operation runs under one re-entrant lock and never awaits while holding it, so each is
atomic under concurrent asyncio tasks and under threads alike. Indexes kept current on every
write (holders per seat type, e-mails, the users' sort order, the pending users per seat type by
grace start, the holders' SPEC 5 ranking) make counts and the over-capacity rank O(1) or
O(log n) and pages cost what the page costs, not what the organization holds.

Large change sets (an import of 200,000 rows) are not written under the lock in one go, which
held every organization's requests for seconds: they are decided and built beside the live state
in slices that give the event loop back, and swapped in by one short critical section; the
organization's other writers wait meanwhile (`bulk`; issue 9, B9).

URL options: `memory://?sync_log_cap=N` bounds the sync log per organization (default 1,000,000
entries; the oldest are dropped first) so that memory cannot grow without end.
"""

from __future__ import annotations

import bisect
import enum
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from urllib.parse import parse_qs, urlsplit

from seatkeeper.domain.records import (
    SEAT_TYPES,
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
    Settings,
    Subscription,
    SyncLogEntry,
    Token,
    user_key,
)
from seatkeeper.plugins.memory.bulk import Building, build, decide
from seatkeeper.plugins.memory.bulk import copy_record as _copy
from seatkeeper.plugins.memory.bulk import pending_entry as _pending_entry
from seatkeeper.plugins.memory.bulk import sort_entry as _sort_entry
from seatkeeper.storage.base import BaseStorage
from seatkeeper.storage.protocol import (
    Applied,
    ApplyResult,
    Capabilities,
    ChangeSet,
    Conflict,
    EmailTaken,
    LogQuery,
    SyncRecord,
    SyncWriteResult,
    SyncWrites,
    SyncWritten,
    UserQuery,
    fold,
    order_audit_entries,
    sync_basis,
)
from seatkeeper.storage.slices import run_now, run_sliced

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

DEFAULT_SYNC_LOG_CAP = 1_000_000

# A change set is written in place, under the lock, when its users times the tenant's is at most
# this (each insertion into a sorted index moves part of a list: tens of milliseconds at most);
# a larger one is built beside the live state, in slices (`bulk`; issue 9, B9).
_IN_PLACE_COST = 20_000_000
_IN_PLACE_USERS = 500


def _copy_organization(organization: Organization) -> Organization:
    """A copy of an organization and of its settings, the one record nested in it."""
    copied = _copy(organization)
    copied.settings = _copy(organization.settings)
    return copied


R = TypeVar("R", bound="DataclassInstance")
#: A log record as held: its field values, of mixed plain types (see `_Packing`).
Packed = tuple[Any, ...]


class _Packing(Generic[R]):
    """How a log record is held: a tuple of plain values (str, datetime, bool, None), enums by
    their value, rebuilt into a fresh record on every read.

    Why not the records themselves: every object of a user-defined class is tracked by Python's
    cyclic garbage collector, and a full collection visits them all: about 0.2 s per million log
    entries, a pause every few tens of seconds under sync load (issue 6, B7). A tuple of plain
    values is untracked by the collector after its first pass, and no larger than the record.
    """

    def __init__(self, cls: type[R], enums: dict[str, type[enum.Enum]]) -> None:
        names = [f.name for f in fields(cls)]
        self.cls = cls
        self.values = attrgetter(*names)
        self.index = {name: i for i, name in enumerate(names)}
        self.enums = tuple(
            (self.index[name], {m.value: m for m in kind}) for name, kind in enums.items()
        )
        self.position = itemgetter(self.index["at"], self.index["id"])  # the log's sort key

    def pack(self, record: R, **replace: object) -> Packed:
        values = list(self.values(record))
        for name, value in replace.items():
            values[self.index[name]] = value
        for i, _ in self.enums:
            if values[i] is not None:
                # The member's value attribute: `.value` is a Python descriptor on 3.11 (0.27 vs
                # 0.04 µs; two per sync-log entry, issue 12).
                values[i] = values[i]._value_
        return tuple(values)

    def unpack(self, packed: Packed) -> R:
        values = list(packed)
        for i, members in self.enums:
            if values[i] is not None:
                values[i] = members[values[i]]
        return self.cls(*values)


_SYNC_LOG = _Packing(SyncLogEntry, {"client": Client, "license_type": LicenseType})
_AUDIT_LOG = _Packing(
    AuditEntry,
    {
        "license_type": LicenseType,
        "from_state": LicenseState,
        "to_state": LicenseState,
        "reason": AuditReason,
    },
)

_ADMIN_LOG = _Packing(AdminLogEntry, {"action": AdminAction})


class _TimeOrderedLog(Generic[R]):
    """Entries kept sorted by `(at, id)`, packed (see `_Packing`); read newest first. Bounded:
    the oldest are dropped.

    The positions are computed from the entries when searching (bisect's `key=`), not stored
    beside them: a million (at, id) tuples would cost 64 MB (issue 6, B5).
    """

    def __init__(self, packing: _Packing[R], cap: int | None) -> None:
        self.packing = packing
        self._entries: list[Packed] = []
        self._cap = cap

    def append(self, packed: Packed) -> None:
        entries, position = self._entries, self.packing.position
        if not entries or position(packed) >= position(entries[-1]):
            entries.append(packed)
        else:  # a clock that stepped back: keep the order anyway
            entries.insert(bisect.bisect_right(entries, position(packed), key=position), packed)
        self._trim()

    def _trim(self) -> None:
        # Trim in chunks so that appending stays O(1) amortised.
        entries = self._entries
        if self._cap is not None and len(entries) > self._cap + max(1, self._cap // 10):
            del entries[: len(entries) - self._cap]

    @property
    def entries(self) -> list[Packed]:
        """Every packed entry, oldest first (read only: a bulk write merges into a copy)."""
        return self._entries

    def extend(self, packed: list[Packed], merged: list[Packed] | None) -> None:
        """A bulk write's entries (`bulk.State`): `packed`, in order and none before the last
        entry, appended; or `merged`, every entry with them, in place of the entries."""
        if merged is not None:
            self._entries = merged
        else:
            self._entries.extend(packed)
        self._trim()

    def newest_first(
        self, before: tuple[datetime, str] | None, until: datetime | None
    ) -> Iterator[Packed]:
        """Packed entries, newest first, strictly before `before` and `until`."""
        end, position = len(self._entries), self.packing.position
        if before is not None:
            end = bisect.bisect_left(self._entries, before, key=position)
        if until is not None:
            end = min(end, bisect.bisect_left(self._entries, (until, ""), key=position))
        for index in range(end - 1, -1, -1):
            yield self._entries[index]

    def newest(self) -> tuple[datetime, str] | None:
        """The sort key `(at, id)` of the newest entry, or None when empty."""
        return self.packing.position(self._entries[-1]) if self._entries else None

    def purge(self, before: datetime) -> int:
        cut = bisect.bisect_left(self._entries, (before, ""), key=self.packing.position)
        del self._entries[:cut]
        return cut

    def __len__(self) -> int:
        return len(self._entries)


@dataclass
class _Tenant:
    organization: Organization
    projects: dict[str, Project] = field(default_factory=dict)
    subscriptions: list[Subscription] = field(default_factory=list)
    users: dict[str, MobileUser] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)  # email key -> user key
    holders: dict[LicenseType, set[str]] = field(
        default_factory=lambda: {t: set() for t in SEAT_TYPES}
    )
    # Per seat type, the holders' (assigned_at, key), sorted: SPEC 5's ranking in O(log n)
    # (issue 9, finding 7: a scan of 100k holders on every over-capacity sync).
    ranked: dict[LicenseType, list[tuple[datetime, str]]] = field(
        default_factory=lambda: {t: [] for t in SEAT_TYPES}
    )
    order: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # (name key, id, user key), sorted
    # Per seat type, the (grace_started_at, key) of the users pending for it (`_pending_entry`),
    # sorted: SPEC 6's pending count in O(log n), not a scan of every user (issue 14, B15a).
    pending: dict[LicenseType, list[tuple[datetime, str]]] = field(
        default_factory=lambda: {t: [] for t in SEAT_TYPES}
    )
    sync_log: _TimeOrderedLog[SyncLogEntry] = field(
        default_factory=lambda: _TimeOrderedLog(_SYNC_LOG, None)
    )
    audit_log: _TimeOrderedLog[AuditEntry] = field(
        default_factory=lambda: _TimeOrderedLog(_AUDIT_LOG, None)
    )
    # A large write being built beside this state (`bulk`): the tenant's other writers wait.
    building: Building | None = None
    admin_log: _TimeOrderedLog[AdminLogEntry] = field(
        default_factory=lambda: _TimeOrderedLog(_ADMIN_LOG, None)
    )


def _pend(tenant: _Tenant, user: MobileUser) -> None:
    """Index `user` among the pending users if it is one; call after any change to it."""
    entry = _pending_entry(user)
    if entry is not None:
        bisect.insort(tenant.pending[entry[0]], entry[1])


def _unpend(tenant: _Tenant, user: MobileUser) -> None:
    """Undo `_pend`: call before the user's selectors, requirement or grace start change."""
    entry = _pending_entry(user)
    if entry is None:
        return
    pending = tenant.pending[entry[0]]
    index = bisect.bisect_left(pending, entry[1])
    if index < len(pending) and pending[index] == entry[1]:
        del pending[index]


def _start_grace(tenant: _Tenant, user: MobileUser, now: datetime) -> None:
    """Start the user's grace window at `now` unless it started before (SPEC 4.7)."""
    if user.grace_started_at is None:
        _unpend(tenant, user)
        user.grace_started_at = now
        _pend(tenant, user)


def _is_pending_count(query: UserQuery) -> bool:
    """Whether `query` is SPEC 6's pending count alone, which `_Tenant.pending` answers."""
    return query.pending_for in SEAT_TYPES and query == UserQuery(
        pending_for=query.pending_for, grace_since=query.grace_since
    )


class MemoryStorage(BaseStorage):
    """Storage held in this process's memory. See the module docstring."""

    #: One process's memory: not shared, not kept; one lock makes it thread-safe.
    capabilities = Capabilities(shared_between_processes=False, thread_safe=True, durable=False)

    def __init__(self, url: str = "memory://", *, sync_log_cap: int | None = None) -> None:
        if sync_log_cap is None:
            # Blank values kept and unknown or repeated options refused: a typo in the URL is an
            # error at start-up, not a silently ignored setting.
            options = parse_qs(urlsplit(url).query, keep_blank_values=True)
            unknown = sorted(set(options) - {"sync_log_cap"})
            if unknown:
                raise ValueError(
                    f"memory:// has no option {', '.join(unknown)} (its one option is sync_log_cap)"
                )
            values = options.get("sync_log_cap", [str(DEFAULT_SYNC_LOG_CAP)])
            if len(values) > 1:
                raise ValueError("memory:// option sync_log_cap is given more than once")
            raw = values[0]
            try:
                sync_log_cap = int(raw)
            except ValueError:
                raise ValueError(
                    f"memory:// option sync_log_cap must be a whole number, got {raw!r}"
                ) from None
        if sync_log_cap < 1:
            raise ValueError("memory:// option sync_log_cap must be at least 1")
        self.sync_log_cap = sync_log_cap
        self._lock = threading.RLock()
        self._tenants: dict[str, _Tenant] = {}
        self._tokens: dict[str, Token] = {}  # by id
        self._token_hashes: dict[str, str] = {}  # hash -> id

    # -- lifecycle -------------------------------------------------------------------------

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    # -- helpers ---------------------------------------------------------------------------

    def _tenant(self, organization_id: str) -> _Tenant | None:
        return self._tenants.get(organization_id)

    def _log(self, log: AdminLogEntry | None) -> None:
        """Append an administration-log entry (under the lock, with the write it records)."""
        tenant = self._tenant(log.organization_id) if log is not None else None
        if log is not None and tenant is not None:
            tenant.admin_log.append(_ADMIN_LOG.pack(log))

    def _index_user(self, tenant: _Tenant, user: MobileUser) -> None:
        tenant.users[user.key] = user
        tenant.emails[user.email_key] = user.key
        bisect.insort(tenant.order, _sort_entry(user))
        self._hold(tenant, user)
        _pend(tenant, user)

    def _unindex_user(self, tenant: _Tenant, user: MobileUser) -> None:
        _unpend(tenant, user)
        del tenant.users[user.key]
        tenant.emails.pop(user.email_key, None)
        entry = _sort_entry(user)
        index = bisect.bisect_left(tenant.order, entry)
        if index < len(tenant.order) and tenant.order[index] == entry:
            del tenant.order[index]
        self._release(tenant, user)

    @staticmethod
    def _hold(tenant: _Tenant, user: MobileUser) -> None:
        """Index `user` among its seat type's holders (set and ranking), if it holds one."""
        held = user.active_license
        if held is None:
            return
        tenant.holders[held].add(user.key)
        if user.assigned_at is not None:  # a holder always has one; ranking needs it
            bisect.insort(tenant.ranked[held], (user.assigned_at, user.key))

    @staticmethod
    def _release(tenant: _Tenant, user: MobileUser) -> None:
        """Undo `_hold`: call it before the user's selectors or assigned_at change."""
        for holders in tenant.holders.values():
            holders.discard(user.key)
        held = user.active_license
        if held is None or user.assigned_at is None:
            return
        ranked, entry = tenant.ranked[held], (user.assigned_at, user.key)
        index = bisect.bisect_left(ranked, entry)
        if index < len(ranked) and ranked[index] == entry:
            del ranked[index]

    # -- organizations, projects, settings ------------------------------------------------

    async def create_organization(
        self,
        organization: Organization,
        default_project: Project,
        *,
        log: AdminLogEntry | None = None,
    ) -> None:
        with self._lock:
            if organization.id in self._tenants:
                raise ValueError(f"organization {organization.id!r} exists")
            tenant = _Tenant(_copy_organization(organization))
            tenant.sync_log = _TimeOrderedLog(_SYNC_LOG, self.sync_log_cap)
            tenant.projects[default_project.id] = _copy(default_project)
            self._tenants[organization.id] = tenant
            self._log(log)

    async def get_organization(self, organization_id: str) -> Organization | None:
        with self._lock:
            tenant = self._tenant(organization_id)
            return _copy_organization(tenant.organization) if tenant else None

    async def list_organizations(self) -> list[Organization]:
        with self._lock:
            organizations = [_copy_organization(t.organization) for t in self._tenants.values()]
        return sorted(organizations, key=lambda o: (o.created_at, o.id))

    async def update_settings(
        self, organization_id: str, settings: Settings, *, log: AdminLogEntry | None = None
    ) -> Organization | None:
        with self._lock:
            tenant = self._tenant(organization_id)
            if tenant is None:
                return None
            tenant.organization.settings = _copy(settings)
            self._log(log)
            return _copy_organization(tenant.organization)

    async def upsert_project(self, project: Project, *, log: AdminLogEntry | None = None) -> None:
        with self._lock:
            tenant = self._tenant(project.organization_id)
            if tenant is not None:
                tenant.projects[project.id] = _copy(project)
                self._log(log)

    async def get_project(self, organization_id: str, project_id: str) -> Project | None:
        with self._lock:
            tenant = self._tenant(organization_id)
            project = tenant.projects.get(project_id) if tenant else None
            return _copy(project) if project else None

    async def list_projects(self, organization_id: str) -> list[Project]:
        with self._lock:
            tenant = self._tenant(organization_id)
            if tenant is None:
                return []
            return [_copy(tenant.projects[k]) for k in sorted(tenant.projects)]

    # -- subscriptions ---------------------------------------------------------------------

    async def add_subscription(
        self, subscription: Subscription, *, log: AdminLogEntry | None = None
    ) -> None:
        with self._lock:
            tenant = self._tenant(subscription.organization_id)
            if tenant is not None:
                tenant.subscriptions.append(_copy(subscription))
                tenant.subscriptions.sort(key=lambda s: (s.valid_from, s.id))
                self._log(log)

    async def list_subscriptions(self, organization_id: str) -> list[Subscription]:
        with self._lock:
            tenant = self._tenant(organization_id)
            return [_copy(s) for s in tenant.subscriptions] if tenant else []

    # -- tokens ----------------------------------------------------------------------------

    async def add_token(self, token: Token, *, log: AdminLogEntry | None = None) -> None:
        with self._lock:
            if token.secret_hash in self._token_hashes or token.id in self._tokens:
                raise ValueError("token exists")
            self._tokens[token.id] = _copy(token)
            self._token_hashes[token.secret_hash] = token.id
            self._log(log)

    async def find_token(self, secret_hash: str) -> Token | None:
        with self._lock:
            token_id = self._token_hashes.get(secret_hash)
            return _copy(self._tokens[token_id]) if token_id else None

    async def list_tokens(self, organization_id: str | None) -> list[Token]:
        with self._lock:
            tokens = [
                _copy(t)
                for t in self._tokens.values()
                if organization_id is None or t.organization_id == organization_id
            ]
        return sorted(tokens, key=lambda t: (t.created_at, t.id))

    def _owned_token(self, token_id: str, organization_id: str | None) -> Token | None:
        """The stored token `token_id` if it belongs to `organization_id` (any for None); under
        the lock."""
        token = self._tokens.get(token_id)
        if token is None or (
            organization_id is not None and token.organization_id != organization_id
        ):
            return None
        return token

    async def set_token_budget(
        self,
        token_id: str,
        organization_id: str | None,
        requests_per_second: float | None,
        *,
        log: AdminLogEntry | None = None,
    ) -> Token | None:
        with self._lock:
            token = self._owned_token(token_id, organization_id)
            if token is None:
                return None
            token.requests_per_second = requests_per_second
            self._log(log)
            return _copy(token)

    async def touch_token(self, token_id: str, at: datetime) -> None:
        with self._lock:
            token = self._tokens.get(token_id)
            if token is not None and (token.last_used_at is None or token.last_used_at < at):
                token.last_used_at = at

    async def revoke_token(
        self,
        token_id: str,
        organization_id: str | None,
        at: datetime,
        *,
        log: AdminLogEntry | None = None,
    ) -> Token | None:
        with self._lock:
            token = self._owned_token(token_id, organization_id)
            if token is None:
                return None
            if token.revoked_at is None:
                token.revoked_at = at
                self._log(log)
            return _copy(token)

    # -- users -----------------------------------------------------------------------------

    async def get_user(self, organization_id: str, key: str) -> MobileUser | None:
        with self._lock:
            tenant = self._tenant(organization_id)
            user = tenant.users.get(key) if tenant else None
            return _copy(user) if user else None

    async def get_users(self, organization_id: str, keys: list[str]) -> dict[str, MobileUser]:
        with self._lock:
            tenant = self._tenant(organization_id)
            if tenant is None:
                return {}
            return {k: _copy(tenant.users[k]) for k in keys if k in tenant.users}

    async def find_user_by_email(self, organization_id: str, email: str) -> MobileUser | None:
        with self._lock:
            tenant = self._tenant(organization_id)
            key = tenant.emails.get(email.casefold()) if tenant else None
            return _copy(tenant.users[key]) if tenant and key else None

    async def record_sync(
        self,
        organization_id: str,
        user_id: str,
        email: str,
        full_name: str | None,
        required: LicenseType,
        now: datetime,
    ) -> MobileUser:
        record = SyncRecord(organization_id, user_id, email, full_name, required, now)
        while True:
            with self._lock:
                tenant = self._tenants[organization_id]
                if tenant.building is None:
                    return _copy(self._record(tenant, record))
                waiting = tenant.building.waiter()
            await waiting  # a large write of this organization is being built (`bulk`)

    def _record(self, tenant: _Tenant, record: SyncRecord) -> MobileUser:
        """`record_sync` under the lock: the stored user, recorded (EmailTaken before any write)."""
        key, email, full_name, now = record.key, record.email, record.full_name, record.now
        owner = tenant.emails.get(email.casefold())
        if owner is not None and owner != key:
            raise EmailTaken(email, tenant.users[owner].id)
        user = tenant.users.get(key)
        if user is None:
            user = MobileUser(
                organization_id=record.organization_id,
                id=record.user_id,
                full_name=full_name or email,
                email=email,
                created_at=now,
            )
            self._index_user(tenant, user)
        elif user.email != email or (full_name and user.full_name != full_name):
            # Re-index under the new e-mail and name.
            self._unindex_user(tenant, user)
            user.email = email
            if full_name:
                user.full_name = full_name
            self._index_user(tenant, user)
        _unpend(tenant, user)
        if user.first_sync_at is None:
            user.first_sync_at = now
        user.last_sync_at = now
        user.last_required = record.required
        _pend(tenant, user)
        return user

    async def start_grace_period(
        self, organization_id: str, key: str, now: datetime
    ) -> MobileUser | None:
        while True:
            with self._lock:
                tenant = self._tenant(organization_id)
                if tenant is not None and tenant.building is not None:
                    waiting = tenant.building.waiter()
                else:
                    user = tenant.users.get(key) if tenant else None
                    if tenant is None or user is None:
                        return None
                    _start_grace(tenant, user, now)
                    return _copy(user)
            await waiting  # a large write of this organization is being built (`bulk`)

    async def write_sync(self, writes: SyncWrites) -> SyncWriteResult:
        """Everything under the lock once: check, record, seat change, grace, entry."""
        record = writes.record
        while True:
            with self._lock:
                tenant = self._tenants[record.organization_id]
                if tenant.building is None:
                    return self._write_sync(tenant, writes)
                waiting = tenant.building.waiter()
            await waiting  # a large write of this organization is being built (`bulk`)

    def _write_sync(self, tenant: _Tenant, writes: SyncWrites) -> SyncWriteResult:
        """`write_sync` under the lock."""
        record = writes.record
        before = tenant.users.get(record.key)
        if sync_basis(before) != sync_basis(writes.expected):
            return Conflict((record.key,))
        owner = tenant.emails.get(fold(record.email))
        if owner is not None and owner != record.key:
            raise EmailTaken(record.email, tenant.users[owner].id)
        change_set = writes.change_set
        if change_set is not None and before is not None:
            # The record changes no selector: check and apply the seat change first, so
            # that a refusal has written nothing.
            result = self._apply(tenant, change_set)
            if not isinstance(result, Applied):
                return result
            change_set = None
        user = self._record(tenant, record)
        if change_set is not None:  # a user this write creates: refused, it goes again
            result = self._apply(tenant, change_set)
            if not isinstance(result, Applied):
                self._unindex_user(tenant, user)
                return result
        if writes.start_grace:
            _start_grace(tenant, user, record.now)
        self._append_sync_log(tenant, writes.log, user)
        return SyncWritten(_copy(user))

    async def apply_changes(self, change_set: ChangeSet) -> ApplyResult:
        # The tenant's writers one at a time: wait while a large write is being built.
        while True:
            with self._lock:
                tenant = self._tenants[change_set.organization_id]
                if tenant.building is None:
                    size = len(change_set.creates) + len(change_set.changes)
                    size += len(change_set.deletes)
                    if size <= _IN_PLACE_USERS and size * (len(tenant.users) + size) <= (
                        _IN_PLACE_COST
                    ):
                        return self._apply(tenant, change_set)
                    building = tenant.building = Building()
                    break
                waiting = tenant.building.waiter()
            await waiting
        # A large change set: decided and built beside the live state in slices that give the
        # event loop back (other organizations' requests are served meanwhile), then swapped in
        # whole. Nobody else writes this tenant until `building` is cleared, so what was decided
        # still holds at the swap; readers see the state before until then (issue 9, B9).
        try:
            refusal = await run_sliced(decide(tenant, change_set))
            if refusal is not None:
                return refusal
            state = await run_sliced(build(tenant, change_set))
            with self._lock:
                tenant.users, tenant.emails = state.users, state.emails
                tenant.holders, tenant.ranked = state.holders, state.ranked
                tenant.order, tenant.pending = state.order, state.pending
                tenant.audit_log.extend(state.audit, state.audit_merged)
            return Applied()
        finally:
            with self._lock:
                tenant.building = None
                building.finish()

    def _apply(self, tenant: _Tenant, change_set: ChangeSet) -> ApplyResult:
        """A small change set, decided and written at once (the caller holds the lock)."""
        refusal = run_now(decide(tenant, change_set))
        if refusal is not None:
            return refusal
        for deletion in change_set.deletes:
            self._unindex_user(tenant, tenant.users[deletion.user_key])
        for change in change_set.changes:
            user = tenant.users[change.user_key]
            _unpend(tenant, user)
            self._release(tenant, user)
            user.standard = change.standard
            user.inspections = change.inspections
            user.assigned_at = change.assigned_at
            self._hold(tenant, user)
            _pend(tenant, user)
        for user in change_set.creates:
            self._index_user(tenant, _copy(user))
        audit = change_set.audit
        if change_set.order_audit:  # under the lock: the log's order is the commit order
            audit = order_audit_entries(audit, tenant.audit_log.newest())
        for entry in audit:
            tenant.audit_log.append(_AUDIT_LOG.pack(entry))
        return Applied()

    async def count_holders(self, organization_id: str, license_type: LicenseType) -> int:
        with self._lock:
            tenant = self._tenant(organization_id)
            return len(tenant.holders[license_type]) if tenant else 0

    async def holders_ranked_before(
        self, organization_id: str, license_type: LicenseType, assigned_at: datetime, key: str
    ) -> int:
        with self._lock:
            tenant = self._tenant(organization_id)
            if tenant is None:
                return 0
            # Bisect the sorted ranking: no holder record is read (issue 9, finding 7).
            return bisect.bisect_left(tenant.ranked[license_type], (assigned_at, key))

    async def find_longest_inactive_holder(
        self, organization_id: str, license_type: LicenseType, cutoff: datetime
    ) -> MobileUser | None:
        with self._lock:
            tenant = self._tenant(organization_id)
            if tenant is None:
                return None
            best, best_rank = None, None
            for k in tenant.holders[license_type]:
                user = tenant.users[k]
                activity = user.last_sync_at or user.assigned_at
                if activity is None or activity > cutoff:
                    continue
                rank = (activity, user.assigned_at, k)
                if best_rank is None or rank < best_rank:
                    best, best_rank = user, rank
            return _copy(best) if best else None

    async def list_users(
        self, organization_id: str, query: UserQuery, first: int, after: tuple[str, str] | None
    ) -> list[MobileUser]:
        with self._lock:
            tenant = self._tenant(organization_id)
            if tenant is None or query.matches_nobody:
                return []
            start = 0
            if after is not None:
                # Compare on (name, id) only: a sentinel third element would lose to keys that
                # start with it (an id such as "\U0010ffffz"), repeating that user on the next page.
                start = bisect.bisect_right(
                    tenant.order, (after[0], after[1]), key=lambda entry: entry[:2]
                )
            page: list[MobileUser] = []
            for _, _, key in tenant.order[start:] if start else tenant.order:
                user = tenant.users[key]
                if query.matches(user):
                    page.append(_copy(user))
                    if len(page) >= first:
                        break
            return page

    async def count_users(self, organization_id: str, query: UserQuery) -> int:
        with self._lock:
            tenant = self._tenant(organization_id)
            if tenant is None or query.matches_nobody:
                return 0
            if query == UserQuery():
                return len(tenant.users)
            if (
                query.selector
                and query.selector[1] is LicenseState.ASSIGNED
                and query == UserQuery(selector=query.selector)
            ):
                return len(tenant.holders[query.selector[0]])
            if query.pending_for is not None and _is_pending_count(query):
                pending = tenant.pending[query.pending_for]
                if query.grace_since is None:
                    return len(pending)
                # Grace started strictly after grace_since: entries past the last one at or before.
                since = query.grace_since
                return len(pending) - bisect.bisect_right(pending, since, key=itemgetter(0))
            return sum(1 for user in tenant.users.values() if query.matches(user))

    # -- logs ------------------------------------------------------------------------------

    async def append_sync_log(self, entry: SyncLogEntry) -> None:
        with self._lock:
            tenant = self._tenant(entry.organization_id)
            if tenant is not None:
                self._append_sync_log(tenant, entry)

    @staticmethod
    def _append_sync_log(
        tenant: _Tenant, entry: SyncLogEntry, user: MobileUser | None = None
    ) -> None:
        # A million entries repeat the same users' ids and e-mails: hold the user record's own
        # strings when they are equal, not one copy per entry (B5). `write_sync` passes the user
        # it has just recorded: no second key computation and lookup.
        user_id, email = entry.user_id, entry.email
        if user is None:
            user = tenant.users.get(user_key(user_id))
        if user is not None:
            if user.id == user_id:
                user_id = user.id
            if user.email == email:
                email = user.email
        tenant.sync_log.append(_SYNC_LOG.pack(entry, user_id=user_id, email=email))

    async def list_sync_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[SyncLogEntry]:
        with self._lock:
            tenant = self._tenant(organization_id)
            if tenant is None:
                return []
            return _page(tenant.sync_log, query, first, after, lambda e: not e[_SYNC_OK])

    async def purge_sync_log(self, before: datetime) -> int:
        with self._lock:
            return sum(t.sync_log.purge(before) for t in self._tenants.values())

    async def list_audit_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[AuditEntry]:
        with self._lock:
            tenant = self._tenant(organization_id)
            if tenant is None:
                return []
            return _page(tenant.audit_log, query, first, after, lambda e: True)

    async def list_admin_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[AdminLogEntry]:
        with self._lock:
            tenant = self._tenant(organization_id)
            if tenant is None:
                return []
            in_range = LogQuery(since=query.since, until=query.until)
            return _page(tenant.admin_log, in_range, first, after, lambda e: True)


_SYNC_OK = _SYNC_LOG.index["ok"]


def _page(
    log: _TimeOrderedLog[R],
    query: LogQuery,
    first: int,
    after: tuple[datetime, str] | None,
    is_error: Callable[[Packed], bool],
) -> list[R]:
    """Up to `first` records of `log` matching `query`, newest first, from packed entries."""
    packing = log.packing
    at, user_id = packing.index["at"], packing.index.get("user_id", -1)
    page: list[R] = []
    for entry in log.newest_first(after, query.until):
        if query.since is not None and entry[at] < query.since:
            break
        if query.user_key is not None and user_key(entry[user_id]) != query.user_key:
            continue
        if query.errors_only and not is_error(entry):
            continue
        page.append(packing.unpack(entry))
        if len(page) >= first:
            break
    return page
