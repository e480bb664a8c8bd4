"""Strawberry object types: the shapes of the GraphQL API, no decisions. The enums are in
schema/enums.py, the mutations' payloads in schema/payloads.py, the inputs in schema/inputs.py.

Names and fields follow tests/contract/operations.graphql; the schema may offer more, never less.
Every type and field carries a description (issue 12): `make check` runs graphql-schema-linter's
description rules on schema.graphql.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Generic, TypeVar

import strawberry
from seatkeeper.domain import records
from seatkeeper.resolvers.fields import api_path
from seatkeeper.rules.outcomes import UserError as _UserError
from seatkeeper.rules.outcomes import UserView
from seatkeeper.schema.enums import (
    AuditReason,
    Client,
    LicenseErrorCode,
    LicenseErrorReason,
    LicenseState,
    LicenseType,
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


@strawberry.type(
    description=(
        "Why a mutation changed nothing: any entry means the whole mutation was refused (SPEC 2, "
        "invariant 5). Each payload's `userErrors` field lists the codes it can carry."
    )
)
class UserError:
    code: str = strawberry.field(
        description=(
            "What went wrong, for programs: NOT_ENOUGH_SEATS, USER_NOT_FOUND, USER_EXISTS, "
            "TRIAL_ACTIVE, INVALID_INPUT, EMAIL_TAKEN, PROJECT_NOT_FOUND, ORGANIZATION_NOT_FOUND, "
            "CSV_INVALID, TOKEN_NOT_FOUND or CONFLICT. Each payload's `userErrors` says which "
            "codes it can carry."
        )
    )
    message: str = strawberry.field(
        description="What went wrong, for people (English; its wording may change: match on code)."
    )
    field: list[str] | None = strawberry.field(
        default=None,
        description=(
            'The path into the mutation\'s arguments of the value at fault, e.g. ["input", '
            '"userIds", "2"]; null when no single value is.'
        ),
    )
    user_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "The user an entry of a bulk mutation is about (USER_NOT_FOUND, USER_EXISTS, "
            "EMAIL_TAKEN, a new user's INVALID_INPUT); null otherwise."
        ),
    )

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


@strawberry.type(
    description="One item of a page and its cursor (the Relay connection specification's Edge)."
)
class Edge(Generic[N]):
    cursor: str = strawberry.field(
        description="Opaque: pass it as `after` to read the items that follow this one."
    )
    node: N = strawberry.field(description="The item.")


# ---------------------------------------------------------------- organization


@strawberry.type(
    description=(
        "A tenant: it owns its users, projects, subscriptions, settings, tokens and logs; nothing "
        "crosses from one organization to another (SPEC 1)."
    )
)
class Organization:
    id: strawberry.ID = strawberry.field(
        description="The organization's id; the OPERATOR names organizations by it."
    )
    name: str = strawberry.field(
        description="Its name, as the OPERATOR gave it (1–200 characters)."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    trial_ends_at: datetime | None = strawberry.field(
        description=(
            "The end of its trial (SPEC 3): before it, every sync is granted (`trial: true`) and "
            "license management answers TRIAL_ACTIVE. Null for an organization created without a "
            "trial."
        )
    )
    settings: Settings = strawberry.field(description="Its licensing settings.")
    projects: list[Project] = strawberry.field(
        description="Its projects, ordered by id; the default project (id `default`) included."
    )


@strawberry.type(
    description="An organization's licensing settings (SPEC 3); ADMIN changes them with updateSettings."
)
class Settings:
    auto_assign_licenses: bool = strawberry.field(
        description=(
            "Whether a sync assigns a free seat of the required type automatically (SPEC 4.6; "
            "default false). Off, users get a temporary license instead (SPEC 4.7)."
        )
    )
    auto_free_up_licenses: bool = strawberry.field(
        description=(
            "Whether a sync that finds no free seat takes the seat of the holder inactive longest,"
            " if at least inactivityDays (SPEC 4.6.2; default false). Acts only with "
            "autoAssignLicenses on."
        )
    )
    inactivity_days: int = strawberry.field(
        description=(
            "Days without a sync after which a user is inactive: its seat may be freed up, and it "
            "matches `inactive: true` (1–3650, default 90)."
        )
    )
    grace_period_days: int = strawberry.field(
        description=(
            "Length of a user's temporary license, from its first sync without a license (SPEC "
            "4.7; 0–365, default 14)."
        )
    )

    @classmethod
    def from_rules(cls, settings: records.Settings) -> Settings:
        return cls(
            auto_assign_licenses=settings.auto_assign_licenses,
            auto_free_up_licenses=settings.auto_free_up_licenses,
            inactivity_days=settings.inactivity_days,
            grace_period_days=settings.grace_period_days,
        )


@strawberry.type(
    description="The app configuration a user syncs against; its kind is the license it requires (SPEC 1)."
)
class Project:
    id: strawberry.ID = strawberry.field(
        description=(
            "The project's id, as the ADMIN chose it (1–64 characters); `default` is the project "
            "of syncs that name none."
        )
    )
    name: str = strawberry.field(description="Its name, for people (1–200 characters).")
    kind: ProjectKind = strawberry.field(description="The license type it requires.")

    @classmethod
    def from_rules(cls, project: records.Project) -> Project:
        return cls(id=strawberry.ID(project.id), name=project.name, kind=project.kind)


@strawberry.type(
    description=(
        "One purchase of seats of one license type for a period (SPEC 1), added by the OPERATOR "
        "with addSubscription. Named so as not to clash with GraphQL's root Subscription type."
    )
)
class LicenseSubscription:
    id: strawberry.ID = strawberry.field(description="The subscription's id.")
    license_type: LicenseType = strawberry.field(description="The license type bought.")
    seats: int | None = strawberry.field(
        description="Seats bought (at least 1); null for EXTERNAL, which has no seats."
    )
    valid_from: datetime = strawberry.field(description="When it starts (included).")
    valid_until: datetime = strawberry.field(
        description="When it ends (excluded: valid while validFrom <= now < validUntil)."
    )
    status: SubscriptionStatus = strawberry.field(
        description="Where it stands now: ACTIVE, EXPIRED or UPCOMING."
    )


@strawberry.type(
    description=(
        "One license type's capacity and holders now (SPEC 6): `subscriptions` has one row per "
        "license type, whether or not it has subscriptions."
    )
)
class SubscriptionSummary:
    license_type: LicenseType = strawberry.field(description="The license type of this row.")
    active: bool = strawberry.field(description="Whether a subscription of this type is valid now.")
    seats: int | None = strawberry.field(
        description=(
            "Capacity now: the seats of the subscriptions valid now (0 when none is); null for "
            "EXTERNAL."
        )
    )
    assigned: int | None = strawberry.field(
        description="Users holding a seat of this type; null for EXTERNAL."
    )
    available: int | None = strawberry.field(
        description="Free seats: max(0, seats − assigned); null for EXTERNAL."
    )
    over_allocated: int | None = strawberry.field(
        description=(
            "Holders beyond capacity after it fell: max(0, assigned − seats). The most recently "
            "assigned of them fail to sync with LICENSE_EXPIRED until seats are bought or released"
            " (SPEC 5). Null for EXTERNAL."
        )
    )
    pending: int = strawberry.field(
        description=(
            "Users inside their temporary window whose latest sync required this type, who hold no"
            " covering seat and are not DISABLED for it; 0 for EXTERNAL."
        )
    )
    items: list[LicenseSubscription] = strawberry.field(
        description="The subscriptions of this type, past, present and upcoming, ordered by validFrom."
    )


# ---------------------------------------------------------------- users and sync


@strawberry.type(
    description=(
        "A user of the app (mobile, web or a web service) in one organization, with its two "
        "license selectors (SPEC 1)."
    )
)
class MobileUser:
    id: strawberry.ID = strawberry.field(
        description=(
            "The user's id from the customer's backend (1–128 characters). A GUID finds the user "
            "in any spelling (case, braces, hyphens)."
        )
    )
    full_name: str = strawberry.field(
        description=(
            "The user's name (at most 256 characters), as its latest sync or an ADMIN gave it; the"
            " e-mail for a user whose syncs never named one."
        )
    )
    email: str = strawberry.field(
        description=(
            "The user's e-mail address, unique in the organization (case-insensitive; at most 254 "
            "characters)."
        )
    )
    created_at: datetime = strawberry.field(
        description="When the user was created: by its first sync, createUsers or an import."
    )
    first_sync_at: datetime | None = strawberry.field(
        description="The user's first sync; null before it."
    )
    last_sync_at: datetime | None = strawberry.field(
        description="The user's latest sync, granted or refused; null before the first."
    )
    standard: LicenseState = strawberry.field(
        description="The STANDARD selector: ASSIGNED, UNASSIGNED (pending) or DISABLED."
    )
    inspections: LicenseState = strawberry.field(
        description="The INSPECTIONS selector: ASSIGNED, UNASSIGNED (pending) or DISABLED."
    )
    active_license: LicenseType | None = strawberry.field(
        description="The seat type the user holds (one at most, SPEC 2), or null."
    )
    assigned_at: datetime | None = strawberry.field(
        description=(
            "When the seat the user holds was assigned (it ranks the holders when capacity falls, "
            "SPEC 5); null without a seat."
        )
    )
    grace_ends_at: datetime | None = strawberry.field(
        description=(
            "The end of the user's temporary license once it has started (SPEC 4.7), else null; "
            "null in mutation payloads (read the user with `user` or `users`)."
        )
    )
    inactive: bool | None = strawberry.field(
        description=(
            "Whether the user's latest sync (else its assignment, else its creation) is at least "
            "inactivityDays old; null in mutation payloads (read the user with `user` or `users`)."
        )
    )

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


@strawberry.type(
    description="A page of the organization's users in list order (SPEC 6a): a Relay connection."
)
class UserConnection:
    total_count: int = strawberry.field(
        description="How many users match the search and filter, all pages together."
    )
    page_info: PageInfo = strawberry.field(
        description=(
            "Where this page stands: read the next one with `after: pageInfo.endCursor` while "
            "`hasNextPage`."
        )
    )
    edges: list[Edge[MobileUser]] = strawberry.field(
        description="The users of this page, in list order: full name case-insensitively, then id."
    )


@strawberry.type(description="The license a sync granted (SPEC 4).")
class License:
    type: LicenseType = strawberry.field(
        description=(
            "The license type granted: the one the project requires, or the seat held that covers "
            "it (INSPECTIONS for a STANDARD project)."
        )
    )
    temporary: bool = strawberry.field(
        description=(
            "Whether this is the user's temporary license (automatic assignment off, SPEC 4.7); it"
            " ends at expiresAt."
        )
    )
    trial: bool = strawberry.field(
        description=(
            "Whether the organization is in its trial (SPEC 4.2): no seat is taken; it ends at "
            "expiresAt."
        )
    )
    expires_at: datetime | None = strawberry.field(
        description="When a trial or temporary license ends; null for a seat or an EXTERNAL license."
    )


@strawberry.type(
    description="Why a sync was refused: data in the payload, never a GraphQL error (SPEC 4)."
)
class LicenseError:
    code: LicenseErrorCode = strawberry.field(description="LICENSE_NOT_FOUND or LICENSE_EXPIRED.")
    reason: LicenseErrorReason = strawberry.field(
        description="Which rule refused (SPEC 4); each reason belongs to one code."
    )
    message: str = strawberry.field(
        description="Exactly `LICENSE: NOT FOUND` or `LICENSE: EXPIRED`, for the app to show."
    )
    license_type: LicenseType = strawberry.field(
        description=(
            "The license type refused: the one the project requires, or the seat held when that "
            "seat is over capacity (SPEC 4.4)."
        )
    )


# ---------------------------------------------------------------- logs


@strawberry.type(
    description=(
        "One sync attempt and its answer (SPEC 4.8). Entries expire after the retention period (90"
        " days by default)."
    )
)
class SyncLogEntry:
    at: datetime = strawberry.field(description="When the sync happened.")
    user_id: strawberry.ID = strawberry.field(description="The user id the sync sent.")
    email: str = strawberry.field(description="The e-mail the sync sent.")
    project_id: strawberry.ID | None = strawberry.field(
        description="The project synced against (`default` when the sync named none)."
    )
    client: Client = strawberry.field(description="The client that synced.")
    ok: bool = strawberry.field(description="Whether a license was granted.")
    error_code: str | None = strawberry.field(
        description=(
            "The license error's code, or the first userErrors code (e.g. INVALID_INPUT); null "
            "when ok."
        )
    )
    reason: str | None = strawberry.field(
        description="The license error's reason, or that userError's message; null when ok."
    )
    license_type: LicenseType | None = strawberry.field(
        description="The license type granted, or the one a license error refused; null for userErrors."
    )
    temporary: bool = strawberry.field(
        description="Whether the license granted was the temporary one."
    )
    freed_user_id: strawberry.ID | None = strawberry.field(
        description="The user whose seat was freed up for this sync (autoFreeUpLicenses), else null."
    )


@strawberry.type(description="A page of the sync log, newest first (SPEC 8): a Relay connection.")
class SyncLogConnection:
    page_info: PageInfo = strawberry.field(
        description=(
            "Where this page stands: read the next one with `after: pageInfo.endCursor` while "
            "`hasNextPage`."
        )
    )
    edges: list[Edge[SyncLogEntry]] = strawberry.field(
        description="The entries of this page, newest first."
    )


@strawberry.type(
    description=(
        "One change of one license selector of one user, and who made it (SPEC 8; SPEC 2, "
        "invariant 4)."
    )
)
class AuditEntry:
    at: datetime = strawberry.field(description="When the selector changed.")
    user_id: strawberry.ID = strawberry.field(description="The user whose selector changed.")
    license_type: LicenseType = strawberry.field(
        description="The selector that changed: STANDARD or INSPECTIONS."
    )
    from_state: LicenseState = strawberry.field(description="The selector's state before.")
    to_state: LicenseState = strawberry.field(description="The selector's state after.")
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
    reason: AuditReason = strawberry.field(description="Why it changed.")
    operation_id: strawberry.ID = strawberry.field(
        description="Shared by every change of one request (one bulk mutation, one import, one sync)."
    )
    beneficiary_user_id: strawberry.ID | None = strawberry.field(
        description="For AUTO_FREE_UP: the user the seat was freed for; else null."
    )


@strawberry.type(description="A page of the audit log, newest first (SPEC 8): a Relay connection.")
class AuditLogConnection:
    page_info: PageInfo = strawberry.field(
        description=(
            "Where this page stands: read the next one with `after: pageInfo.endCursor` while "
            "`hasNextPage`."
        )
    )
    edges: list[Edge[AuditEntry]] = strawberry.field(
        description="The entries of this page, newest first."
    )


# ---------------------------------------------------------------- vendor side and tokens


@strawberry.type(
    description=(
        "A named API token of an organization (SPEC 9). Its secret was shown once, when it was "
        "created, and is stored only as a hash: it is never readable again."
    )
)
class ApiToken:
    id: strawberry.ID = strawberry.field(
        description=(
            "The token's id (not its secret): revokeToken takes it, audit entries name it "
            "(actorTokenId)."
        )
    )
    name: str = strawberry.field(
        description="Its name, for people: 1–100 printable characters; two tokens may share one."
    )
    role: Role = strawberry.field(description="ADMIN, SYNC or READER.")
    organization_id: strawberry.ID | None = strawberry.field(
        description="The organization it acts on."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked (it stopped working then); null while it works."
    )

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
    role: Role = strawberry.field(description="The caller's role: what it may call (SPEC 9).")
    token_id: strawberry.ID | None = strawberry.field(
        description="The token's id; null for an OPERATOR secret given as configuration."
    )
    token_name: str | None = strawberry.field(
        description="The token's name; null for an OPERATOR secret given as configuration."
    )
    organization_id: strawberry.ID | None = strawberry.field(
        description="The token's organization; null for the OPERATOR."
    )
    organization: Organization | None = strawberry.field(
        description="Null for the OPERATOR and for a SYNC token (which may only sync)."
    )
