"""The subscriptions view (SPEC 6) and adding subscriptions (OPERATOR, SPEC 3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from seatkeeper.domain.records import LicenseType, Subscription
from seatkeeper.resolvers.common import actor_of, engine_of, organization_of, require
from seatkeeper.rules.access import Action
from seatkeeper.rules.outcomes import Result, SubscriptionSummary
from strawberry.types import Info


@dataclass(frozen=True)
class SubscriptionAdded:
    """`addSubscription`'s outcome, and the instant its status is told at."""

    result: Result[Subscription]
    now: datetime


async def subscriptions(info: Info, organization_id: str | None) -> list[SubscriptionSummary]:
    org = organization_of(info, Action.READ, organization_id, operator_may=True)
    return await engine_of(info).subscriptions_view(org)


async def add_subscription(
    info: Info,
    organization_id: str,
    license_type: LicenseType,
    seats: int | None,
    valid_until: datetime,
    valid_from: datetime | None,
) -> SubscriptionAdded:
    require(info, Action.OPERATE)
    engine = engine_of(info)
    result = await engine.add_subscription(
        organization_id, license_type, seats, valid_until, valid_from, actor=actor_of(info)
    )
    return SubscriptionAdded(result, engine.now())
