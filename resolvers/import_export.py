"""CSV import and export of licenses and users (SPEC 7)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from seatkeeper.resolvers.common import bad_request, engine_of, organization_of
from seatkeeper.resolvers.users import to_rules_filter
from seatkeeper.rules.access import Action, actor_of
from seatkeeper.rules.csv_export import BOM
from seatkeeper.rules.outcomes import BadRequest
from seatkeeper.schema.types import (
    ImportLicensesInput,
    ImportLicensesPayload,
    ImportProblem,
    ImportSummary,
    ProblemCount,
    ProblemSeverity,
    UserFilter,
    user_errors,
)
from strawberry.types import Info


async def import_licenses(info: Info, input: ImportLicensesInput) -> ImportLicensesPayload:
    organization_id = organization_of(info, Action.ADMINISTER)
    report = await engine_of(info).import_licenses(
        organization_id, actor_of(info.context.caller), input.csv, input.mode, input.dry_run
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
        problem_total=report.problem_total,
        problem_counts=[
            ProblemCount(code=code, count=count) for code, count in report.problem_counts.items()
        ],
    )


BomArgument = Annotated[
    bool,
    strawberry.argument(
        description="Start the file with a byte-order mark, for Excel, which needs it to read UTF-8."
    ),
]


async def export_licenses(info: Info, bom: BomArgument = False) -> str:
    organization_id = organization_of(info, Action.READ)
    text = await engine_of(info).export_licenses(organization_id)
    return BOM + text if bom else text


async def export_users(
    info: Info,
    search: str | None = None,
    filter: UserFilter | None = None,
    bom: BomArgument = False,
) -> str:
    organization_id = organization_of(info, Action.READ)
    try:
        text = await engine_of(info).export_users(organization_id, search, to_rules_filter(filter))
    except BadRequest as error:
        raise bad_request(error) from None
    return BOM + text if bom else text
