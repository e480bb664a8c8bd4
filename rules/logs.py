"""SPEC 8: the sync log, the audit log and the administration log, newest first, and the sync
log's retention (SPEC 8 sets none for the other two: they are kept)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from seatkeeper.domain.records import AdminLogEntry, AuditEntry, SyncLogEntry, user_key
from seatkeeper.rules.base import EngineBase
from seatkeeper.rules.fields import InputField
from seatkeeper.rules.outcomes import BadRequest, Page, Position
from seatkeeper.rules.paging import NOT_OURS, check_page_size, check_position, keyset_page
from seatkeeper.storage.protocol import LogQuery

E = TypeVar("E", SyncLogEntry, AuditEntry, AdminLogEntry)


class LogOperations(EngineBase):
    """SPEC 8: reading the logs, purging the sync log."""

    async def sync_log(
        self,
        organization_id: str,
        user_id: str | None = None,
        errors_only: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = None,
        after: Position | None = None,
    ) -> Page[SyncLogEntry]:
        """SPEC 8: the sync log, newest first, by user, errors only, half-open time range."""
        return await self._log_page(
            self.storage.list_sync_log,
            organization_id,
            user_id,
            errors_only,
            since,
            until,
            first,
            after,
        )

    async def audit_log(
        self,
        organization_id: str,
        user_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = None,
        after: Position | None = None,
    ) -> Page[AuditEntry]:
        """SPEC 8: every selector change, newest first."""
        return await self._log_page(
            self.storage.list_audit_log, organization_id, user_id, False, since, until, first, after
        )

    async def admin_log(
        self,
        organization_id: str,
        since: datetime | None = None,
        until: datetime | None = None,
        first: int | None = None,
        after: Position | None = None,
    ) -> Page[AdminLogEntry]:
        """SPEC 8: administrative changes that are not selector changes, newest first."""
        return await self._log_page(
            self.storage.list_admin_log, organization_id, None, False, since, until, first, after
        )

    async def _log_page(
        self,
        fetch: Callable[[str, LogQuery, int, tuple[datetime, str] | None], Awaitable[list[E]]],
        organization_id: str,
        user_id: str | None,
        errors_only: bool,
        since: datetime | None,
        until: datetime | None,
        first: int | None,
        after: Position | None,
    ) -> Page[E]:
        size = check_page_size(first)
        position = None
        if after is not None:
            at_text, entry_id = check_position(after, 2)
            try:
                at = datetime.fromisoformat(at_text)
                if at.tzinfo is None:  # naive: not one of ours, and not comparable (issue 9)
                    raise ValueError(at_text)
                position = (at.astimezone(UTC), entry_id)
            except (ValueError, OverflowError):
                raise BadRequest(NOT_OURS, (InputField.AFTER,)) from None
        query = LogQuery(
            user_key=user_key(user_id) if user_id else None,
            errors_only=errors_only,
            since=since,
            until=until,
        )
        entries = await fetch(organization_id, query, size + 1, position)
        return keyset_page(entries, size, lambda e: (e.at.isoformat(), e.id), lambda e: e)

    async def purge_sync_log(self, retention_days: int = 90) -> int:
        """SPEC 8: drop sync-log entries older than the retention period."""
        return await self.storage.purge_sync_log(self.clock() - timedelta(days=retention_days))
