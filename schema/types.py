"""Strawberry types, enums, inputs and payloads: the shapes of the GraphQL API, no decisions.

Names and fields follow tests/contract/operations.graphql; the schema may offer more, never less.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Generic, TypeVar

import strawberry
from seatkeeper.domain import records
from seatkeeper.resolvers.fields import api_path
from seatkeeper.rules.licenses_csv import ImportMode as _ImportMode
from seatkeeper.rules.outcomes import UserError as _UserError
from seatkeeper.rules.outcomes import UserView
from seatkeeper.schema.enums import (
    AuditReason,
    Client,
    ImportMode,
    LicenseErrorCode,
    LicenseErrorReason,
    LicenseState,
    LicenseType,
    ProblemSeverity,
    ProjectKind,
    Role,
    SubscriptionStatus,
)

# ---------------------------------------------------------------- scalars


def _serialize_datetime(value: datetime) -> str:
    """Output in UTC, ISO 8601 with `Z`."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_datetime(value: object) -> datetime:
    """Input: ISO 8601 with an offset (`Z` and `+00:00` both accepted)."""
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError(
            "DateTime must be an ISO 8601 string with an offset, e.g. 2026-01-31T12:00:00Z"
        )
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 date and time") from None
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no offset; add Z or +00:00")
    return parsed.astimezone(UTC)


#: Overrides strawberry's own datetime scalar (see `build_schema`): UTC out, an offset required in.
DateTimeScalar = strawberry.scalar(
    name="DateTime",
    description="ISO 8601 date and time with an offset; output in UTC.",
    serialize=_serialize_datetime,
    parse_value=_parse_datetime,
)

# ---------------------------------------------------------------- common


@strawberry.type
class UserError:
    code: str
    message: str
    field: list[str] | None = None
    user_id: strawberry.ID | None = None

    @classmethod
    def from_rules(cls, error: _UserError, within: tuple[str, ...] = ()) -> UserError:
        """`within`: the argument the mutation takes the rules' inputs in (`input`), if any."""
        return cls(
            code=error.code,
            message=error.message,
            field=api_path(error.field, within),
            user_id=strawberry.ID(error.user_id) if error.user_id is not None else None,
        )


def user_errors(errors: list[_UserError], within: tuple[str, ...] = ()) -> list[UserError]:
    return [UserError.from_rules(e, within) for e in errors]


@strawberry.type(
    description="Where a page stands in its list (the Relay connection specification's PageInfo)."
)
class PageInfo:
    has_next_page: bool = strawberry.field(
        description="Whether more items follow: ask again with `after: endCursor`."
    )
    end_cursor: str | None = strawberry.field(
        description="The cursor of the page's last item (null for an empty page)."
    )
    has_previous_page: bool = strawberry.field(
        default=False,
        description="Whether items come before this page: true when it was read `after` a "
        "cursor. Pages are read forward only (`first`/`after`).",
    )
    start_cursor: str | None = strawberry.field(
        default=None, description="The cursor of the page's first item (null for an empty page)."
    )


N = TypeVar("N")


@strawberry.type
class Edge(Generic[N]):
    cursor: str
    node: N


# ---------------------------------------------------------------- organization


@strawberry.type
class Organization:
    id: strawberry.ID
    name: str
    created_at: datetime
    trial_ends_at: datetime | None
    settings: Settings
    projects: list[Project]


@strawberry.type
class Settings:
    auto_assign_licenses: bool
    auto_free_up_licenses: bool
    inactivity_days: int
    grace_period_days: int

    @classmethod
    def from_rules(cls, settings: records.Settings) -> Settings:
        return cls(
            auto_assign_licenses=settings.auto_assign_licenses,
            auto_free_up_licenses=settings.auto_free_up_licenses,
            inactivity_days=settings.inactivity_days,
            grace_period_days=settings.grace_period_days,
        )


@strawberry.type
class Project:
    id: strawberry.ID
    name: str
    kind: ProjectKind

    @classmethod
    def from_rules(cls, project: records.Project) -> Project:
        return cls(id=strawberry.ID(project.id), name=project.name, kind=project.kind)


@strawberry.type
class LicenseSubscription:
    """One purchase of seats (named so as not to clash with GraphQL's root Subscription type)."""

    id: strawberry.ID
    license_type: LicenseType
    seats: int | None
    valid_from: datetime
    valid_until: datetime
    status: SubscriptionStatus


