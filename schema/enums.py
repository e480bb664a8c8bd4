"""The GraphQL enums, with a description of every value (issue 12: the SDL is documentation).

Most are the domain's own Python enums (resolvers return their members), which cannot carry
`strawberry.enum_value(...)` since the domain imports nothing from Strawberry; `describe_enum` sets
their value descriptions on the definition `strawberry.enum` builds, and refuses an enum with a
value left undescribed, so a value added to the domain fails at import, not in the SDL's linter.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

import strawberry
from seatkeeper.domain import records
from seatkeeper.rules.licenses_csv import ImportMode as _ImportMode
from strawberry.types.enum import has_enum_definition

E = TypeVar("E", bound=enum.Enum)


def describe_enum(
    enum_class: type[E], description: str, values: Mapping[E, str], name: str | None = None
) -> None:
    """`strawberry.enum(enum_class)` with a description for the type and for each of its values."""
    missing = [member.name for member in enum_class if member not in values]
    if missing:
        raise ValueError(f"{enum_class.__name__}: no description for {', '.join(missing)}")
    described = strawberry.enum(enum_class, name=name, description=description)
    if not has_enum_definition(described):  # pragma: no cover - strawberry.enum always sets it
        raise TypeError(f"{enum_class.__name__} is not a Strawberry enum")
    for value in described.__strawberry_definition__.values:
        value.description = values[enum_class[value.name]]


_SEAT = "a seat type: held by one user each"

LicenseType = records.LicenseType
describe_enum(
    LicenseType,
    "A license type (SPEC 1). STANDARD and INSPECTIONS are seats, held by one user each; "
    "EXTERNAL is per organization.",
    {
        records.LicenseType.STANDARD: f"The standard license, {_SEAT}.",
        records.LicenseType.INSPECTIONS: f"The premium license, {_SEAT}; it covers everything "
        "STANDARD covers.",
        records.LicenseType.EXTERNAL: "Per organization, no seat: while the organization has a "
        "valid EXTERNAL subscription, every user of an EXTERNAL project is covered.",
    },
)

LicenseState = records.LicenseState
describe_enum(
    LicenseState,
    "The state of a user's license selector for one seat type (SPEC 1).",
    {
        records.LicenseState.ASSIGNED: "The user holds a seat of this type (switch right, green).",
        records.LicenseState.UNASSIGNED: "No seat; automatic assignment may give one (centre, "
        "grey: pending).",
        records.LicenseState.DISABLED: "No seat, and automatic assignment of this type is "
        "blocked (switch left, red); an ADMIN's explicit assignment overrides it.",
    },
)

ProjectKind = records.ProjectKind
describe_enum(
    ProjectKind,
    "What a project requires: the license type of the same name (SPEC 1).",
    {
        records.ProjectKind.STANDARD: "Inspections disabled: a STANDARD or INSPECTIONS seat "
        "covers it.",
        records.ProjectKind.INSPECTIONS: "Inspections enabled: needs an INSPECTIONS seat.",
        records.ProjectKind.EXTERNAL: "For external users: covered by the organization's "
        "EXTERNAL subscription, no seat.",
    },
)

Client = records.Client
describe_enum(
    Client,
    "What kind of client syncs; all consume licenses alike (SPEC 4).",
    {
        records.Client.MOBILE: "The mobile app (the default).",
        records.Client.WEB: "A web app.",
        records.Client.API: "A web service.",
    },
)

Role = records.Role
describe_enum(
    Role,
    "What a token may do (SPEC 9). Tokens are created with ADMIN, SYNC or READER; OPERATOR is "
    "the vendor's secret, given as configuration.",
    {
        records.Role.OPERATOR: "The vendor side: organizations, subscriptions, tokens of any "
        "organization.",
        records.Role.ADMIN: "One organization: users, licenses, projects, settings, logs, "
        "import and export, its tokens; also sync.",
        records.Role.SYNC: "One organization: the sync mutation only (and viewer).",
        records.Role.READER: "One organization: queries only, exports included.",
    },
)

SubscriptionStatus = records.SubscriptionStatus
describe_enum(
    SubscriptionStatus,
    "Where a subscription stands in time (valid when validFrom <= now < validUntil).",
    {
        records.SubscriptionStatus.ACTIVE: "Valid now: its seats count in the capacity.",
        records.SubscriptionStatus.EXPIRED: "validUntil has passed.",
        records.SubscriptionStatus.UPCOMING: "validFrom is still to come.",
    },
)

LicenseErrorCode = records.LicenseErrorCode
describe_enum(
    LicenseErrorCode,
    "Why a sync is refused, in short; the message is exactly `LICENSE: NOT FOUND` or "
    "`LICENSE: EXPIRED` (SPEC 4).",
    {
        records.LicenseErrorCode.LICENSE_NOT_FOUND: "No license covers the user (reasons "
        "DISABLED, NO_SEAT_AVAILABLE, NO_SUBSCRIPTION).",
        records.LicenseErrorCode.LICENSE_EXPIRED: "The license the user had has run out "
        "(reasons GRACE_PERIOD_ENDED, SUBSCRIPTION_EXPIRED, OVER_CAPACITY).",
    },
)

LicenseErrorReason = records.LicenseErrorReason
describe_enum(
    LicenseErrorReason,
    "Why a sync is refused, in detail (SPEC 4).",
    {
        records.LicenseErrorReason.DISABLED: "The user's selector of the required type is "
        "DISABLED (LICENSE_NOT_FOUND, step 4.5).",
        records.LicenseErrorReason.NO_SEAT_AVAILABLE: "Automatic assignment is on but no seat "
        "is free nor can be freed (LICENSE_NOT_FOUND, step 4.6).",
        records.LicenseErrorReason.NO_SUBSCRIPTION: "An EXTERNAL project, and the organization "
        "never had an EXTERNAL subscription (LICENSE_NOT_FOUND, step 4.3).",
        records.LicenseErrorReason.GRACE_PERIOD_ENDED: "The user's temporary license "
        "(gracePeriodDays) has ended (LICENSE_EXPIRED, step 4.7).",
        records.LicenseErrorReason.SUBSCRIPTION_EXPIRED: "The subscription has ended: the "
        "EXTERNAL one, or every one of the held seat's type (LICENSE_EXPIRED, steps 4.3 and 4.4).",
        records.LicenseErrorReason.OVER_CAPACITY: "The user's seat is beyond the capacity left "
        "after it fell (LICENSE_EXPIRED, SPEC 5).",
    },
)

AuditReason = records.AuditReason
describe_enum(
    AuditReason,
    "Why a license selector changed (SPEC 2, invariant 4).",
    {
        records.AuditReason.MANUAL: "An ADMIN set it (setLicenseState, createUsers).",
        records.AuditReason.IMPORT: "A licenses CSV import (importLicenses).",
        records.AuditReason.AUTO_ASSIGN: "A sync assigned a free seat automatically "
        "(autoAssignLicenses).",
        records.AuditReason.AUTO_FREE_UP: "A sync took the seat of the user inactive longest "
        "for beneficiaryUserId (autoFreeUpLicenses).",
        records.AuditReason.SWITCH: "The seat was released because the user's other seat type "
        "was assigned in the same step: one active license per user (SPEC 2, invariant 2).",
        records.AuditReason.DELETE: "The user was deleted (deleteUsers).",
    },
)

AdminAction = records.AdminAction
describe_enum(
    AdminAction,
    "What an administration-log entry records (SPEC 8): a change that is not a license change.",
    {
        records.AdminAction.ORGANIZATION_CREATED: "The organization was created "
        "(createOrganization); targetId is its id.",
        records.AdminAction.SETTINGS_CHANGED: "Its settings changed (updateSettings); details "
        "lists each setting from and to.",
        records.AdminAction.PROJECT_CREATED: "A project was created (upsertProject).",
        records.AdminAction.PROJECT_CHANGED: "A project's name or kind changed (upsertProject).",
        records.AdminAction.SUBSCRIPTION_ADDED: "A subscription was added (addSubscription).",
        records.AdminAction.TOKEN_CREATED: "A token was created (createToken, or with the "
        "organization); targetId is the token's id.",
        records.AdminAction.TOKEN_REVOKED: "A token was revoked (revokeToken).",
        records.AdminAction.TOKEN_CHANGED: "A token's settings changed (its request budget).",
    },
)

ImportMode = _ImportMode
describe_enum(
    ImportMode,
    "How an import treats the users absent from the file (SPEC 7).",
    {
        _ImportMode.MERGE: "Leave them as they are (the default).",
        _ImportMode.REPLACE: "Release their seats: the file is the whole state (a restore).",
    },
    name="ImportMode",
)


@strawberry.enum(description="How serious an import problem is (SPEC 7).")
class ProblemSeverity(enum.Enum):
    ERROR = strawberry.enum_value("ERROR", description="The file is refused: nothing is applied.")
    WARNING = strawberry.enum_value(
        "WARNING", description="Noted; the file is applied (unless another problem is an error)."
    )
