"""CSV import and export of licenses and users (SPEC 7)."""

from __future__ import annotations

from seatkeeper.resolvers.common import actor_of, bad_request, engine_of, organization_of
from seatkeeper.rules.access import Action
from seatkeeper.rules.csv_export import BOM
from seatkeeper.rules.engine import UserFilter
from seatkeeper.rules.licenses_csv import ImportMode, ImportReport
from seatkeeper.rules.outcomes import BadRequest
from strawberry.types import Info


async def import_licenses(info: Info, csv: str, mode: ImportMode, dry_run: bool) -> ImportReport:
    organization_id = organization_of(info, Action.ADMINISTER)
    return await engine_of(info).import_licenses(
        organization_id, actor_of(info), csv, mode, dry_run
    )


async def export_licenses(info: Info, bom: bool) -> str:
    organization_id = organization_of(info, Action.READ)
    text = await engine_of(info).export_licenses(organization_id)
    return BOM + text if bom else text


async def export_users(
    info: Info, search: str | None, user_filter: UserFilter | None, bom: bool
) -> str:
    organization_id = organization_of(info, Action.READ)
    try:
        text = await engine_of(info).export_users(organization_id, search, user_filter)
    except BadRequest as error:
        raise bad_request(error) from None
    return BOM + text if bom else text
