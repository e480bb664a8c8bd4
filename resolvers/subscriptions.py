"""The subscriptions view (SPEC 6) and adding subscriptions (OPERATOR, SPEC 3)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from seatkeeper.domain.records import Subscription
from seatkeeper.resolvers.common import engine_of, organization_of, require
from seatkeeper.rules.access import Action
from seatkeeper.schema.types import (
    AddSubscriptionInput,
    AddSubscriptionPayload,
    LicenseSubscription,
    SubscriptionSummary,
    user_errors,
)
from strawberry.types import Info


async def subscriptions(
    info: Info, organization_id: strawberry.ID | None = None
) -> list[SubscriptionSummary]:
    org = organization_of(info, Action.READ, organization_id, operator_may=True)
    rows = await engine_of(info).subscriptions_view(org)
    return [
        SubscriptionSummary(
            license_type=row.license_type,
            active=row.active,
            seats=row.seats,
            assigned=row.assigned,
            available=row.available,
            over_allocated=row.over_allocated,
            pending=row.pending,
            items=[
                LicenseSubscription(
                    id=strawberry.ID(item.subscription_id),
                    license_type=row.license_type,
                    seats=item.seats,
                    valid_from=item.valid_from,
                    valid_until=item.valid_until,
                    status=item.status,
                )
                for item in row.items
            ],
        )
        for row in rows
    ]


def _subscription(subscription: Subscription, now: datetime) -> LicenseSubscription:
    return LicenseSubscription(
        id=strawberry.ID(subscription.id),
        license_type=subscription.license_type,
        seats=subscription.seats,
        valid_from=subscription.valid_from,
        valid_until=subscription.valid_until,
        status=subscription.status_at(now),
    )


async def add_subscription(info: Info, input: AddSubscriptionInput) -> AddSubscriptionPayload:
    require(info, Action.OPERATE)
    engine = engine_of(info)
    result = await engine.add_subscription(
        str(input.organization_id),
        input.license_type,
        input.seats,
        input.valid_until,
        input.valid_from,
    )
    return AddSubscriptionPayload(
        subscription=_subscription(result.value, engine.now()) if result.value else None,
        user_errors=user_errors(result.user_errors),
    )
