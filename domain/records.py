"""The domain records of SPEC.md section 1: plain dataclasses shared by the engine and the storage.

Records hold data only. The rules that decide what happens to them live in `decisions.py` (pure
functions) and `engine.py` (operations that apply decisions through the Storage protocol).
"""

from __future__ import annotations

import enum
import itertools
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from seatkeeper.domain.entropy import random_hex

__all__ = [
    "DEFAULT_PROJECT_ID",
    "SEAT_TYPES",
    "SYSTEM_ACTOR",
    "AdminAction",
    "AdminLogEntry",
    "AuditEntry",
    "AuditReason",
    "Client",
    "LicenseErrorCode",
    "LicenseErrorReason",
    "LicenseState",
    "LicenseType",
    "MobileUser",
    "Organization",
    "Project",
    "ProjectKind",
    "Role",
    "Settings",
    "Subscription",
    "SubscriptionStatus",
    "SyncLogEntry",
    "Token",
    "new_id",
    "new_sortable_id",
    "seat_held",
    "user_key",
]


class LicenseType(str, enum.Enum):
    STANDARD = "STANDARD"
    INSPECTIONS = "INSPECTIONS"
    EXTERNAL = "EXTERNAL"


#: The license types that are seats, held by one user each (SPEC 1).
SEAT_TYPES: tuple[LicenseType, ...] = (LicenseType.STANDARD, LicenseType.INSPECTIONS)


class LicenseState(str, enum.Enum):
    ASSIGNED = "ASSIGNED"
    UNASSIGNED = "UNASSIGNED"
    DISABLED = "DISABLED"


class ProjectKind(str, enum.Enum):
    STANDARD = "STANDARD"
    INSPECTIONS = "INSPECTIONS"
    EXTERNAL = "EXTERNAL"

    @property
    def required_license(self) -> LicenseType:
        """The license type of the same name (SPEC 1, Project)."""
        return LicenseType(self.value)


class Client(str, enum.Enum):
    MOBILE = "MOBILE"
    WEB = "WEB"
    API = "API"


class Role(str, enum.Enum):
    OPERATOR = "OPERATOR"
    ADMIN = "ADMIN"
    SYNC = "SYNC"
    READER = "READER"


class AuditReason(str, enum.Enum):
    MANUAL = "MANUAL"
    IMPORT = "IMPORT"
    AUTO_ASSIGN = "AUTO_ASSIGN"
    AUTO_FREE_UP = "AUTO_FREE_UP"
    SWITCH = "SWITCH"
    DELETE = "DELETE"


class AdminAction(str, enum.Enum):
    """What an administration-log entry records (SPEC 8): the changes that are not selectors'."""

    ORGANIZATION_CREATED = "ORGANIZATION_CREATED"
    SETTINGS_CHANGED = "SETTINGS_CHANGED"
    PROJECT_CREATED = "PROJECT_CREATED"
    PROJECT_CHANGED = "PROJECT_CHANGED"
    SUBSCRIPTION_ADDED = "SUBSCRIPTION_ADDED"
    TOKEN_CREATED = "TOKEN_CREATED"
    TOKEN_REVOKED = "TOKEN_REVOKED"
    TOKEN_CHANGED = "TOKEN_CHANGED"


class LicenseErrorCode(str, enum.Enum):
    LICENSE_NOT_FOUND = "LICENSE_NOT_FOUND"
    LICENSE_EXPIRED = "LICENSE_EXPIRED"


class LicenseErrorReason(str, enum.Enum):
    DISABLED = "DISABLED"
    NO_SEAT_AVAILABLE = "NO_SEAT_AVAILABLE"
    NO_SUBSCRIPTION = "NO_SUBSCRIPTION"
    GRACE_PERIOD_ENDED = "GRACE_PERIOD_ENDED"
    SUBSCRIPTION_EXPIRED = "SUBSCRIPTION_EXPIRED"
    OVER_CAPACITY = "OVER_CAPACITY"


