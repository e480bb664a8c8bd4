"""The input types: what clients send, with the ranges the rules accept described."""

from __future__ import annotations

from datetime import datetime

import strawberry
from seatkeeper.domain import records
from seatkeeper.rules.licenses_csv import ImportMode as _ImportMode
from seatkeeper.schema.enums import Client, ImportMode, LicenseState, LicenseType, ProjectKind, Role


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
    expires_at: datetime | None = strawberry.field(
        default=None,
        description="When it stops working (in the future; from then on it is refused with 401 "
        "like an unknown token); left out, never.",
    )
    requests_per_second: float | None = strawberry.field(
        default=None,
        description="Its own request budget: a token bucket of this many requests per second "
        "(more than 0, at most 100,000; 429 with Retry-After beyond it), in place of the "
        "server-wide one; left out, the server's (off by default). Per server process.",
    )