@strawberry.type
class SubscriptionSummary:
    license_type: LicenseType
    active: bool
    seats: int | None
    assigned: int | None
    available: int | None
    over_allocated: int | None
    pending: int
    items: list[LicenseSubscription]


# ---------------------------------------------------------------- users and sync


@strawberry.type
class MobileUser:
    id: strawberry.ID
    full_name: str
    email: str
    created_at: datetime
    first_sync_at: datetime | None
    last_sync_at: datetime | None
    standard: LicenseState
    inspections: LicenseState
    active_license: LicenseType | None
    assigned_at: datetime | None
    grace_ends_at: datetime | None
    inactive: bool | None

    @classmethod
    def from_user(cls, user: records.MobileUser, view: UserView | None = None) -> MobileUser:
        return cls(
            id=strawberry.ID(user.id),
            full_name=user.full_name,
            email=user.email,
            created_at=user.created_at,
            first_sync_at=user.first_sync_at,
            last_sync_at=user.last_sync_at,
            standard=user.standard,
            inspections=user.inspections,
            active_license=user.active_license,
            assigned_at=user.assigned_at,
            grace_ends_at=view.grace_ends_at if view else None,
            inactive=view.inactive if view else None,
        )

    @classmethod
    def from_view(cls, view: UserView) -> MobileUser:
        return cls.from_user(view.user, view)


@strawberry.type
class UserConnection:
    total_count: int
    page_info: PageInfo
    edges: list[Edge[MobileUser]]


@strawberry.type
class License:
    type: LicenseType
    temporary: bool
    trial: bool
    expires_at: datetime | None


@strawberry.type
class LicenseError:
    code: LicenseErrorCode
    reason: LicenseErrorReason
    message: str
    license_type: LicenseType


@strawberry.type
class SyncPayload:
    ok: bool
    license: License | None
    error: LicenseError | None
    user: MobileUser | None
    user_errors: list[UserError]


# ---------------------------------------------------------------- logs


@strawberry.type
class SyncLogEntry:
    at: datetime
    user_id: strawberry.ID
    email: str
    project_id: strawberry.ID | None
    client: Client
    ok: bool
    error_code: str | None
    reason: str | None
    license_type: LicenseType | None
    temporary: bool
    freed_user_id: strawberry.ID | None


@strawberry.type
class SyncLogConnection:
    page_info: PageInfo
    edges: list[Edge[SyncLogEntry]]


@strawberry.type
class AuditEntry:
    at: datetime
    user_id: strawberry.ID
    license_type: LicenseType
    from_state: LicenseState
    to_state: LicenseState
    actor: str = strawberry.field(
        description=(
            "Who acted, for people to read: the token's name (free text: identify it by "
            "actorTokenId), OPERATOR, or system for the engine's own changes (SPEC 8)."
        )
    )
    actor_role: str | None = strawberry.field(
        description="The acting token's role, or OPERATOR; null for system."
    )
    actor_token_id: strawberry.ID | None = strawberry.field(
        description="The acting token's id; null for the OPERATOR and for system."
    )
    reason: AuditReason
    operation_id: strawberry.ID
    beneficiary_user_id: strawberry.ID | None


@strawberry.type
class AuditLogConnection:
    page_info: PageInfo
    edges: list[Edge[AuditEntry]]


# ---------------------------------------------------------------- vendor side and tokens


@strawberry.type
class ApiToken:
    id: strawberry.ID
    name: str
    role: Role
    organization_id: strawberry.ID | None
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_rules(cls, token: records.Token) -> ApiToken:
        return cls(
            id=strawberry.ID(token.id),
            name=token.name,
            role=token.role,
            organization_id=strawberry.ID(token.organization_id) if token.organization_id else None,
            created_at=token.created_at,
            revoked_at=token.revoked_at,
        )


@strawberry.type(description="Who the caller is: the role, token and organization of its token.")
class Viewer:
    role: Role
    token_id: strawberry.ID | None = strawberry.field(
        description="The token's id; null for an OPERATOR secret given as configuration."
    )
    token_name: str | None
    organization_id: strawberry.ID | None
    organization: Organization | None = strawberry.field(
        description="Null for the OPERATOR and for a SYNC token (which may only sync)."
    )


# ---------------------------------------------------------------- payloads


@strawberry.type
class SetLicenseStatePayload:
    users: list[MobileUser]
    user_errors: list[UserError]


