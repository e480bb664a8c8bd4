"""The `sync` mutation (SPEC 4): mobile apps, web apps and web services call it on every sync."""

from __future__ import annotations

from seatkeeper.resolvers.common import engine_of, organization_of
from seatkeeper.rules.access import Action
from seatkeeper.rules.engine import SyncRequest
from seatkeeper.schema.types import (
    License,
    LicenseError,
    MobileUser,
    SyncInput,
    SyncPayload,
    user_errors,
)
from strawberry.types import Info


async def sync(info: Info, input: SyncInput) -> SyncPayload:
    organization_id = organization_of(info, Action.SYNC)
    request = SyncRequest(
        user_id=str(input.user_id),
        email=input.email,
        full_name=input.full_name,
        project_id=str(input.project_id) if input.project_id is not None else None,
        client=input.client,
    )
    outcome = await engine_of(info).sync(organization_id, request)
    granted, refused = outcome.license, outcome.error
    return SyncPayload(
        ok=outcome.ok,
        license=License(
            type=granted.type,
            temporary=granted.temporary,
            trial=granted.trial,
            expires_at=granted.expires_at,
        )
        if granted
        else None,
        error=LicenseError(
            code=refused.code,
            reason=refused.reason,
            message=refused.message,
            license_type=refused.license_type,
        )
        if refused
        else None,
        user=MobileUser.from_user(outcome.user) if outcome.user else None,
        user_errors=user_errors(outcome.user_errors),
    )
