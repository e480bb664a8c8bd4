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


@strawberry.type(
    description="The answer to sync: a license (`ok: true`), a license error (`ok: false`), or userErrors."
)
class SyncPayload:
    ok: bool = strawberry.field(
        description=(
            "True when a license was granted (`license` is set); false for a license error "
            "(`error` is set) or userErrors."
        )
    )
    license: License | None = strawberry.field(description="The license granted; null unless ok.")
    error: LicenseError | None = strawberry.field(
        description="Why no license was granted; null when ok and when userErrors are set."
    )
    user: MobileUser | None = strawberry.field(
        description=(
            "The user as this sync left it (created by its first sync); null when userErrors are "
            "set. graceEndsAt and inactive are null here."
        )
    )
    user_errors: list[UserError] = strawberry.field(
        description=(
            "Empty unless the input was refused, which changes nothing but the sync log (SPEC "
            "4.1). Codes: INVALID_INPUT (an id, e-mail, name or projectId that is empty, too long,"
            " malformed or holds control characters), PROJECT_NOT_FOUND, EMAIL_TAKEN (another user"
            " of the organization has the e-mail), ORGANIZATION_NOT_FOUND (the token's "
            "organization no longer exists)."
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


# ---------------------------------------------------------------- payloads


@strawberry.type(description="The answer to setLicenseState: every listed user changed, or none.")
class SetLicenseStatePayload:
    users: list[MobileUser] = strawberry.field(
        description=(
            "The listed users after the change, each once, in the order of the request; empty when"
            " userErrors are set. graceEndsAt and inactive are null here."
        )
    )
    user_errors: list[UserError] = strawberry.field(
        description=(
            "Empty on success. Codes: TRIAL_ACTIVE (alone, during the trial), INVALID_INPUT (no "
            "ids, more than 100,000, a malformed id, licenseType EXTERNAL), USER_NOT_FOUND (one "
            "per unknown id, with userId), NOT_ENOUGH_SEATS (how many seats were needed and how "
            "many are free), CONFLICT (concurrent changes kept winning: nothing changed, try "
            "again); at most 1,000 entries per code listed, then one entry giving the total and "
            "the counts by code."
        )
    )


@strawberry.type(description="The answer to createUsers: every user created, or none.")
class CreateUsersPayload:
    users: list[MobileUser] = strawberry.field(
        description=(
            "The users created, in the order of the request; empty when userErrors are set. "
            "graceEndsAt and inactive are null here."
        )
    )
    user_errors: list[UserError] = strawberry.field(
        description=(
            "Empty on success. Codes: TRIAL_ACTIVE (during the trial, when a user would be "
            "ASSIGNED), INVALID_INPUT (no users, more than 100,000, a malformed id, name or "
            "e-mail, both selectors ASSIGNED), USER_EXISTS (the id is taken, or twice in the "
            "list), EMAIL_TAKEN (the e-mail belongs to another user, or is twice in the list), "
            "NOT_ENOUGH_SEATS; at most 1,000 entries per code listed, then one entry giving the "
            "total and the counts by code."
        )
    )


@strawberry.type(description="The answer to deleteUsers: every listed user deleted, or none.")
class DeleteUsersPayload:
    deleted_ids: list[strawberry.ID] = strawberry.field(
        description="The ids of the users deleted, as stored, each once; empty when userErrors are set."
    )
    user_errors: list[UserError] = strawberry.field(
        description=(
            "Empty on success. Codes: INVALID_INPUT (no ids, more than 100,000, a malformed id), "
            "USER_NOT_FOUND (one per unknown id, with userId), CONFLICT (concurrent changes kept "
            "winning: nothing changed, try again); at most 1,000 entries per code listed, then one"
            " entry giving the total and the counts by code."
        )
    )


@strawberry.type(description="The answer to updateSettings.")
class UpdateSettingsPayload:
    settings: Settings | None = strawberry.field(
        description="All the settings after the change; null when userErrors are set."
    )
    user_errors: list[UserError] = strawberry.field(
        description=(
            "Empty on success. Code: INVALID_INPUT (inactivityDays outside 1–3650, gracePeriodDays"
            " outside 0–365)."
        )
    )


@strawberry.type(description="The answer to upsertProject.")
class UpsertProjectPayload:
    project: Project | None = strawberry.field(
        description="The project as saved; null when userErrors are set."
    )
    user_errors: list[UserError] = strawberry.field(
        description=(
            "Empty on success. Code: INVALID_INPUT (an id of more than 64 characters or a name of "
            "more than 200, empty or holding control characters)."
        )
    )


@strawberry.type(description="One problem an import found in the file (SPEC 7).")
class ImportProblem:
    line: int | None = strawberry.field(
        description=(
            "The file's physical line, 1-based (the header is line 1); null for a problem of the "
            "whole file, such as capacity."
        )
    )
    code: str = strawberry.field(
        description=(
            "Errors: BAD_HEADER, MISSING_COLUMN, COLUMN_COUNT, BAD_VALUE, BAD_EMAIL, "
            "MISSING_FIELD, DUPLICATE_ID, DUPLICATE_EMAIL, ID_EMAIL_CONFLICT, NOT_ENOUGH_SEATS, "
            "EMPTY_FILE, NOT_CSV, NOT_UTF8; warnings: BOTH_ASSIGNED, NAME_LINE_BREAK, "
            "ID_REFORMATTED (SPEC 7)."
        )
    )
    message: str = strawberry.field(description="The problem and its fix, for people.")
    severity: ProblemSeverity = strawberry.field(
        description="ERROR (nothing is applied) or WARNING."
    )


@strawberry.type(
    description=(
        "What an import changed, or would change (a dry run, a file with errors): counts of SPEC 7."
    )
)
class ImportSummary:
    rows: int = strawberry.field(description="Data rows read.")
    assigned: int = strawberry.field(description="Selectors that become ASSIGNED.")
    unassigned: int = strawberry.field(description="Seats released.")
    disabled: int = strawberry.field(description="Selectors that become DISABLED.")
    created: int = strawberry.field(description="Users created.")
    unchanged: int = strawberry.field(description="Rows that change nothing.")


@strawberry.type(
    description=(
        "The answer to importLicenses: the whole file applied, or nothing, with every problem "
        "found (SPEC 7)."
    )
)
class ImportLicensesPayload:
    applied: bool = strawberry.field(
        description=(
            "True when the import was committed (no error and not a dry run), even if it changed "
            "nothing."
        )
    )
    summary: ImportSummary = strawberry.field(
        description="What the import changed; with errors or in a dry run, what it would change."
    )
    problems: list[ImportProblem] = strawberry.field(
        description="At most 1,000 problems in line order; problemTotal and problemCounts tell the rest."
    )
    user_errors: list[UserError] = strawberry.field(
        description=(
            "Empty unless the import was refused. Codes: CSV_INVALID (one entry when the file has "
            "any error: `problems` say which, NOT_ENOUGH_SEATS among them), TRIAL_ACTIVE (alone, "
            "during the trial, dry runs included), CONFLICT (concurrent changes kept winning: "
            "nothing changed, try again)."
        )
    )
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


@strawberry.type(
    description="The answer to createOrganization, with the first tokens' secrets (shown this once)."
)
class CreateOrganizationPayload:
    organization: Organization | None = strawberry.field(
        description="The organization created, with its default project; null when userErrors are set."
    )
    admin_token: str | None = strawberry.field(
        description="The secret of its first ADMIN token (named `admin`), shown this once."
    )
    sync_token: str | None = strawberry.field(
        description="The secret of its first SYNC token (named `sync`), shown this once."
    )
    user_errors: list[UserError] = strawberry.field(
        description=(
            "Empty on success. Code: INVALID_INPUT (a name empty, over 200 characters or holding "
            "control characters; trialDays outside 0–365)."
        )
    )


@strawberry.type(description="The answer to addSubscription.")
class AddSubscriptionPayload:
    subscription: LicenseSubscription | None = strawberry.field(
        description="The subscription added; null when userErrors are set."
    )
    user_errors: list[UserError] = strawberry.field(
        description=(
            "Empty on success. Codes: ORGANIZATION_NOT_FOUND, INVALID_INPUT (seats outside "
            "1–10,000,000 for a seat type, validUntil not after validFrom)."
        )
    )


@strawberry.type(
    description="The answer to createToken, with the token's secret (shown this once)."
)
class CreateTokenPayload:
    token: str | None = strawberry.field(
        description=(
            "The token's secret, shown this once (only its hash is kept); send it as "
            "`Authorization: Bearer <token>`. Null when userErrors are set."
        )
    )
    token_id: strawberry.ID | None = strawberry.field(
        description="The token's id, for revokeToken; null when userErrors are set."
    )
    user_errors: list[UserError] = strawberry.field(
        description=(
            "Empty on success. Codes: INVALID_INPUT (role OPERATOR, a name empty, over 100 "
            "characters, not printable or reserved), ORGANIZATION_NOT_FOUND."
        )
    )


@strawberry.type(description="The answer to revokeToken.")
class RevokeTokenPayload:
    token: ApiToken | None = strawberry.field(
        description=(
            "The token, revoked (revoking twice keeps the first revokedAt); null when userErrors "
            "are set."
        )
    )
    user_errors: list[UserError] = strawberry.field(
        description=(
            "Empty on success. Code: TOKEN_NOT_FOUND (no such token, or one of another "
            "organization for an ADMIN)."
        )
    )


# ---------------------------------------------------------------- inputs


@strawberry.input(
    description="Who is syncing, from which project and with which client (SPEC 4.1)."
)
class SyncInput:
    user_id: strawberry.ID = strawberry.field(
        description=(
            "The user's id in the customer's backend: 1–128 characters, no control characters, not"
            " only whitespace (else INVALID_INPUT). A GUID is the same user in any spelling; an "
            "unknown id creates the user."
        )
    )
    email: str = strawberry.field(
        description=(
            "The user's e-mail address, at most 254 characters (else INVALID_INPUT), not another "
            "user's (else EMAIL_TAKEN); the user's is updated if it changed."
        )
    )
    full_name: str | None = strawberry.field(
        default=None,
        description=(
            "The user's name, at most 256 characters; updated when given. A new user without one "
            "is named by its e-mail."
        ),
    )
    project_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "The project synced against (at most 64 characters; unknown is PROJECT_NOT_FOUND); "
            "left out, the default project `default`."
        ),
    )
    client: Client = strawberry.field(
        default=records.Client.MOBILE,
        description="Which kind of client syncs (default MOBILE); all consume licenses alike.",
    )


