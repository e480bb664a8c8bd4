"""License-state changes by an admin (SPEC 3, setLicenseState)."""

from __future__ import annotations

from seatkeeper.resolvers.common import engine_of, organization_of
from seatkeeper.rules.access import Action, actor_of
from seatkeeper.schema.types import (
    MobileUser,
    SetLicenseStateInput,
    SetLicenseStatePayload,
    user_errors,
)
from strawberry.types import Info


async def set_license_state(info: Info, input: SetLicenseStateInput) -> SetLicenseStatePayload:
    organization_id = organization_of(info, Action.ADMINISTER)
    result = await engine_of(info).set_license_state(
        organization_id,
        actor_of(info.context.caller),
        [str(i) for i in input.user_ids],
        input.license_type,
        input.state,
    )
    return SetLicenseStatePayload(
        users=[MobileUser.from_user(u) for u in result.value or []],
        user_errors=user_errors(result.user_errors),
    )
