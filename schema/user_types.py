"""Strawberry object types of users and syncs: a user, a page of users, a sync's license or error.

Shapes only, no decisions; the others are in schema/types.py.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from seatkeeper.domain import records
from seatkeeper.rules.outcomes import UserView
from seatkeeper.schema.enums import LicenseErrorCode, LicenseErrorReason, LicenseState, LicenseType
from seatkeeper.schema.types import Edge, PageInfo


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
