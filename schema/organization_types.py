"""Strawberry object types of an organization: itself, its settings, projects and subscriptions.

Shapes only, no decisions; the others are in schema/types.py.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from seatkeeper.domain import records
from seatkeeper.schema.enums import LicenseType, ProjectKind, SubscriptionStatus


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
