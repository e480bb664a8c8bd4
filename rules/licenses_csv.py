"""SPEC 7: the licenses file (import and export) and the users file (export).

This module reads the stored users an import needs and applies it; the steps before are their own
modules: `csv_decoding` (bytes to text), `csv_parsing` (rows, and the checks that need no stored
user), `csv_planning` (matching rows to users, the change set), `csv_report` (the answer);
`csv_export` writes both files. The names the engine and the API use are re-exported here.

Reading. One decoding rule for every path (`decode_licenses_file`): UTF-8 with or without a BOM,
UTF-16 with a BOM; any other bytes, and text holding a U+FFFD that a client's lenient decoding
left, are one NOT_UTF8 problem on the first bad line ("save it from your spreadsheet as 'CSV
UTF-8'"), never stored with broken characters. Python's `csv` module then reads CRLF, LF or CR
line ends; quoted or unquoted fields; `,`, `;` or a tab as the separator, whichever the header line holds
most of. Columns are found by header name, compared without case and without spaces (`Full Name`,
` full name ` and `FULLNAME` are one column), in any order; extra columns (the users file's
`Last Sync`) are ignored. Rows whose cells are all empty (blank lines, the `,,,,` lines some
spreadsheets leave) are ignored wherever they are, and do not count as rows. Spaces around a cell
are ignored (an Id or name with surrounding spaces is matched and created without them). Line
numbers are physical lines, 1-based, the header being line 1 (blank lines before it are
tolerated); a row whose quoted field spans lines is reported on the line where it starts, and a
quote never closed is named as such. A line break inside a name cell (Alt+Enter) is read as a
space with the warning NAME_LINE_BREAK; in an Id or Email it is an error. After a header error
(BAD_HEADER) rows are only counted: the error is reported once, not again on every row.

Deciding. The whole file is checked before anything changes and the report lists every problem
(`ProblemCode`), problems of the whole file (line null) first, then by line. A row finds its user
by Id (a GUID in any case), else by Email (any case), else creates one from Id, Email and Full
Name; an unknown Id on the row of a user found by Email, when it is that user's id as a
spreadsheet re-writes ids (leading zeros lost, scientific notation, a number or date re-format),
and a new user's Id in E+ notation or date form, get the warning ID_REFORMATTED (`csv_ids`). Two
rows naming one user (by the same Id, the same Email, or one by Id and one by Email) are
DUPLICATE_ID / DUPLICATE_EMAIL on the later line. An import changes selectors only, never names
or e-mails. Values: Assigned/Enabled assign (overriding DISABLED, as an admin's explicit
assignment does); empty releases an ASSIGNED selector and leaves DISABLED; Disabled releases and
blocks. Both Assigned **[decided]**: INSPECTIONS is assigned and STANDARD becomes UNASSIGNED (it
was asked for, so it is not left DISABLED), with the warning BOTH_ASSIGNED. Seats are checked on
the final state per type; an error only when the final count is above capacity and above today's.
A file with only a header is EMPTY_FILE in REPLACE mode and an applied no-op in MERGE mode; a file
with no header either (empty, or blank lines only) is EMPTY_FILE in both modes.

Summary. `rows` counts data rows; per selector, `assigned` counts those that become ASSIGNED,
`unassigned` the seats released (an ASSIGNED selector that becomes UNASSIGNED or DISABLED,
REPLACE's releases included), `disabled` those that become DISABLED (so an ASSIGNED -> DISABLED
selector counts in both); `created` counts new users (their Assigned and Disabled selectors count
as above), `unchanged` the rows of existing users that change nothing. When the file has errors
nothing changes and the summary shows what the valid rows would have changed (applied false).
The report lists at most 1,000 problems (`MAX_LISTED_PROBLEMS`), with the total and the counts
per code.

Applying. The creates and changes are one `Storage.apply_changes`: every change carries the
selectors it was decided on and the change set the seat limits of now, so that a concurrent sync
can neither slip in between nor take a seat the import counted on. A user changed or created
meanwhile makes the import read again and decide again (up to 8 times, then CONFLICT); seats
taken meanwhile make it NOT_ENOUGH_SEATS. Every change is audited with reason IMPORT (a seat
released by a switch to the other type too), the caller's token name as actor, and one operation
id per import.

Limits (each refused with a problem that says so, never with a crash):

* the file: at most 20 MB of UTF-8 (`MAX_FILE_BYTES`, the server's default request-body limit)
  and 200,000 data rows (`MAX_ROWS`); over either, `NOT_CSV` and nothing is applied;
* a field: at most 1,000 characters (`MAX_FIELD_CHARS`), else `BAD_VALUE` on its line (a 10 MB
  field too: the csv module's own field limit is caught and reported the same way);
* binary data (NUL characters, text that is mostly control characters) is `NOT_CSV` for the
  whole file; bytes that are not UTF-8 are `NOT_UTF8` (above).

Formula cells (CSV injection, as OWASP advises). A cell that begins with `=`, `+`, `-`, `@`, a tab
or a carriage return is stored as the text it is; Seatkeeper never evaluates it. On export such a
cell is written with a single quote `'` in front (`=cmd|' /C calc'!A0` is written
`'=cmd|' /C calc'!A0`), so that a spreadsheet opening the file shows text instead of running a
formula. On import, that `'` is removed again from Id, Full Name and Email, so that an exported
file re-imports to exactly the stored values and export -> import -> export gives the same bytes.
A cell that begins with `'` followed by anything else (`'Connor`) is taken as it is. Exactly:
export writes `'` + value when the value, its leading `'`s set aside, begins with one of the
characters above; import removes one leading `'` when the rest passes that same test (so
`''=x` is written for a stored `'=x`, and the rule is its own exact inverse).

Writing. Both files are written with the csv module, every field quoted, CRLF line ends (RFC 4180),
one line at a time (`licenses_lines`, `users_lines`), so that a large organization is streamed
rather than held in one string. Last Sync is ISO 8601 in UTC with `Z`, as the API writes times.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from seatkeeper.domain.records import SEAT_TYPES, LicenseState, MobileUser, Organization
from seatkeeper.rules import decisions
from seatkeeper.rules.base import conflict_error
from seatkeeper.rules.collector import collector_paused
from seatkeeper.rules.csv_decoding import MAX_FILE_BYTES, DecodedFile, decode_licenses_file
from seatkeeper.rules.csv_export import (
    LICENSES_HEADER,
    USERS_HEADER,
    escape_formula,
    iso_utc,
    licenses_lines,
    unescape_formula,
    users_lines,
)
from seatkeeper.rules.csv_parsing import (
    MAX_FIELD_CHARS,
    MAX_ROWS,
    Row,
    parse_licenses_file,
    parse_licenses_steps,
)
from seatkeeper.rules.csv_planning import (
    Known,
    not_enough_seats,
    plan_steps,
    seat_problems,
)
from seatkeeper.rules.csv_report import (
    ERROR,
    MAX_LISTED_PROBLEMS,
    WARNING,
    ImportMode,
    ImportProblem,
    ImportReport,
    ImportSummary,
    ProblemCode,
    import_report,
)
from seatkeeper.rules.retry import AGAIN, Again, with_conflict_retry
from seatkeeper.storage.protocol import (
    AlreadyExists,
    Applied,
    ChangeSet,
    Conflict,
    SeatShortage,
    Storage,
    UserQuery,
    user_sort_key,
)
from seatkeeper.storage.slices import run_sliced

__all__ = [
    "ERROR",
    "LICENSES_HEADER",
    "MAX_FIELD_CHARS",
    "MAX_FILE_BYTES",
    "MAX_LISTED_PROBLEMS",
    "MAX_ROWS",
    "USERS_HEADER",
    "WARNING",
    "DecodedFile",
    "ImportMode",
    "ImportProblem",
    "ImportReport",
    "ImportSummary",
    "ProblemCode",
    "decode_licenses_file",
    "escape_formula",
    "import_licenses",
    "iso_utc",
    "licenses_lines",
    "parse_licenses_file",
    "unescape_formula",
    "users_lines",
]

# Users are read from the storage this many at a time.
READ_CHUNK = 5_000

A = LicenseState.ASSIGNED


# ================================================================ reading the stored users


async def _scan(
    storage: Storage, organization_id: str, query: UserQuery
) -> AsyncIterator[MobileUser]:
    """Every user matching `query`, a large keyset page at a time."""
    after = None
    while True:
        page = await storage.list_users(organization_id, query, READ_CHUNK, after)
        for user in page:
            yield user
        if len(page) < READ_CHUNK:
            return
        after = user_sort_key(page[-1])
        # A backend answering from memory never suspends: pause between pages so that other
        # organizations' requests are served while a large file is read (issue 9, finding 6).
        await asyncio.sleep(0)


async def _read_users(
    storage: Storage, organization_id: str, rows: list[Row], mode: ImportMode
) -> Known:
    """Read the users the rows may name, in bulk.

    When the organization is not much larger than the file, reading all of it in large pages is
    far cheaper than one look-up per row (and gives REPLACE its holders on the way); otherwise the
    rows' ids are read in chunks and only the e-mails that can matter are looked up one by one.
    """
    total = await storage.count_users(organization_id, UserQuery())
    if total <= max(READ_CHUNK, 4 * len(rows)):
        by_key: dict[str, MobileUser] = {}
        by_email: dict[str, MobileUser] = {}
        every_holder: list[MobileUser] = []
        async for user in _scan(storage, organization_id, UserQuery()):
            by_key[user.key] = user
            by_email[user.email_key] = user
            if user.active_license is not None:
                every_holder.append(user)
        return Known(by_key, by_email, every_holder)
    keys = list(dict.fromkeys(r.key for r in rows if r.key and not r.duplicate))
    by_key = {}
    for start in range(0, len(keys), READ_CHUNK):
        by_key.update(await storage.get_users(organization_id, keys[start : start + READ_CHUNK]))
        await asyncio.sleep(0)  # between chunks, as in `_scan`
    by_email = {user.email_key: user for user in by_key.values()}
    for row in rows:
        # An e-mail matters when the row's Id finds nobody (match by e-mail) or finds a user with
        # another e-mail (ID_EMAIL_CONFLICT if the e-mail is someone else's).
        if row.email_key and not row.duplicate and row.email_key not in by_email:
            found = await storage.find_user_by_email(organization_id, row.email)
            if found is not None:
                by_email[found.email_key] = found
    holders: list[MobileUser] | None = None
    if mode is ImportMode.REPLACE:
        holders = [user async for user in _scan(storage, organization_id, UserQuery(any_state=A))]
    return Known(by_key, by_email, holders)


# ================================================================ applying an import


# Bytes of a licenses file per row, at least (an Id, a name, an e-mail, two cells): a file's size
# over this is an upper bound of its rows, known before it is parsed.
_BYTES_PER_ROW = 40
# Objects an import made are let go this many at a time (`_release`).
_RELEASE_CHUNK = 4_096


async def import_licenses(
    storage: Storage,
    organization: Organization,
    actor: str,
    data: str | bytes,
    mode: ImportMode,
    dry_run: bool,
    now: datetime,
) -> ImportReport:
    """SPEC 7: validate the whole file, then apply it whole (one change set) or not at all.

    The caller has checked the trial (SPEC 3). On a concurrent change of a user the import counted
    on (Conflict, AlreadyExists) the stored users are read again and the import decided again, a
    bounded number of times; seats taken meanwhile make it NOT_ENOUGH_SEATS, never an over-allocation.
    """
    # A large file's objects are many and live for seconds: full collections of them would hold
    # every organization's requests (`collector`; issue 9, B9).
    with collector_paused(len(data) // _BYTES_PER_ROW):
        return await _import_licenses(storage, organization, actor, data, mode, dry_run, now)


async def _release(*collections: list[Any]) -> None:
    """Empty `collections` a chunk at a time, giving the event loop back between chunks.

    Freeing a large import's rows, planned users and audit entries at once (when the last
    reference goes) is one uninterrupted cascade of deallocations, a tenth of a second for
    200,000 rows (issue 9, B9)."""
    for items in collections:
        while items:
            del items[-_RELEASE_CHUNK:]
            await asyncio.sleep(0)


async def _import_licenses(
    storage: Storage,
    organization: Organization,
    actor: str,
    data: str | bytes,
    mode: ImportMode,
    dry_run: bool,
    now: datetime,
) -> ImportReport:
    mode = ImportMode(mode)
    # Parsing and planning are pure CPU work: they run in slices, so that the event loop keeps
    # serving other organizations meanwhile (issue 9, finding 6: a 200k-row import blocked every
    # sync 5.6 s; in a worker thread they still held the loop, waiting for the GIL, B9).
    parsed = await run_sliced(parse_licenses_steps(data))
    problems = list(parsed.problems)
    if parsed.has_header and parsed.data_rows == 0 and not problems:
        if mode is ImportMode.REPLACE:
            message = (
                "the file has no data rows: a REPLACE would release every seat; nothing was changed"
            )
            return import_report(
                False, ImportSummary(), [ImportProblem(None, ProblemCode.EMPTY_FILE, message)]
            )
        return import_report(not dry_run, ImportSummary(), [])  # MERGE: nothing to change
    if not parsed.usable:
        return import_report(False, ImportSummary(rows=parsed.data_rows), problems)
    organization_id = organization.id

    async def attempt() -> ImportReport | Again:
        known = await _read_users(storage, organization_id, parsed.rows, mode)
        plan = await run_sliced(plan_steps(parsed, known, mode, organization_id, actor, now))
        limits = decisions.seat_limits(await storage.list_subscriptions(organization_id), now)
        holders_now = {t: await storage.count_holders(organization_id, t) for t in SEAT_TYPES}
        found = problems + plan.problems + seat_problems(plan, holders_now, limits)
        if any(p.severity == ERROR for p in found) or dry_run:
            report = await asyncio.to_thread(import_report, False, plan.summary, found)
            await _release(plan.creates, plan.changes, plan.audit, found)
            return report
        if not plan.creates and not plan.changes:
            return import_report(True, plan.summary, found)
        result = await storage.apply_changes(
            ChangeSet(
                organization_id,
                creates=plan.creates,
                changes=plan.changes,
                seat_limits=limits,
                audit=plan.audit,
                order_audit=True,
            )
        )
        await _release(plan.creates, plan.changes, plan.audit)
        if isinstance(result, Applied):
            return import_report(True, plan.summary, found)
        if isinstance(result, SeatShortage):  # seats taken since they were counted
            held = result.holders
            shortage = not_enough_seats(
                result.license_type, held + result.delta, limits[result.license_type], held
            )
            return import_report(False, plan.summary, found + [shortage])
        # Conflict or AlreadyExists: users changed or appeared meanwhile; decide again on fresh records.
        assert isinstance(result, (Conflict, AlreadyExists)), result
        return AGAIN

    def exhausted() -> ImportReport:
        refused = import_report(False, ImportSummary(rows=parsed.data_rows), problems)
        refused.user_errors.append(conflict_error())
        return refused

    report = await with_conflict_retry(attempt, exhausted)
    await _release(parsed.rows, problems)
    return report