@strawberry.input(
    description="Which users to list or export (SPEC 6a); the conditions given all apply."
)
class UserFilter:
    license_type: LicenseType | None = strawberry.field(
        default=None,
        description=(
            "With state: that selector in that state; alone: that selector ASSIGNED. EXTERNAL "
            "matches nobody (users have no EXTERNAL selector)."
        ),
    )
    state: LicenseState | None = strawberry.field(
        default=None,
        description="With licenseType: that selector in this state; alone: either selector in this state.",
    )
    inactive: bool | None = strawberry.field(
        default=None,
        description=(
            "true: the latest sync (else assignment, else creation) is at least inactivityDays "
            "old; false: less."
        ),
    )


@strawberry.input(description="Which users, which seat type and the state to give them (SPEC 3).")
class SetLicenseStateInput:
    user_ids: list[strawberry.ID] = strawberry.field(
        description="1 to 100,000 user ids; a GUID in any spelling, repeats counted once."
    )
    license_type: LicenseType = strawberry.field(
        description="STANDARD or INSPECTIONS (EXTERNAL is INVALID_INPUT: users have no EXTERNAL selector)."
    )
    state: LicenseState = strawberry.field(
        description=(
            "ASSIGNED takes a seat for each user not holding this type (a holder of the other type"
            " switches) and overrides DISABLED; UNASSIGNED releases the seat and clears DISABLED; "
            "DISABLED releases it and blocks automatic assignment."
        )
    )


