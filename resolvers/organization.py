"""The organization, its settings and projects (SPEC 3), and the vendor's organizations (SPEC 9)."""

from __future__ import annotations

from dataclasses import dataclass

from seatkeeper.domain.records import Organization, Project, ProjectKind, Settings
from seatkeeper.resolvers.common import actor_of, engine_of, organization_of, require
from seatkeeper.rules.access import Action
from seatkeeper.rules.engine import CreatedOrganization, Engine
from seatkeeper.rules.outcomes import Result
from strawberry.types import Info


@dataclass(frozen=True)
class OrganizationView:
    """An organization with its projects: what the `Organization` type shows."""

    organization: Organization
    projects: list[Project]


@dataclass(frozen=True)
class OrganizationCreated:
    """`createOrganization`'s outcome, and the new organization's view when it was created."""

    result: Result[CreatedOrganization]
    view: OrganizationView | None


async def view_of(engine: Engine, organization: Organization) -> OrganizationView:
    return OrganizationView(organization, await engine.list_projects(organization.id))


async def organization(info: Info, organization_id: str | None) -> OrganizationView | None:
    org = organization_of(info, Action.READ, organization_id, operator_may=True)
    engine = engine_of(info)
    found = await engine.get_organization(org)
    return await view_of(engine, found) if found else None


async def organizations(info: Info) -> list[OrganizationView]:
    require(info, Action.OPERATE)
    engine = engine_of(info)
    return [await view_of(engine, o) for o in await engine.list_organizations()]


async def create_organization(info: Info, name: str, trial_days: int) -> OrganizationCreated:
    require(info, Action.OPERATE)
    engine = engine_of(info)
    result = await engine.create_organization(name, trial_days, actor=actor_of(info))
    created = result.value
    view = await view_of(engine, created.organization) if created else None
    return OrganizationCreated(result, view)


async def update_settings(
    info: Info,
    auto_assign_licenses: bool | None,
    auto_free_up_licenses: bool | None,
    inactivity_days: int | None,
    grace_period_days: int | None,
) -> Result[Settings]:
    organization_id = organization_of(info, Action.ADMINISTER)
    return await engine_of(info).update_settings(
        organization_id,
        auto_assign_licenses=auto_assign_licenses,
        auto_free_up_licenses=auto_free_up_licenses,
        inactivity_days=inactivity_days,
        grace_period_days=grace_period_days,
        actor=actor_of(info),
    )


async def upsert_project(
    info: Info, project_id: str, name: str, kind: ProjectKind
) -> Result[Project]:
    organization_id = organization_of(info, Action.ADMINISTER)
    return await engine_of(info).upsert_project(
        organization_id, project_id, name, kind, actor=actor_of(info)
    )