@strawberry.type
class CreateUsersPayload:
    users: list[MobileUser]
    user_errors: list[UserError]


@strawberry.type
class DeleteUsersPayload:
    deleted_ids: list[strawberry.ID]
    user_errors: list[UserError]


@strawberry.type
class UpdateSettingsPayload:
    settings: Settings | None
    user_errors: list[UserError]


@strawberry.type
class UpsertProjectPayload:
    project: Project | None
    user_errors: list[UserError]


@strawberry.type
class ImportProblem:
    line: int | None
    code: str
    message: str
    severity: ProblemSeverity


@strawberry.type
class ImportSummary:
    rows: int
    assigned: int
    unassigned: int
    disabled: int
    created: int
    unchanged: int


@strawberry.type
class ImportLicensesPayload:
    applied: bool
    summary: ImportSummary = strawberry.field(
        description="What the import changed; with errors or in a dry run, what it would change."
    )
    problems: list[ImportProblem] = strawberry.field(
        description="At most 1,000 problems in line order; problemTotal and problemCounts tell the rest."
    )
    user_errors: list[UserError]
    problem_total: int = strawberry.field(
        default=0, description="Every problem found, listed or not (SPEC 7)."
    )
    problem_counts: list[ProblemCount] = strawberry.field(
        default_factory=list, description="How many problems of each code were found."
    )


@strawberry.type(description="The number of an import's problems with one code.")
class ProblemCount:
    code: str = strawberry.field(description="A problem code of SPEC 7 (e.g. BAD_EMAIL).")
    count: int = strawberry.field(description="How many problems with this code the file has.")


@strawberry.type
class CreateOrganizationPayload:
    organization: Organization | None
    admin_token: str | None
    sync_token: str | None
    user_errors: list[UserError]


@strawberry.type
class AddSubscriptionPayload:
    subscription: LicenseSubscription | None
    user_errors: list[UserError]


@strawberry.type
class CreateTokenPayload:
    token: str | None
    token_id: strawberry.ID | None
    user_errors: list[UserError]


@strawberry.type
class RevokeTokenPayload:
    token: ApiToken | None
    user_errors: list[UserError]


# ---------------------------------------------------------------- inputs


@strawberry.input
class SyncInput:
    user_id: strawberry.ID
    email: str
    full_name: str | None = None
    project_id: strawberry.ID | None = None
    client: Client = records.Client.MOBILE


@strawberry.input
class UserFilter:
    license_type: LicenseType | None = None
    state: LicenseState | None = None
    inactive: bool | None = None


@strawberry.input
class SetLicenseStateInput:
    user_ids: list[strawberry.ID]
    license_type: LicenseType
    state: LicenseState


@strawberry.input
class UserInput:
    id: strawberry.ID
    full_name: str
    email: str
    standard: LicenseState = records.LicenseState.UNASSIGNED
    inspections: LicenseState = records.LicenseState.UNASSIGNED


@strawberry.input
class SettingsInput:
    auto_assign_licenses: bool | None = None
    auto_free_up_licenses: bool | None = None
    inactivity_days: int | None = None
    grace_period_days: int | None = None


@strawberry.input
class ProjectInput:
    id: strawberry.ID
    name: str
    kind: ProjectKind


@strawberry.input
class ImportLicensesInput:
    csv: str = strawberry.field(
        description=(
            "The file's text. Clients must send the file's bytes decoded as UTF-8 (a UTF-8 BOM "
            "may stay), or as UTF-16 when the file starts with a UTF-16 byte-order mark. Text "
            "holding U+FFFD (what a lenient decoder leaves for bytes it could not read, e.g. a "
            "Windows-1252 file) is refused with one NOT_UTF8 problem (SPEC 7)."
        )
    )
    mode: ImportMode = _ImportMode.MERGE
    dry_run: bool = False


@strawberry.input
class SyncLogFilter:
    user_id: strawberry.ID | None = None
    errors_only: bool | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.input
class AuditLogFilter:
    user_id: strawberry.ID | None = None
    since: datetime | None = None
    until: datetime | None = None


@strawberry.input
class CreateOrganizationInput:
    name: str
    trial_days: int = 0


@strawberry.input
class AddSubscriptionInput:
    organization_id: strawberry.ID
    license_type: LicenseType
    seats: int | None = None
    valid_from: datetime | None = None
    valid_until: datetime


@strawberry.input
class CreateTokenInput:
    organization_id: strawberry.ID
    role: Role
    name: str