@strawberry.input(
    description=(
        "A user to create before its first sync (pre-provisioning, SPEC 3), with its license "
        "selectors."
    )
)
class UserInput:
    id: strawberry.ID = strawberry.field(
        description=(
            "The user's id: 1–128 characters, no control characters, new in the organization (else"
            " USER_EXISTS)."
        )
    )
    full_name: str = strawberry.field(
        description="The user's name: 1–256 characters, no control characters."
    )
    email: str = strawberry.field(
        description=(
            "The user's e-mail address: at most 254 characters, unique in the organization (else "
            "EMAIL_TAKEN)."
        )
    )
    standard: LicenseState = strawberry.field(
        default=records.LicenseState.UNASSIGNED,
        description=(
            "The STANDARD selector (default UNASSIGNED). ASSIGNED takes a seat (NOT_ENOUGH_SEATS, "
            "and TRIAL_ACTIVE during the trial)."
        ),
    )
    inspections: LicenseState = strawberry.field(
        default=records.LicenseState.UNASSIGNED,
        description=(
            "The INSPECTIONS selector (default UNASSIGNED); at most one of the two may be ASSIGNED."
        ),
    )


@strawberry.input(
    description="The settings to change (SPEC 3); a field left out or null keeps its value."
)
class SettingsInput:
    auto_assign_licenses: bool | None = strawberry.field(
        default=None, description="Assign a free seat at sync (SPEC 4.6)."
    )
    auto_free_up_licenses: bool | None = strawberry.field(
        default=None,
        description="Free up the seat of the holder inactive longest when none is free (SPEC 4.6.2).",
    )
    inactivity_days: int | None = strawberry.field(
        default=None,
        description="Days without a sync after which a user is inactive: 1–3650 (else INVALID_INPUT).",
    )
    grace_period_days: int | None = strawberry.field(
        default=None,
        description=(
            "Length of the temporary license: 0–365 (else INVALID_INPUT). It moves the end of "
            "temporary licenses already running too."
        ),
    )