class SubscriptionStatus(str, enum.Enum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    UPCOMING = "UPCOMING"


SYSTEM_ACTOR = "system"
DEFAULT_PROJECT_ID = "default"


def new_id() -> str:
    return uuid.uuid4().hex


_sequence = itertools.count()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def new_sortable_id(at: datetime) -> str:
    """A unique id that sorts in creation order: log entries written at the same instant keep
    their order (the entry's own time in nanoseconds, a per-process sequence, then randomness).

    The time is the entry's `at`, which the engine took from its injected clock: records never
    read the wall clock.
    """
    nanoseconds = max(0, (at - _EPOCH) // _MICROSECOND) * 1000
    # 40 random bits, as uuid4().hex[:10], from the OS's randomness read a page at a time.
    return f"{nanoseconds:016x}{next(_sequence) & 0xFFFFFF:06x}{random_hex(5)}"


_CANONICAL_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# SPEC 1: a GUID spelling — spaces around, one optional pair of braces, hyphens optional.
_GUID_SPELLING = re.compile(
    r" *(\{)?([0-9a-fA-F]{8})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?([0-9a-fA-F]{4})-?"
    r"([0-9a-fA-F]{12})(?(1)\}) *"
)


def user_key(user_id: str) -> str:
    """The identity under which a user id is stored and compared (SPEC 1, Mobile user).

    A value that is a GUID spelling — 32 hex digits, hyphens at the usual places or missing,
    optionally in one pair of braces, with surrounding spaces — names the same user in any of
    those spellings and in any case (its key is the canonical lower-case hyphenated form); any
    other id is compared exactly. Stricter than `uuid.UUID`, which would also take `urn:`,
    `uuid:`, unbalanced braces and hyphens anywhere: those ids are not GUIDs, so they stay apart.
    """
    if _CANONICAL_GUID.fullmatch(user_id):  # already the key: skip parsing (issue 6)
        return user_id
    if 32 <= len(user_id.strip()) <= 38 and (match := _GUID_SPELLING.fullmatch(user_id)):
        return "-".join(match.group(2, 3, 4, 5, 6)).lower()
    return user_id


def seat_held(standard: LicenseState, inspections: LicenseState) -> LicenseType | None:
    """The seat type a user with these selectors holds, or None (SPEC 1).

    Invariant 2 allows at most one ASSIGNED selector; should both be, INSPECTIONS wins (it covers
    STANDARD projects too). The one place this is decided: the engine, the storage protocol and
    every plugin ask here.
    """
    if inspections is _ASSIGNED:
        return _INSPECTIONS
    if standard is _ASSIGNED:
        return _STANDARD
    return None


# Reading a member off its Enum class runs a Python descriptor on 3.11 (~0.2 µs): `seat_held`
# runs several times per sync (issue 12, B1), so it compares with module constants.
_ASSIGNED = LicenseState.ASSIGNED
_INSPECTIONS, _STANDARD = LicenseType.INSPECTIONS, LicenseType.STANDARD


@dataclass(slots=True)
class Settings:
    auto_assign_licenses: bool = False
    auto_free_up_licenses: bool = False
    inactivity_days: int = 90
    grace_period_days: int = 14


@dataclass(slots=True)
class Organization:
    id: str
    name: str
    created_at: datetime
    trial_ends_at: datetime | None = None
    settings: Settings = field(default_factory=Settings)


@dataclass(slots=True)
class Project:
    organization_id: str
    id: str
    name: str
    kind: ProjectKind


@dataclass(slots=True)
class Subscription:
    organization_id: str
    id: str
    license_type: LicenseType
    seats: int | None  # None for EXTERNAL, which carries no seat count
    valid_from: datetime
    valid_until: datetime

    def is_valid_at(self, now: datetime) -> bool:
        """Half-open validity: valid when `valid_from <= now < valid_until` (SPEC 1)."""
        return self.valid_from <= now < self.valid_until

    def status_at(self, now: datetime) -> SubscriptionStatus:
        if now < self.valid_from:
            return SubscriptionStatus.UPCOMING
        if now >= self.valid_until:
            return SubscriptionStatus.EXPIRED
        return SubscriptionStatus.ACTIVE


@dataclass(slots=True)
class MobileUser:
    organization_id: str
    id: str
    full_name: str
    email: str
    created_at: datetime
    standard: LicenseState = LicenseState.UNASSIGNED
    inspections: LicenseState = LicenseState.UNASSIGNED
    assigned_at: datetime | None = None  # when the seat now held was assigned
    first_sync_at: datetime | None = None
    last_sync_at: datetime | None = None
    grace_started_at: datetime | None = None
    last_required: LicenseType | None = (
        None  # the license the latest sync required (SPEC 6 pending)
    )

    @property
    def key(self) -> str:
        return user_key(self.id)

    @property
    def email_key(self) -> str:
        return self.email.casefold()

    def selector(self, license_type: LicenseType) -> LicenseState:
        if license_type is LicenseType.STANDARD:
            return self.standard
        if license_type is LicenseType.INSPECTIONS:
            return self.inspections
        raise ValueError("EXTERNAL has no per-user selector")

    @property
    def active_license(self) -> LicenseType | None:
        """The seat type the user holds, or None (SPEC 1; invariant 2 allows at most one)."""
        return seat_held(self.standard, self.inspections)

    @property
    def selectors(self) -> tuple[LicenseState, LicenseState]:
        return (self.standard, self.inspections)

    def last_activity(self) -> datetime:
        """`lastSyncAt`, else `assignedAt`, else `createdAt`: what inactivity is measured from."""
        return self.last_sync_at or self.assigned_at or self.created_at


@dataclass(slots=True)
class Token:
    id: str
    organization_id: str | None
    name: str
    role: Role
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None
    expires_at: datetime | None = None  # it stops working then (None: never)
    last_used_at: datetime | None = None  # coarse: see `rules.token_use`
    requests_per_second: float | None = None  # its own request budget (None: the server's)


@dataclass(slots=True)
class SyncLogEntry:
    organization_id: str
    at: datetime
    user_id: str
    email: str
    project_id: str | None
    client: Client
    ok: bool
    error_code: str | None = None
    reason: str | None = None
    license_type: LicenseType | None = None
    temporary: bool = False
    freed_user_id: str | None = None
    id: str = ""  # given by the storage when read back; a new entry gets `new_sortable_id(at)`

    def __post_init__(self) -> None:
        if not self.id:
            self.id = new_sortable_id(self.at)


@dataclass(slots=True)
class AuditEntry:
    organization_id: str
    at: datetime
    user_id: str
    license_type: LicenseType
    from_state: LicenseState
    to_state: LicenseState
    actor: str
    reason: AuditReason
    operation_id: str
    beneficiary_user_id: str | None = None
    id: str = ""  # given by the storage when read back; a new entry gets `new_sortable_id(at)`

    def __post_init__(self) -> None:
        if not self.id:
            self.id = new_sortable_id(self.at)


@dataclass(slots=True)
class AdminLogEntry:
    """One administrative change (SPEC 8, administration log): who changed what, when.

    `actor` is recorded as the audit log records it (`<ROLE>:<token id>`, `OPERATOR`, `system`);
    `target_id` is the id of the organization, project, subscription or token changed; `details`
    says what changed, for people ("autoAssignLicenses: false -> true").
    """

    organization_id: str
    at: datetime
    action: AdminAction
    actor: str
    target_id: str
    details: str = ""
    id: str = ""  # given by the storage when read back; a new entry gets `new_sortable_id(at)`

    def __post_init__(self) -> None:
        if not self.id:
            self.id = new_sortable_id(self.at)
