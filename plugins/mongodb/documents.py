"""Records <-> MongoDB documents: one function each way per record, and the time convention.

Times are stored as BSON dates, which keep milliseconds: every datetime is written as naive UTC
truncated to the millisecond (what BSON would keep anyway, so that a value we query with equals
the value we stored), and read back as an aware UTC datetime whatever the client's `tz_aware`.

Derived fields exist only to be indexed: `name_key` (the list order of SPEC 6a), `email_key`
(unique e-mail, invariant 3), `id_fold` (case-insensitive search), `held` (the seat type held,
so that holders are one index range).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any, NotRequired, TypedDict, TypeVar, overload

from seatkeeper.domain.records import (
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
    seat_held,
)

#: A document as pymongo reads and writes it (filters, updates, documents read back).
Document = dict[str, Any]
#: A document read back: only read here, never changed.
Read = Mapping[str, Any]

E = TypeVar("E", bound=Enum)


# ------------------------------------------------------------------ the documents' shapes


class SettingsDocument(TypedDict):
    auto_assign_licenses: bool
    auto_free_up_licenses: bool
    inactivity_days: int
    grace_period_days: int


class OrganizationDocument(TypedDict):
    _id: str
    name: str
    created_at: datetime
    trial_ends_at: datetime | None
    settings: SettingsDocument


class ProjectDocument(TypedDict):
    org: str
    id: str
    name: str
    kind: str


class SubscriptionDocument(TypedDict):
    _id: str
    org: str
    license_type: str
    seats: int | None
    valid_from: datetime
    valid_until: datetime


class TokenDocument(TypedDict):
    _id: str
    org: str | None
    name: str
    role: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None
    last_used_at: datetime | None
    requests_per_second: float | None


class SelectorFields(TypedDict):
    standard: str
    inspections: str
    held: str | None
    assigned_at: datetime | None


class UserDocument(SelectorFields):
    """A user; `first_sync_at` is absent until the first sync (so that `$min` sets it)."""

    org: str
    key: str
    id: str
    id_fold: str
    full_name: str
    name_key: str
    email: str
    email_key: str
    created_at: datetime
    first_sync_at: NotRequired[datetime]
    last_sync_at: datetime | None
    grace_started_at: datetime | None
    last_required: str | None
    # The change-set lock and history (changes.py); never read into a record.
    journal: NotRequired[str | None]
    ops: NotRequired[list[str]]
    created_by: NotRequired[str]


class SyncLogDocument(TypedDict):
    _id: str
    org: str
    at: datetime
    user_key: str
    user_id: str
    email: str
    project_id: str | None
    client: str
    ok: bool
    error_code: str | None
    reason: str | None
    license_type: str | None
    temporary: bool
    freed_user_id: str | None


class AuditDocument(TypedDict):
    _id: str
    org: str
    at: datetime
    user_key: str
    user_id: str
    license_type: str
    from_state: str
    to_state: str
    actor: str
    reason: str
    operation_id: str
    beneficiary_user_id: str | None


class AdminLogDocument(TypedDict):
    _id: str
    org: str
    at: datetime
    action: str
    actor: str
    target_id: str
    details: str


# ------------------------------------------------------------------------------------ time


@overload
def to_bson_time(value: datetime) -> datetime: ...
@overload
def to_bson_time(value: None) -> None: ...
@overload
def to_bson_time(value: datetime | None) -> datetime | None: ...
def to_bson_time(value: datetime | None) -> datetime | None:
    """Naive UTC, truncated to the millisecond: exactly what a BSON date holds."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


