"""SPEC 7: writing the licenses file and the users file, and the formula-cell escaping both
directions share (CSV injection; the rule is stated in `seatkeeper.rules.licenses_csv`).

Files are written with the csv module, every field quoted, CRLF line ends (RFC 4180), one line at
a time, so that a large organization is streamed rather than held in one string.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from datetime import UTC, datetime

from seatkeeper.domain.records import LicenseState, MobileUser

A, D = LicenseState.ASSIGNED, LicenseState.DISABLED


# ================================================================ formula cells (CSV injection)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _looks_like_formula(value: str) -> bool:
    rest = value.lstrip("'")
    return rest.startswith(_FORMULA_STARTS)


def escape_formula(value: str) -> str:
    """The cell to write for `value`: a `'` in front of what a spreadsheet would run (module docstring)."""
    return "'" + value if _looks_like_formula(value) else value


def unescape_formula(value: str) -> str:
    """The value a cell written by `escape_formula` stands for (its exact inverse)."""
    if value.startswith("'") and _looks_like_formula(value[1:]):
        return value[1:]
    return value


# ================================================================ writing the files

# SPEC 7, Export options: the byte-order mark written first on request (Excel reads UTF-8 only
# with it; LibreOffice and Gnumeric do not need it and skip it).
BOM = "\ufeff"

LICENSES_HEADER = ("Id", "Full Name", "Email", "Standard", "Inspections")
USERS_HEADER = (*LICENSES_HEADER, "Last Sync")


class _LineWriter:
    """One CSV line at a time: every field quoted, CRLF line ends (SPEC 7, RFC 4180)."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")

    def line(self, cells: Iterable[str]) -> str:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._writer.writerow(cells)
        return self._buffer.getvalue()


def _licenses_cell(state: LicenseState) -> str:
    return "Assigned" if state is A else ""


def _users_cell(state: LicenseState) -> str:
    return {A: "Assigned", D: "Disabled"}.get(state, "")


def iso_utc(moment: datetime | None) -> str:
    """ISO 8601 in UTC with `Z` (as the API writes times), or empty."""
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def licenses_lines(users: AsyncIterable[MobileUser]) -> AsyncIterator[str]:
    """SPEC 7, the licenses file: the header, then one line per user holding a seat, in the
    order given (SPEC 6a's); `Assigned` or empty; formula cells escaped."""
    out = _LineWriter()
    yield out.line(LICENSES_HEADER)
    async for user in users:
        if user.active_license is None:
            continue
        yield out.line(
            (
                escape_formula(user.id),
                escape_formula(user.full_name),
                escape_formula(user.email),
                _licenses_cell(user.standard),
                _licenses_cell(user.inspections),
            )
        )


async def users_lines(users: AsyncIterable[MobileUser]) -> AsyncIterator[str]:
    """SPEC 7, the users file: Id, Full Name, Email, Standard, Inspections (`Assigned`,
    `Disabled` or empty), Last Sync (ISO 8601 UTC or empty); formula cells escaped."""
    out = _LineWriter()
    yield out.line(USERS_HEADER)
    async for user in users:
        yield out.line(
            (
                escape_formula(user.id),
                escape_formula(user.full_name),
                escape_formula(user.email),
                _users_cell(user.standard),
                _users_cell(user.inspections),
                iso_utc(user.last_sync_at),
            )
        )
