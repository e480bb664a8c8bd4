"""Strawberry object types: the shapes of the GraphQL API, no decisions. The enums are in
schema/enums.py, the mutations' payloads in schema/payloads.py, the inputs in schema/inputs.py, an
organization's types in schema/organization_types.py, users' and syncs' in schema/user_types.py.

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
from seatkeeper.schema.enums import (
    AuditReason,
    Client,
    LicenseState,
    LicenseType,
    Role,
)
from seatkeeper.schema.organization_types import Organization

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
    expires_at: datetime | None = strawberry.field(
        description="When it stops working (it is refused like an unknown token from then on); "
        "null: never."
    )
    last_used_at: datetime | None = strawberry.field(
        description="When it was last used, to the minute: recorded at most once a minute per "
        "token and server process, so a use within a minute of the one shown may be missing; "
        "null: never used."
    )
    requests_per_second: float | None = strawberry.field(
        description="Its own request budget (requests per second, per server process); null: the "
        "server-wide one (off by default)."
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
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
            requests_per_second=token.requests_per_second,
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