@strawberry.input(
    description="A project to create, or the new name and kind of the project with this id."
)
class ProjectInput:
    id: strawberry.ID = strawberry.field(
        description=(
            "The project's id: 1–64 characters, no control characters; an existing id changes that"
            " project (`default` included)."
        )
    )
    name: str = strawberry.field(
        description="The project's name: 1–200 characters, no control characters."
    )
    kind: ProjectKind = strawberry.field(description="The license type the project requires.")


@strawberry.input(description="A licenses CSV file to import, and how (SPEC 7).")
class ImportLicensesInput:
    csv: str = strawberry.field(
        description=(
            "The file's text. Clients must send the file's bytes decoded as UTF-8 (a UTF-8 BOM "
            "may stay), or as UTF-16 when the file starts with a UTF-16 byte-order mark. Text "
            "holding U+FFFD (what a lenient decoder leaves for bytes it could not read, e.g. a "
            "Windows-1252 file) is refused with one NOT_UTF8 problem (SPEC 7)."
        )
    )
    mode: ImportMode = strawberry.field(
        default=_ImportMode.MERGE,
        description=(
            "MERGE (the default) leaves the users absent from the file as they are; REPLACE "
            "releases their seats."
        ),
    )
    dry_run: bool = strawberry.field(
        default=False,
        description=(
            "Report what the import would change, and its problems, without changing anything "
            "(default false)."
        ),
    )


@strawberry.input(description="Which sync-log entries to list; the conditions given all apply.")
class SyncLogFilter:
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only this user's syncs."
    )
    errors_only: bool | None = strawberry.field(
        default=None, description="Only refused syncs (license errors and userErrors)."
    )
    since: datetime | None = strawberry.field(
        default=None, description="Only entries at or after this time."
    )
    until: datetime | None = strawberry.field(
        default=None, description="Only entries before this time (half-open: since <= at < until)."
    )


@strawberry.input(description="Which audit-log entries to list; the conditions given all apply.")
class AuditLogFilter:
    user_id: strawberry.ID | None = strawberry.field(
        default=None, description="Only changes of this user's selectors."
    )
    since: datetime | None = strawberry.field(
        default=None, description="Only entries at or after this time."
    )
    until: datetime | None = strawberry.field(
        default=None, description="Only entries before this time (half-open: since <= at < until)."
    )


@strawberry.input(description="A new organization (SPEC 9, OPERATOR).")
class CreateOrganizationInput:
    name: str = strawberry.field(
        description="The organization's name: 1–200 characters, no control characters."
    )
    trial_days: int = strawberry.field(
        default=0, description="Length of its trial in days, 0–365 (default 0: no trial)."
    )


@strawberry.input(description="A purchase of seats for an organization (SPEC 3, Subscriptions).")
class AddSubscriptionInput:
    organization_id: strawberry.ID = strawberry.field(
        description="The organization (else ORGANIZATION_NOT_FOUND)."
    )
    license_type: LicenseType = strawberry.field(description="The license type bought.")
    seats: int | None = strawberry.field(
        default=None,
        description="Seats bought: 1–10,000,000 for STANDARD and INSPECTIONS; ignored for EXTERNAL.",
    )
    valid_from: datetime | None = strawberry.field(
        default=None, description="When it starts (included); left out, now."
    )
    valid_until: datetime = strawberry.field(
        description="When it ends (excluded); after validFrom."
    )


@strawberry.input(description="A token to create (SPEC 9).")
class CreateTokenInput:
    organization_id: strawberry.ID = strawberry.field(
        description=(
            "The token's organization: the OPERATOR names any; an ADMIN names its own (another is "
            "FORBIDDEN)."
        )
    )
    role: Role = strawberry.field(description="ADMIN, SYNC or READER (OPERATOR is INVALID_INPUT).")
    name: str = strawberry.field(
        description=(
            "1–100 printable characters, for people; `system` and `operator` (any case) are "
            "reserved."
        )
    )
