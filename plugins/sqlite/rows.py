"""Records to SQLite rows and back: times as integer microseconds (UTC), enums by their value."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

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
    user_key,
)
from seatkeeper.storage.protocol import fold

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

#: A row as sqlite3 returns it, or as written: values of mixed plain types.
Row = sqlite3.Row | tuple[Any, ...]

_STATES = {s.value: s for s in LicenseState}
_TYPES = {t.value: t for t in LicenseType}


def to_time(moment: datetime | None) -> int | None:
    """Microseconds since 1970 UTC. A naive datetime is refused: every time here is aware."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: storage times are aware (UTC)")
    return (moment - EPOCH) // _MICROSECOND


def from_time(value: int | None) -> datetime | None:
    return None if value is None else at_time(value)


def at_time(value: int) -> datetime:
    """`from_time` of a column that is never NULL."""
    return EPOCH + timedelta(microseconds=value)


def _enum_value(member: Any) -> Any:
    return None if member is None else member.value


# -- organizations, projects, subscriptions, tokens ----------------------------------------

ORGANIZATION_COLUMNS = (
    "id, name, created_at, trial_ends_at, auto_assign_licenses, auto_free_up_licenses, "
    "inactivity_days, grace_period_days"
)


def organization_row(organization: Organization) -> tuple[Any, ...]:
    s = organization.settings
    return (
        organization.id,
        organization.name,
        to_time(organization.created_at),
        to_time(organization.trial_ends_at),
        int(s.auto_assign_licenses),
        int(s.auto_free_up_licenses),
        s.inactivity_days,
        s.grace_period_days,
    )


def organization_of(row: Row) -> Organization:
    return Organization(
        id=row[0],
        name=row[1],
        created_at=at_time(row[2]),
        trial_ends_at=from_time(row[3]),
        settings=Settings(bool(row[4]), bool(row[5]), row[6], row[7]),
    )


def project_of(row: Row) -> Project:
    return Project(row[0], row[1], row[2], ProjectKind(row[3]))


SUBSCRIPTION_COLUMNS = "org, id, license_type, seats, valid_from, valid_until"


def subscription_row(s: Subscription) -> tuple[Any, ...]:
    return (
        s.organization_id,
        s.id,
        s.license_type.value,
        s.seats,
        to_time(s.valid_from),
        to_time(s.valid_until),
    )


def subscription_of(row: Row) -> Subscription:
    return Subscription(
        row[0],
        row[1],
        _TYPES[row[2]],
        row[3],
        at_time(row[4]),
        at_time(row[5]),
    )


ADMIN_LOG_COLUMNS = "org, at, id, action, actor, target_id, details"


def admin_log_row(e: AdminLogEntry) -> tuple[Any, ...]:
    return (e.organization_id, to_time(e.at), e.id, e.action.value, e.actor, e.target_id, e.details)


def admin_log_of(row: Row) -> AdminLogEntry:
    return AdminLogEntry(
        organization_id=row[0],
        at=at_time(row[1]),
        id=row[2],
        action=AdminAction(row[3]),
        actor=row[4],
        target_id=row[5],
        details=row[6],
    )


TOKEN_COLUMNS = (
    "id, org, name, role, secret_hash, created_at, revoked_at, expires_at, last_used_at, "
    "requests_per_second"
)


def token_row(t: Token) -> tuple[Any, ...]:
    return (
        t.id,
        t.organization_id,
        t.name,
        t.role.value,
        t.secret_hash,
        to_time(t.created_at),
        to_time(t.revoked_at),
        to_time(t.expires_at),
        to_time(t.last_used_at),
        t.requests_per_second,
    )


def token_of(row: Row) -> Token:
    return Token(
        row[0],
        row[1],
        row[2],
        Role(row[3]),
        row[4],
        at_time(row[5]),
        from_time(row[6]),
        from_time(row[7]),
        from_time(row[8]),
        row[9],
    )


# -- users ---------------------------------------------------------------------------------

#: The stored columns of a user, in `user_row` order (the generated ones are SQLite's).
USER_COLUMNS = (
    "org, key, id, full_name, email, created_at, standard, inspections, assigned_at, "
    "first_sync_at, last_sync_at, grace_started_at, last_required, email_key, name_key, id_fold"
)
#: What a read selects to rebuild a MobileUser (`user_of`).
USER_READ = (
    "org, id, full_name, email, created_at, standard, inspections, assigned_at, "
    "first_sync_at, last_sync_at, grace_started_at, last_required"
)


def user_row(u: MobileUser) -> tuple[Any, ...]:
    return (
        u.organization_id,
        u.key,
        u.id,
        u.full_name,
        u.email,
        to_time(u.created_at),
        u.standard.value,
        u.inspections.value,
        to_time(u.assigned_at),
        to_time(u.first_sync_at),
        to_time(u.last_sync_at),
        to_time(u.grace_started_at),
        _enum_value(u.last_required),
        fold(u.email),
        fold(u.full_name),
        fold(u.id),
    )


def user_of(row: Row) -> MobileUser:
    return MobileUser(
        organization_id=row[0],
        id=row[1],
        full_name=row[2],
        email=row[3],
        created_at=at_time(row[4]),
        standard=_STATES[row[5]],
        inspections=_STATES[row[6]],
        assigned_at=from_time(row[7]),
        first_sync_at=from_time(row[8]),
        last_sync_at=from_time(row[9]),
        grace_started_at=from_time(row[10]),
        last_required=None if row[11] is None else _TYPES[row[11]],
    )


# -- logs ----------------------------------------------------------------------------------

SYNC_LOG_COLUMNS = (
    "org, at, id, user_id, email, project_id, client, ok, error_code, reason, license_type, "
    "temporary, freed_user_id"
)


def sync_log_row(e: SyncLogEntry) -> tuple[Any, ...]:
    return (
        e.organization_id,
        to_time(e.at),
        e.id,
        e.user_id,
        user_key(e.user_id),
        e.email,
        e.project_id,
        e.client.value,
        int(e.ok),
        e.error_code,
        e.reason,
        _enum_value(e.license_type),
        int(e.temporary),
        e.freed_user_id,
    )


def sync_log_of(row: Row) -> SyncLogEntry:
    return SyncLogEntry(
        organization_id=row[0],
        at=at_time(row[1]),
        id=row[2],
        user_id=row[3],
        email=row[4],
        project_id=row[5],
        client=Client(row[6]),
        ok=bool(row[7]),
        error_code=row[8],
        reason=row[9],
        license_type=None if row[10] is None else _TYPES[row[10]],
        temporary=bool(row[11]),
        freed_user_id=row[12],
    )


AUDIT_COLUMNS = (
    "org, at, id, user_id, license_type, from_state, to_state, actor, reason, operation_id, "
    "beneficiary_user_id"
)


def audit_row(e: AuditEntry) -> tuple[Any, ...]:
    return (
        e.organization_id,
        to_time(e.at),
        e.id,
        e.user_id,
        user_key(e.user_id),
        e.license_type.value,
        e.from_state.value,
        e.to_state.value,
        e.actor,
        e.reason.value,
        e.operation_id,
        e.beneficiary_user_id,
    )


def audit_of(row: Row) -> AuditEntry:
    return AuditEntry(
        organization_id=row[0],
        at=at_time(row[1]),
        id=row[2],
        user_id=row[3],
        license_type=_TYPES[row[4]],
        from_state=_STATES[row[5]],
        to_state=_STATES[row[6]],
        actor=row[7],
        reason=AuditReason(row[8]),
        operation_id=row[9],
        beneficiary_user_id=row[10],
    )
