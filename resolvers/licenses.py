"""License-state changes by an admin (SPEC 3, setLicenseState)."""

from __future__ import annotations

from seatkeeper.domain.records import LicenseState, LicenseType, MobileUser
from seatkeeper.resolvers.common import actor_of, engine_of, organization_of
from seatkeeper.rules.access import Action
from seatkeeper.rules.outcomes import Result
from strawberry.types import Info


async def set_license_state(
    info: Info, user_ids: list[str], license_type: LicenseType, state: LicenseState
) -> Result[list[MobileUser]]:
    organization_id = organization_of(info, Action.ADMINISTER)
    return await engine_of(info).set_license_state(
        organization_id, actor_of(info), user_ids, license_type, state
    )
