"""The mutations' payloads: what each mutation answers, its userErrors codes described.

A payload with userErrors changed nothing (SPEC 2, invariant 5); the codes each can carry are in
the description of its `userErrors` field (issue 12: the SDL is documentation).
"""

from __future__ import annotations

import strawberry
from seatkeeper.schema.enums import ProblemSeverity
from seatkeeper.schema.organization_types import (
    LicenseSubscription,
    Organization,
    Project,
    Settings,
)
from seatkeeper.schema.types import ApiToken, UserError
from seatkeeper.schema.user_types import License, LicenseError, MobileUser


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


@strawberry.type(description="The answer to setTokenRequestBudget.")
class SetTokenRequestBudgetPayload:
    token: ApiToken | None = strawberry.field(
        description="The token with its new budget; null when userErrors are set."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Empty on success. Codes: TOKEN_NOT_FOUND (no such token, or one of another "
        "organization for an ADMIN), INVALID_INPUT (requestsPerSecond out of range)."
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
