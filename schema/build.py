"""Schema types built from the resolvers' outcomes (rules outcomes and domain records).

The resolvers know nothing of these types: the schema calls a resolver, then builds what the
field returns from its outcome here. One direction, no cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import strawberry
from seatkeeper.domain import records
from seatkeeper.resolvers.cursors import encode_cursor
from seatkeeper.resolvers.fields import IN_INPUT
from seatkeeper.resolvers.organization import OrganizationView
from seatkeeper.rules import outcomes
from seatkeeper.rules.access import read_actor
from seatkeeper.rules.licenses_csv import ImportReport
from seatkeeper.schema import enums, organization_types, payloads, types, user_types

T = TypeVar("T")
N = TypeVar("N")


def page_info(page: outcomes.Page[Any], after: str | None) -> types.PageInfo:
    """Relay's PageInfo of a page read forward from `after` (a page after a cursor has edges
    before it: the one the cursor names at least)."""
    end = page.end_position
    return types.PageInfo(
        has_next_page=page.has_next_page,
        end_cursor=encode_cursor(end) if end else None,
        has_previous_page=after is not None,
        start_cursor=encode_cursor(page.positions[0]) if page.positions else None,
    )


def edges(page: outcomes.Page[T], to_node: Callable[[T], N]) -> list[types.Edge[N]]:
    return [
        types.Edge(cursor=encode_cursor(position), node=to_node(item))
        for position, item in zip(page.positions, page.items, strict=True)
    ]


def organization(view: OrganizationView) -> organization_types.Organization:
    found = view.organization
    return organization_types.Organization(
        id=strawberry.ID(found.id),
        name=found.name,
        created_at=found.created_at,
        trial_ends_at=found.trial_ends_at,
        settings=organization_types.Settings.from_rules(found.settings),
        projects=[organization_types.Project.from_rules(p) for p in view.projects],
    )


def subscription_summary(
    row: outcomes.SubscriptionSummary,
) -> organization_types.SubscriptionSummary:
    return organization_types.SubscriptionSummary(
        license_type=row.license_type,
        active=row.active,
        seats=row.seats,
        assigned=row.assigned,
        available=row.available,
        over_allocated=row.over_allocated,
        pending=row.pending,
        items=[
            organization_types.LicenseSubscription(
                id=strawberry.ID(item.subscription_id),
                license_type=row.license_type,
                seats=item.seats,
                valid_from=item.valid_from,
                valid_until=item.valid_until,
                status=item.status,
            )
            for item in row.items
        ],
    )


def subscription(
    subscription: records.Subscription, now: datetime
) -> organization_types.LicenseSubscription:
    return organization_types.LicenseSubscription(
        id=strawberry.ID(subscription.id),
        license_type=subscription.license_type,
        seats=subscription.seats,
        valid_from=subscription.valid_from,
        valid_until=subscription.valid_until,
        status=subscription.status_at(now),
    )


def sync_payload(outcome: outcomes.SyncOutcome) -> payloads.SyncPayload:
    granted, refused = outcome.license, outcome.error
    return payloads.SyncPayload(
        ok=outcome.ok,
        license=user_types.License(
            type=granted.type,
            temporary=granted.temporary,
            trial=granted.trial,
            expires_at=granted.expires_at,
        )
        if granted
        else None,
        error=user_types.LicenseError(
            code=refused.code,
            reason=refused.reason,
            message=refused.message,
            license_type=refused.license_type,
        )
        if refused
        else None,
        user=user_types.MobileUser.from_user(outcome.user) if outcome.user else None,
        user_errors=types.user_errors(outcome.user_errors, IN_INPUT),
    )


def sync_entry(entry: records.SyncLogEntry) -> types.SyncLogEntry:
    return types.SyncLogEntry(
        at=entry.at,
        user_id=strawberry.ID(entry.user_id),
        email=entry.email,
        project_id=strawberry.ID(entry.project_id) if entry.project_id else None,
        client=entry.client,
        ok=entry.ok,
        error_code=entry.error_code,
        reason=entry.reason,
        license_type=entry.license_type,
        temporary=entry.temporary,
        freed_user_id=strawberry.ID(entry.freed_user_id) if entry.freed_user_id else None,
    )


def audit_entry(entry: records.AuditEntry, names: dict[str, str]) -> types.AuditEntry:
    """SPEC 8: the actor's role and token id as recorded; its name looked up beside them."""
    role, token_id = read_actor(entry.actor)
    shown = names.get(token_id, "(unknown token)") if token_id is not None else entry.actor
    return types.AuditEntry(
        actor_role=role,
        actor_token_id=strawberry.ID(token_id) if token_id else None,
        at=entry.at,
        user_id=strawberry.ID(entry.user_id),
        license_type=entry.license_type,
        from_state=entry.from_state,
        to_state=entry.to_state,
        actor=shown,
        reason=entry.reason,
        operation_id=strawberry.ID(entry.operation_id),
        beneficiary_user_id=strawberry.ID(entry.beneficiary_user_id)
        if entry.beneficiary_user_id
        else None,
    )


def import_payload(report: ImportReport) -> payloads.ImportLicensesPayload:
    summary = report.summary
    return payloads.ImportLicensesPayload(
        applied=report.applied,
        summary=payloads.ImportSummary(
            rows=summary.rows,
            assigned=summary.assigned,
            unassigned=summary.unassigned,
            disabled=summary.disabled,
            created=summary.created,
            unchanged=summary.unchanged,
        ),
        problems=[
            payloads.ImportProblem(
                line=p.line,
                code=p.code,
                message=p.message,
                severity=enums.ProblemSeverity(p.severity),
            )
            for p in report.problems
        ],
        user_errors=types.user_errors(report.user_errors, IN_INPUT),
        problem_total=report.problem_total,
        problem_counts=[
            payloads.ProblemCount(code=code, count=count)
            for code, count in report.problem_counts.items()
        ],
    )


def users_of(result: outcomes.Result[list[records.MobileUser]]) -> list[user_types.MobileUser]:
    return [user_types.MobileUser.from_user(u) for u in result.value or []]
