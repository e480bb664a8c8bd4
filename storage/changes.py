"""What the engine asks a backend to write atomically, and what the backend answers.

A change set (`ChangeSet`: selector changes carrying the selectors they were decided on, creates,
deletions, the seat limits and the audit entries) and a sync's writes (`SyncWrites`), with the
results a backend answers: applied, or the refusal that makes the engine decide again. The
promises each write keeps are stated in `seatkeeper.storage.protocol`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from operator import attrgetter

from seatkeeper.domain.records import (
    AuditEntry,
    LicenseState,
    LicenseType,
    MobileUser,
    SyncLogEntry,
    new_sortable_id,
    seat_held,
    user_key,
)


@dataclass(frozen=True)
class SelectorChange:
    """Set both selectors of one existing user, if they are still what the engine decided on."""

    user_key: str
    expected: tuple[LicenseState, LicenseState]  # (standard, inspections) when the engine read them
    standard: LicenseState
    inspections: LicenseState
    assigned_at: datetime | None  # when the seat held after the change was assigned; None if none


@dataclass(frozen=True)
class UserDeletion:
    """Remove one user, if its selectors are still what the engine decided on."""

    user_key: str
    expected: tuple[LicenseState, LicenseState]


@dataclass
class ChangeSet:
    """One all-or-nothing write: creates, selector changes and deletions, with their audit entries.

    `seat_limits` gives, per seat type, the capacity the engine computed for now. A type whose
    number of holders the change set would raise may not end above its limit. A type whose count
    does not rise (a switch away from it, a seat moved from one user to another) is not checked,
    so that a change never fails for an over-allocation it does not worsen (SPEC 5).
    """

    organization_id: str
    creates: list[MobileUser] = field(default_factory=list)
    changes: list[SelectorChange] = field(default_factory=list)
    deletes: list[UserDeletion] = field(default_factory=list)
    seat_limits: dict[LicenseType, int] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    #: Stamp the audit entries' order when the change set commits (`order_audit_entries`), not
    #: keep the `at` and `id` they were planned with. The engine sets it: a change set planned
    #: before another one committed (an import planned in a worker thread, a sync between) must
    #: still list after it, or the audit log no longer replays to the stored state (invariant 4).
    order_audit: bool = False

    def holder_delta(self, current: dict[str, MobileUser]) -> dict[LicenseType, int]:
        """Net change of holders per seat type, given the current records of the touched users."""
        delta = {t: 0 for t in (LicenseType.STANDARD, LicenseType.INSPECTIONS)}
        for user in self.creates:
            if user.active_license is not None:
                delta[user.active_license] += 1
        for change in self.changes:
            before = current[change.user_key].active_license
            after = seat_held(change.standard, change.inspections)
            if before is not None:
                delta[before] -= 1
            if after is not None:
                delta[after] += 1
        for deletion in self.deletes:
            before = current[deletion.user_key].active_license
            if before is not None:
                delta[before] -= 1
        return delta


def order_audit_entries(
    entries: list[AuditEntry], newest: tuple[datetime, str] | None
) -> list[AuditEntry]:
    """The audit entries of a committing change set, stamped to list after `newest`.

    `newest` is the `(at, id)` of the organization's newest audit entry, read inside the same
    atomic step as the write (None when there is none). Each entry's `at` is raised to the newest
    `at` when it is older (never lowered), and each gets a fresh id (`new_sortable_id`) that sorts
    after `newest` and after the entries before it in the list. A backend that honours
    `ChangeSet.order_audit` writes these instead of the entries it was given.
    """
    stamped: list[AuditEntry] = []
    last = newest
    for entry in entries:
        at = entry.at if last is None or entry.at > last[0] else last[0]
        entry_id = new_sortable_id(at)
        if last is not None and at == last[0] and entry_id <= last[1]:
            # Another process's sequence at the same instant: count on from the newest id.
            entry_id = _id_after(last[1])
        stamped.append(replace(entry, at=at, id=entry_id))
        last = (at, entry_id)
    return stamped


def _id_after(entry_id: str) -> str:
    """An id that sorts just after `entry_id` (same length for ours; longer for any other)."""
    try:
        return f"{int(entry_id, 16) + 1:0{len(entry_id)}x}"
    except ValueError:
        return entry_id + "0"


@dataclass(frozen=True)
class Applied:
    """`apply_changes` succeeded: every write of the change set landed."""


@dataclass(frozen=True)
class Conflict:
    """Some users were not as expected (changed or deleted meanwhile): nothing was written."""

    user_keys: tuple[str, ...]


@dataclass(frozen=True)
class AlreadyExists:
    """A user to create has an id or e-mail already taken: nothing was written."""

    user_keys: tuple[str, ...]  # keys of the creates that collide
    emails: tuple[str, ...]  # e-mail keys that collide


@dataclass(frozen=True)
class SeatShortage:
    """The change set would raise a seat type above its limit: nothing was written."""

    license_type: LicenseType
    holders: int  # holders of the type when the change was refused
    delta: int  # net holders the change set would add


ApplyResult = Applied | Conflict | AlreadyExists | SeatShortage


@dataclass(frozen=True)
class SyncRecord:
    """What a sync records of its user (SPEC 4.1), whatever is decided: see `recorded_user`."""

    organization_id: str
    user_id: str
    email: str
    full_name: str | None  # None keeps the stored name (a new user is named by the e-mail)
    required: LicenseType  # the license the sync's project requires (the user's last_required)
    now: datetime
    #: `user_key(user_id)`, computed once: a sync's engine and backend read it several times.
    key: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", user_key(self.user_id))  # frozen: set once, here


@dataclass
class SyncWrites:
    """Everything one sync writes (SPEC 4), for `write_sync` to land whole or not at all.

    The engine reads the user (`get_user`), decides on `recorded_user(expected, record)` — the
    user as this sync records it — and then hands over the record, what it decided to write
    (a grace start or a seat change) and the sync-log entry that reports the decision.
    """

    record: SyncRecord
    #: The user as the engine read it before deciding, None if absent: the write is refused as
    #: a Conflict unless `sync_basis` of the stored user still equals `sync_basis(expected)`.
    expected: MobileUser | None
    log: SyncLogEntry  # the sync-log entry reporting the decision (SPEC 4.8)
    start_grace: bool = False  # set grace_started_at = now if unset (SPEC 4.7)
    #: The seat change (SPEC 4.6: an automatic assignment, with a free-up), applied after the
    #: record, with `apply_changes`'s checks; it may change the syncing user even when that user
    #: is created by this very write (expected selectors UNASSIGNED, UNASSIGNED).
    change_set: ChangeSet | None = None


@dataclass(frozen=True)
class SyncWritten:
    """`write_sync` succeeded: the record, the grace start or seat change, and the entry landed."""

    user: MobileUser  # the user as stored afterwards


SyncWriteResult = SyncWritten | Conflict | AlreadyExists | SeatShortage


def sync_basis(
    user: MobileUser | None,
) -> tuple[LicenseState, LicenseState, datetime | None, datetime | None]:
    """What a sync's decision rests on: both selectors, `assigned_at` and `grace_started_at`.

    An absent user has the basis of the one a sync creates (nothing held, no grace), so that a
    first sync racing another first sync of the same id is no conflict: both decided alike.
    """
    if user is None:
        return (LicenseState.UNASSIGNED, LicenseState.UNASSIGNED, None, None)
    return (user.standard, user.inspections, user.assigned_at, user.grace_started_at)


def recorded_user(before: MobileUser | None, record: SyncRecord) -> MobileUser:
    """The user as a sync's `record` leaves it over `before` (SPEC 4.1; `record_sync`'s rule).

    Created with both selectors UNASSIGNED, `created_at = now` and the e-mail for a missing full
    name when `before` is None; otherwise e-mail and (when given) full name replaced. Then
    `first_sync_at` set if unset, `last_sync_at = now`, `last_required = required`. Selectors,
    seat and grace are left as they were. `before` itself is not changed.
    """
    now = record.now
    if before is None:
        return MobileUser(
            organization_id=record.organization_id,
            id=record.user_id,
            full_name=record.full_name or record.email,
            email=record.email,
            created_at=now,
            first_sync_at=now,
            last_sync_at=now,
            last_required=record.required,
        )
    # A copy by one constructor call, then the recorded fields: `dataclasses.replace` checks
    # every field's init flag and cost a microsecond per sync (issue 12, B1).
    user = MobileUser(*_USER_VALUES(before))
    user.email = record.email
    if record.full_name:
        user.full_name = record.full_name
    if user.first_sync_at is None:
        user.first_sync_at = now
    user.last_sync_at = now
    user.last_required = record.required
    return user


#: A user's field values in constructor order, for `recorded_user`'s copy.
_USER_VALUES = attrgetter(*(f.name for f in fields(MobileUser)))
