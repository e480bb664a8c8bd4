"""The sync log, the audit log and the administration log (SPEC 8), newest first, in keyset pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from seatkeeper.domain.records import AdminLogEntry, AuditEntry, SyncLogEntry
from seatkeeper.resolvers.common import bad_request, engine_of, organization_of
from seatkeeper.resolvers.cursors import decode_cursor
from seatkeeper.rules.access import Action, read_actor
from seatkeeper.rules.outcomes import BadRequest, Page
from strawberry.types import Info


async def sync_log(
    info: Info,
    user_id: str | None,
    errors_only: bool,
    since: datetime | None,
    until: datetime | None,
    first: int | None,
    after: str | None,
) -> Page[SyncLogEntry]:
    organization_id = organization_of(info, Action.READ)
    try:
        return await engine_of(info).sync_log(
            organization_id, user_id, errors_only, since, until, first, decode_cursor(after)
        )
    except BadRequest as error:
        raise bad_request(error) from None


@dataclass(frozen=True)
class AuditPage:
    """A page of the audit log, and the names of the tokens its entries name (by token id)."""

    page: Page[AuditEntry]
    token_names: dict[str, str]


async def audit_log(
    info: Info,
    user_id: str | None,
    since: datetime | None,
    until: datetime | None,
    first: int | None,
    after: str | None,
) -> AuditPage:
    organization_id = organization_of(info, Action.READ)
    engine = engine_of(info)
    try:
        page = await engine.audit_log(
            organization_id, user_id, since, until, first, decode_cursor(after)
        )
    except BadRequest as error:
        raise bad_request(error) from None
    names: dict[str, str] = {}
    if any(read_actor(entry.actor)[1] for entry in page.items):  # tokens are revoked, never deleted
        names = {t.id: t.name for t in await engine.list_tokens(organization_id)}
    return AuditPage(page, names)


@dataclass(frozen=True)
class AdminPage:
    """A page of the administration log, and the names of the tokens its actors name (by id)."""

    page: Page[AdminLogEntry]
    token_names: dict[str, str]


async def admin_log(
    info: Info,
    organization_id: str | None,
    since: datetime | None,
    until: datetime | None,
    first: int | None,
    after: str | None,
) -> AdminPage:
    """SPEC 8: an ADMIN reads its own organization's administration log, the OPERATOR any's."""
    organization = organization_of(info, Action.ADMINISTER, organization_id, operator_may=True)
    engine = engine_of(info)
    try:
        page = await engine.admin_log(organization, since, until, first, decode_cursor(after))
    except BadRequest as error:
        raise bad_request(error) from None
    names: dict[str, str] = {}
    if any(read_actor(entry.actor)[1] for entry in page.items):
        names = {t.id: t.name for t in await engine.list_tokens(organization)}
    return AdminPage(page, names)
