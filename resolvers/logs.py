"""The sync log and the audit log (SPEC 8), newest first, in keyset pages."""

from __future__ import annotations

import strawberry
from seatkeeper.domain import records
from seatkeeper.resolvers.common import bad_request, edges, engine_of, organization_of, page_info
from seatkeeper.rules.access import Action, read_actor
from seatkeeper.rules.outcomes import BadRequest
from seatkeeper.schema.types import (
    AuditEntry,
    AuditLogConnection,
    AuditLogFilter,
    SyncLogConnection,
    SyncLogEntry,
    SyncLogFilter,
)
from strawberry.types import Info


def _sync_entry(entry: records.SyncLogEntry) -> SyncLogEntry:
    return SyncLogEntry(
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


def _audit_entry(entry: records.AuditEntry, names: dict[str, str]) -> AuditEntry:
    """SPEC 8: the actor's role and token id as recorded; its name looked up beside them."""
    role, token_id = read_actor(entry.actor)
    if token_id is not None:
        shown = names.get(token_id, "(unknown token)")
    else:
        shown = entry.actor
    return AuditEntry(
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


async def sync_log(
    info: Info,
    filter: SyncLogFilter | None = None,
    first: int | None = None,
    after: str | None = None,
) -> SyncLogConnection:
    organization_id = organization_of(info, Action.READ)
    filter = filter or SyncLogFilter()
    try:
        page = await engine_of(info).sync_log(
            organization_id,
            user_id=str(filter.user_id) if filter.user_id is not None else None,
            errors_only=bool(filter.errors_only),
            since=filter.since,
            until=filter.until,
            first=first,
            after=after,
        )
    except BadRequest as error:
        raise bad_request(error) from None
    return SyncLogConnection(page_info=page_info(page), edges=edges(page, _sync_entry))


async def audit_log(
    info: Info,
    filter: AuditLogFilter | None = None,
    first: int | None = None,
    after: str | None = None,
) -> AuditLogConnection:
    organization_id = organization_of(info, Action.READ)
    filter = filter or AuditLogFilter()
    try:
        page = await engine_of(info).audit_log(
            organization_id,
            user_id=str(filter.user_id) if filter.user_id is not None else None,
            since=filter.since,
            until=filter.until,
            first=first,
            after=after,
        )
    except BadRequest as error:
        raise bad_request(error) from None
    names: dict[str, str] = {}
    if any(read_actor(entry.actor)[1] for entry in page.items):  # tokens are revoked, never deleted
        names = {t.id: t.name for t in await engine_of(info).list_tokens(organization_id)}
    return AuditLogConnection(
        page_info=page_info(page), edges=edges(page, lambda entry: _audit_entry(entry, names))
    )
