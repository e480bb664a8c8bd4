"""CSV import and export of licenses and users (SPEC 7)."""

from __future__ import annotations

from seatkeeper.resolvers.common import bad_request, engine_of, organization_of
from seatkeeper.resolvers.users import to_rules_filter
from seatkeeper.rules.access import Action
from seatkeeper.rules.outcomes import BadRequest
from seatkeeper.schema.types import (
    ImportLicensesInput,
    ImportLicensesPayload,
    ImportProblem,
    ImportSummary,
    ProblemSeverity,
    UserFilter,
    user_errors,
)
from strawberry.types import Info


async def import_licenses(info: Info, input: ImportLicensesInput) -> ImportLicensesPayload:
    organization_id = organization_of(info, Action.ADMINISTER)
    report = await engine_of(info).import_licenses(
        organization_id, info.context.caller.name, input.csv, input.mode, input.dry_run
    )
    summary = report.summary
    return ImportLicensesPayload(
        applied=report.applied,
        summary=ImportSummary(
            rows=summary.rows,
            assigned=summary.assigned,
            unassigned=summary.unassigned,
            disabled=summary.disabled,
            created=summary.created,
            unchanged=summary.unchanged,
        ),
        problems=[
            ImportProblem(
                line=p.line, code=p.code, message=p.message, severity=ProblemSeverity(p.severity)
            )
            for p in report.problems
        ],
        user_errors=user_errors(report.user_errors),
    )


async def export_licenses(info: Info) -> str:
    organization_id = organization_of(info, Action.READ)
    return await engine_of(info).export_licenses(organization_id)


async def export_users(
    info: Info, search: str | None = None, filter: UserFilter | None = None
) -> str:
    organization_id = organization_of(info, Action.READ)
    try:
        return await engine_of(info).export_users(organization_id, search, to_rules_filter(filter))
    except BadRequest as error:
        raise bad_request(error) from None