@overload
def from_bson_time(value: datetime) -> datetime: ...
@overload
def from_bson_time(value: None) -> None: ...
@overload
def from_bson_time(value: datetime | None) -> datetime | None: ...
def from_bson_time(value: datetime | None) -> datetime | None:
    """Aware UTC, whether the client was built with `tz_aware` or not."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _enum(kind: type[E], value: str | None) -> E | None:
    return None if value is None else kind(value)


# ------------------------------------------------------------------------------ organizations


def organization_document(organization: Organization) -> OrganizationDocument:
    return {
        "_id": organization.id,
        "name": organization.name,
        "created_at": to_bson_time(organization.created_at),
        "trial_ends_at": to_bson_time(organization.trial_ends_at),
        "settings": settings_document(organization.settings),
    }


def settings_document(settings: Settings) -> SettingsDocument:
    return {
        "auto_assign_licenses": settings.auto_assign_licenses,
        "auto_free_up_licenses": settings.auto_free_up_licenses,
        "inactivity_days": settings.inactivity_days,
        "grace_period_days": settings.grace_period_days,
    }


def organization_record(doc: Read) -> Organization:
    settings = doc.get("settings") or {}
    return Organization(
        id=doc["_id"],
        name=doc["name"],
        created_at=from_bson_time(doc["created_at"]),
        trial_ends_at=from_bson_time(doc.get("trial_ends_at")),
        settings=Settings(**settings),
    )


def project_document(project: Project) -> ProjectDocument:
    return {
        "org": project.organization_id,
        "id": project.id,
        "name": project.name,
        "kind": project.kind.value,
    }


def project_record(doc: Read) -> Project:
    return Project(doc["org"], doc["id"], doc["name"], ProjectKind(doc["kind"]))


def subscription_document(subscription: Subscription) -> SubscriptionDocument:
    return {
        "_id": subscription.id,
        "org": subscription.organization_id,
        "license_type": subscription.license_type.value,
        "seats": subscription.seats,
        "valid_from": to_bson_time(subscription.valid_from),
        "valid_until": to_bson_time(subscription.valid_until),
    }


def subscription_record(doc: Read) -> Subscription:
    return Subscription(
        organization_id=doc["org"],
        id=doc["_id"],
        license_type=LicenseType(doc["license_type"]),
        seats=doc.get("seats"),
        valid_from=from_bson_time(doc["valid_from"]),
        valid_until=from_bson_time(doc["valid_until"]),
    )


def token_document(token: Token) -> TokenDocument:
    return {
        "_id": token.id,
        "org": token.organization_id,
        "name": token.name,
        "role": token.role.value,
        "secret_hash": token.secret_hash,
        "created_at": to_bson_time(token.created_at),
        "revoked_at": to_bson_time(token.revoked_at),
        "expires_at": to_bson_time(token.expires_at),
        "last_used_at": to_bson_time(token.last_used_at),
        "requests_per_second": token.requests_per_second,
    }


def token_record(doc: Read) -> Token:
    return Token(
        id=doc["_id"],
        organization_id=doc.get("org"),
        name=doc["name"],
        role=Role(doc["role"]),
        secret_hash=doc["secret_hash"],
        created_at=from_bson_time(doc["created_at"]),
        revoked_at=from_bson_time(doc.get("revoked_at")),
        expires_at=from_bson_time(doc.get("expires_at")),
        last_used_at=from_bson_time(doc.get("last_used_at")),
        requests_per_second=doc.get("requests_per_second"),
    )


# ------------------------------------------------------------------------------------ users


def held_value(standard: LicenseState, inspections: LicenseState) -> str | None:
    """The seat type held (`seat_held`), as stored in `held`."""
    held = seat_held(standard, inspections)
    return held.value if held is not None else None


def selector_fields(
    standard: LicenseState, inspections: LicenseState, assigned_at: datetime | None
) -> SelectorFields:
    """The fields one selector change writes: both selectors at once (invariant 2)."""
    return {
        "standard": standard.value,
        "inspections": inspections.value,
        "held": held_value(standard, inspections),
        "assigned_at": to_bson_time(assigned_at),
    }


def user_document(user: MobileUser) -> UserDocument:
    """A full user document. `first_sync_at` is left out while unset, so that `$min` sets it."""
    selectors = selector_fields(user.standard, user.inspections, user.assigned_at)
    doc: UserDocument = {
        "org": user.organization_id,
        "key": user.key,
        "id": user.id,
        "id_fold": user.id.casefold(),
        "full_name": user.full_name,
        "name_key": user.full_name.casefold(),
        "email": user.email,
        "email_key": user.email_key,
        "created_at": to_bson_time(user.created_at),
        "last_sync_at": to_bson_time(user.last_sync_at),
        "grace_started_at": to_bson_time(user.grace_started_at),
        "last_required": None if user.last_required is None else user.last_required.value,
        "standard": selectors["standard"],
        "inspections": selectors["inspections"],
        "held": selectors["held"],
        "assigned_at": selectors["assigned_at"],
    }
    if user.first_sync_at is not None:
        doc["first_sync_at"] = to_bson_time(user.first_sync_at)
    return doc


def user_record(doc: Read) -> MobileUser:
    return MobileUser(
        organization_id=doc["org"],
        id=doc["id"],
        full_name=doc["full_name"],
        email=doc["email"],
        created_at=from_bson_time(doc["created_at"]),
        standard=LicenseState(doc["standard"]),
        inspections=LicenseState(doc["inspections"]),
        assigned_at=from_bson_time(doc.get("assigned_at")),
        first_sync_at=from_bson_time(doc.get("first_sync_at")),
        last_sync_at=from_bson_time(doc.get("last_sync_at")),
        grace_started_at=from_bson_time(doc.get("grace_started_at")),
        last_required=_enum(LicenseType, doc.get("last_required")),
    )


# ------------------------------------------------------------------------------------- logs


def sync_log_document(entry: SyncLogEntry, user_key: str) -> SyncLogDocument:
    return {
        "_id": entry.id,
        "org": entry.organization_id,
        "at": to_bson_time(entry.at),
        "user_key": user_key,
        "user_id": entry.user_id,
        "email": entry.email,
        "project_id": entry.project_id,
        "client": entry.client.value,
        "ok": entry.ok,
        "error_code": entry.error_code,
        "reason": entry.reason,
        "license_type": None if entry.license_type is None else entry.license_type.value,
        "temporary": entry.temporary,
        "freed_user_id": entry.freed_user_id,
    }


def sync_log_record(doc: Read) -> SyncLogEntry:
    return SyncLogEntry(
        organization_id=doc["org"],
        at=from_bson_time(doc["at"]),
        user_id=doc["user_id"],
        email=doc["email"],
        project_id=doc.get("project_id"),
        client=Client(doc["client"]),
        ok=doc["ok"],
        error_code=doc.get("error_code"),
        reason=doc.get("reason"),
        license_type=_enum(LicenseType, doc.get("license_type")),
        temporary=doc.get("temporary", False),
        freed_user_id=doc.get("freed_user_id"),
        id=doc["_id"],
    )


def audit_document(entry: AuditEntry, user_key: str) -> AuditDocument:
    """Keyed by the entry's own id, so that writing it twice (a repair) keeps one copy."""
    return {
        "_id": entry.id,
        "org": entry.organization_id,
        "at": to_bson_time(entry.at),
        "user_key": user_key,
        "user_id": entry.user_id,
        "license_type": entry.license_type.value,
        "from_state": entry.from_state.value,
        "to_state": entry.to_state.value,
        "actor": entry.actor,
        "reason": entry.reason.value,
        "operation_id": entry.operation_id,
        "beneficiary_user_id": entry.beneficiary_user_id,
    }


def admin_log_document(entry: AdminLogEntry) -> AdminLogDocument:
    """Keyed by the entry's own id."""
    return {
        "_id": entry.id,
        "org": entry.organization_id,
        "at": to_bson_time(entry.at),
        "action": entry.action.value,
        "actor": entry.actor,
        "target_id": entry.target_id,
        "details": entry.details,
    }


def admin_log_record(doc: Read) -> AdminLogEntry:
    return AdminLogEntry(
        organization_id=doc["org"],
        at=from_bson_time(doc["at"]),
        action=AdminAction(doc["action"]),
        actor=doc["actor"],
        target_id=doc["target_id"],
        details=doc["details"],
        id=doc["_id"],
    )


def audit_record(doc: Read) -> AuditEntry:
    return AuditEntry(
        organization_id=doc["org"],
        at=from_bson_time(doc["at"]),
        user_id=doc["user_id"],
        license_type=LicenseType(doc["license_type"]),
        from_state=LicenseState(doc["from_state"]),
        to_state=LicenseState(doc["to_state"]),
        actor=doc["actor"],
        reason=AuditReason(doc["reason"]),
        operation_id=doc["operation_id"],
        beneficiary_user_id=doc.get("beneficiary_user_id"),
        id=doc["_id"],
    )
