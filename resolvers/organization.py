"""The organization, its settings and projects (SPEC 3), and the vendor's organizations (SPEC 9)."""

from __future__ import annotations

import strawberry
from seatkeeper.domain import records
from seatkeeper.resolvers.common import engine_of, organization_of, require
from seatkeeper.rules.access import Action
from seatkeeper.rules.engine import Engine
from seatkeeper.schema.types import (
    CreateOrganizationInput,
    CreateOrganizationPayload,
    Organization,
    Project,
    ProjectInput,
    Settings,
    SettingsInput,
    UpdateSettingsPayload,
    UpsertProjectPayload,
    user_errors,
)
from strawberry.types import Info


async def _organization(engine: Engine, organization: records.Organization) -> Organization:
    projects = await engine.list_projects(organization.id)
    return Organization(
        id=strawberry.ID(organization.id),
        name=organization.name,
        created_at=organization.created_at,
        trial_ends_at=organization.trial_ends_at,
        settings=Settings.from_rules(organization.settings),
        projects=[Project.from_rules(p) for p in projects],
    )


async def organization(
    info: Info, organization_id: strawberry.ID | None = None
) -> Organization | None:
    org = organization_of(info, Action.READ, organization_id, operator_may=True)
    engine = engine_of(info)
    found = await engine.get_organization(org)
    return await _organization(engine, found) if found else None


async def organizations(info: Info) -> list[Organization]:
    require(info, Action.OPERATE)
    engine = engine_of(info)
    return [await _organization(engine, o) for o in await engine.list_organizations()]


async def create_organization(
    info: Info, input: CreateOrganizationInput
) -> CreateOrganizationPayload:
    require(info, Action.OPERATE)
    engine = engine_of(info)
    result = await engine.create_organization(input.name, input.trial_days)
    created = result.value
    return CreateOrganizationPayload(
        organization=await _organization(engine, created.organization) if created else None,
        admin_token=created.admin_token if created else None,
        sync_token=created.sync_token if created else None,
        user_errors=user_errors(result.user_errors),
    )


async def update_settings(info: Info, input: SettingsInput) -> UpdateSettingsPayload:
    organization_id = organization_of(info, Action.ADMINISTER)
    result = await engine_of(info).update_settings(
        organization_id,
        auto_assign_licenses=input.auto_assign_licenses,
        auto_free_up_licenses=input.auto_free_up_licenses,
        inactivity_days=input.inactivity_days,
        grace_period_days=input.grace_period_days,
    )
    return UpdateSettingsPayload(
        settings=Settings.from_rules(result.value) if result.value else None,
        user_errors=user_errors(result.user_errors),
    )


async def upsert_project(info: Info, input: ProjectInput) -> UpsertProjectPayload:
    organization_id = organization_of(info, Action.ADMINISTER)
    result = await engine_of(info).upsert_project(
        organization_id, str(input.id), input.name, input.kind
    )
    return UpsertProjectPayload(
        project=Project.from_rules(result.value) if result.value else None,
        user_errors=user_errors(result.user_errors),
    )
