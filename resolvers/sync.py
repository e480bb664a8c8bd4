"""The `sync` mutation (SPEC 4): mobile apps, web apps and web services call it on every sync."""

from __future__ import annotations

from seatkeeper.resolvers.common import engine_of, organization_of
from seatkeeper.rules.access import Action
from seatkeeper.rules.engine import SyncRequest
from seatkeeper.rules.outcomes import SyncOutcome
from strawberry.types import Info


async def sync(info: Info, request: SyncRequest) -> SyncOutcome:
    organization_id = organization_of(info, Action.SYNC)
    return await engine_of(info).sync(organization_id, request)
