"""SPEC 7: the licenses file (import, export) and the users file (export), through the engine.

The files themselves are read, checked, decided and written in `licenses_csv` and its helpers;
this section checks the organization and the trial, and streams exports in SPEC 6a's order.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from seatkeeper.domain.records import LicenseState
from seatkeeper.rules import decisions, licenses_csv
from seatkeeper.rules.base import trial_error
from seatkeeper.rules.licenses_csv import (
    ImportMode,
    ImportReport,
    ImportSummary,
    licenses_lines,
    users_lines,
)
from seatkeeper.rules.views import UserFilter, ViewOperations


class CsvOperations(ViewOperations):
    """SPEC 7: CSV import and export (exports list users as SPEC 6a does)."""

    async def import_licenses(
        self,
        organization_id: str,
        actor: str,
        csv_text: str,
        mode: ImportMode = ImportMode.MERGE,
        dry_run: bool = False,
    ) -> ImportReport:
        """SPEC 7: import a licenses file whole or not at all (see `licenses_csv`).

        During a trial the only answer is TRIAL_ACTIVE, dry runs included (SPEC 3); any problem of
        severity ERROR means nothing changed and adds one CSV_INVALID user error.
        """
        organization = await self._require_organization(organization_id)
        now = self.clock()
        if decisions.in_trial(organization, now):
            return ImportReport(applied=False, summary=ImportSummary(), user_errors=[trial_error()])
        return await licenses_csv.import_licenses(
            self.storage, organization, actor, csv_text, mode, dry_run, now
        )

    async def iter_export_licenses(self, organization_id: str) -> AsyncIterator[str]:
        """SPEC 7, the licenses file, one CSV line at a time: users holding a seat, in 6a's order."""
        await self._require_organization(organization_id)  # fail before the header line, not after
        holders = self.all_users(organization_id, None, UserFilter(state=LicenseState.ASSIGNED))
        async for line in licenses_lines(view.user async for view in holders):
            yield line

    async def iter_export_users(
        self, organization_id: str, search: str | None = None, user_filter: UserFilter | None = None
    ) -> AsyncIterator[str]:
        """SPEC 7, the users file, one CSV line at a time: every user matching the search and filter."""
        # An unknown organization or a bad search fails (BadRequest) before the header line.
        organization = await self._require_organization(organization_id)
        self.user_query(organization.settings, self.clock(), search, user_filter)
        users = self.all_users(organization_id, search, user_filter)
        async for line in users_lines(view.user async for view in users):
            yield line

    async def export_licenses(self, organization_id: str) -> str:
        """SPEC 7, the licenses file as one string (the GraphQL field); see `iter_export_licenses`."""
        return "".join([line async for line in self.iter_export_licenses(organization_id)])

    async def export_users(
        self, organization_id: str, search: str | None = None, user_filter: UserFilter | None = None
    ) -> str:
        """SPEC 7, the users file as one string (the GraphQL field); see `iter_export_users`."""
        return "".join(
            [line async for line in self.iter_export_users(organization_id, search, user_filter)]
        )
