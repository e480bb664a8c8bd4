"""SPEC 7: the licenses file (import and export) and the users file (export).

This module decides and applies an import; `csv_import` reads and checks the file on its own,
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
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

from seatkeeper.domain.records import (
    SEAT_TYPES,
    AuditEntry,
    AuditReason,
    LicenseState,
    LicenseType,
    MobileUser,
    Organization,
    new_id,
)
from seatkeeper.rules import csv_ids, decisions
from seatkeeper.rules.base import conflict_error
from seatkeeper.rules.csv_export import (
    LICENSES_HEADER,
    USERS_HEADER,
    escape_formula,
    iso_utc,
    licenses_lines,
    unescape_formula,
    users_lines,
)
from seatkeeper.rules.csv_import import (
    ERROR,
    MAX_FIELD_CHARS,
    MAX_FILE_BYTES,
    MAX_LISTED_PROBLEMS,
    MAX_ROWS,
    WARNING,
    DecodedFile,
    ImportMode,
    ImportProblem,
    ImportReport,
    ImportSummary,
    ProblemCode,
    _Cell,
    _ParsedFile,
    _Row,
    decode_licenses_file,
    parse_licenses_file,
)
from seatkeeper.rules.fields import InputField
from seatkeeper.rules.outcomes import ErrorCode, UserError
from seatkeeper.rules.retry import AGAIN, Again, with_conflict_retry
from seatkeeper.storage.protocol import (
    AlreadyExists,
    Applied,
    ChangeSet,
    Conflict,
    SeatShortage,
    SelectorChange,
    Storage,
    UserQuery,
    user_sort_key,
)

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

A, U, D = LicenseState.ASSIGNED, LicenseState.UNASSIGNED, LicenseState.DISABLED


# ================================================================ deciding an import


@dataclass
class _Known:
    """The stored users an import needs: by key, by e-mail key, and (REPLACE) every seat holder."""

    by_key: dict[str, MobileUser]
    by_email: dict[str, MobileUser]
    holders: list[MobileUser] | None


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
    storage: Storage, organization_id: str, rows: list[_Row], mode: ImportMode
) -> _Known:
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
        return _Known(by_key, by_email, every_holder)
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
    return _Known(by_key, by_email, holders)


def _selectors_after(
    before: tuple[LicenseState, LicenseState], standard: _Cell | None, inspections: _Cell | None
) -> tuple[LicenseState, LicenseState]:
    """SPEC 7, Values: Assigned -> ASSIGNED; empty -> an ASSIGNED selector becomes UNASSIGNED, the
    others stay (DISABLED stays DISABLED); Disabled -> DISABLED. Both Assigned: INSPECTIONS, which
    includes STANDARD; the STANDARD selector is then left UNASSIGNED (it was asked for, not blocked)."""

    def target(current: LicenseState, cell: _Cell | None) -> LicenseState:
        if cell is _Cell.ASSIGN:
            return A
        if cell is _Cell.DISABLE:
            return D
        return U if current is A else current

    both = standard is _Cell.ASSIGN and inspections is _Cell.ASSIGN
    return (U if both else target(before[0], standard), target(before[1], inspections))


@dataclass
class _Plan:
    problems: list[ImportProblem]
    summary: ImportSummary
    creates: list[MobileUser] = field(default_factory=list)
    changes: list[SelectorChange] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    gained: dict[LicenseType, int] = field(default_factory=lambda: {t: 0 for t in SEAT_TYPES})

    @property
    def has_errors(self) -> bool:
        return any(p.severity == ERROR for p in self.problems)


class _Planner:
    """Turns the rows and the stored users into the change set of SPEC 7 (no I/O)."""

    def __init__(
        self, organization_id: str, actor: str, now: datetime, summary: ImportSummary
    ) -> None:
        self.organization_id = organization_id
        self.actor = actor
        self.now = now
        self.operation_id = new_id()
        self.plan = _Plan([], summary)

    def change(self, user: MobileUser, after: tuple[LicenseState, LicenseState]) -> None:
        """Change a stored user's selectors, expecting them as read (compare-and-set)."""
        self.plan.changes.append(
            SelectorChange(
                user_key=user.key,
                expected=user.selectors,
                standard=after[0],
                inspections=after[1],
                assigned_at=decisions.assigned_at_after(user, after, self.now),
            )
        )
        self._account(user.id, user.selectors, after)

    def create(self, row: _Row) -> None:
        after = _selectors_after((U, U), row.standard, row.inspections)
        user = MobileUser(
            organization_id=self.organization_id,
            id=row.user_id,
            full_name=row.full_name,
            email=row.email,
            created_at=self.now,
            standard=after[0],
            inspections=after[1],
            assigned_at=self.now if decisions.held_by(after) else None,
        )
        self.plan.creates.append(user)
        self.plan.summary.created += 1
        self._account(user.id, (U, U), after)

    def _account(
        self,
        user_id: str,
        before: tuple[LicenseState, LicenseState],
        after: tuple[LicenseState, LicenseState],
    ) -> None:
        """Summary counters, seats gained per type and the audit entries of one user's change."""
        summary = self.plan.summary
        for license_type, old, new in zip(SEAT_TYPES, before, after):
            if old is new:
                continue
            summary.assigned += new is A
            summary.unassigned += old is A
            summary.disabled += new is D
            self.plan.audit.append(
                AuditEntry(
                    organization_id=self.organization_id,
                    at=self.now,
                    user_id=user_id,
                    license_type=license_type,
                    from_state=old,
                    to_state=new,
                    actor=self.actor,
                    reason=AuditReason.IMPORT,  # a seat released by a switch too: the import did it
                    operation_id=self.operation_id,
                )
            )
        held_before, held_after = decisions.held_by(before), decisions.held_by(after)
        if held_before is not held_after:
            if held_before is not None:
                self.plan.gained[held_before] -= 1
            if held_after is not None:
                self.plan.gained[held_after] += 1

    def problem(self, line: int | None, code: str, message: str, severity: str = ERROR) -> None:
        self.plan.problems.append(ImportProblem(line, code, message, severity))


def _plan_import(
    parsed: _ParsedFile,
    known: _Known,
    mode: ImportMode,
    organization_id: str,
    actor: str,
    now: datetime,
) -> _Plan:
    """SPEC 7: match every row to its user (Id, else Email, else create) and decide the changes."""
    planner = _Planner(organization_id, actor, now, ImportSummary(rows=parsed.data_rows))
    matched: dict[str, int] = {}  # user key -> the line that named it
    for row in parsed.rows:
        if row.duplicate:
            continue  # reported when read; matched to nobody
        email_key = row.email_key
        user = known.by_key.get(row.key) if row.key else None
        if user is not None:
            owner = (
                known.by_email.get(email_key) if email_key and email_key != user.email_key else None
            )
            if owner is not None and owner.key != user.key:
                planner.problem(
                    row.line,
                    ProblemCode.ID_EMAIL_CONFLICT,
                    f"the Id {row.user_id[:80]!r} is one user's and the Email {row.email[:80]!r} another's "
                    f"(Id {owner.id[:80]!r}){csv_ids.conflict_hint(owner.id, row.user_id)}",
                )
                continue
        elif email_key:
            user = known.by_email.get(email_key)
            if user is not None and row.user_id:
                # An unknown Id on a known user's row: a spreadsheet may have re-formatted it.
                cause = csv_ids.reformat_cause(user.id, row.user_id)
                if cause is not None:
                    message = csv_ids.reformatted_message(user.id, row.user_id, cause)
                    planner.problem(row.line, ProblemCode.ID_REFORMATTED, message, WARNING)
        if user is not None:
            if user.key in matched:
                planner.problem(
                    row.line,
                    ProblemCode.DUPLICATE_ID,
                    f"the row names the user {user.id[:80]!r}, already named on line {matched[user.key]}",
                )
                continue
            matched[user.key] = row.line
            if not row.ok:
                continue
            after = _selectors_after(user.selectors, row.standard, row.inspections)
            if after == user.selectors:
                planner.plan.summary.unchanged += 1
            else:
                planner.change(user, after)
            continue
        # No stored user: the row creates one (how licenses move between environments).
        if not row.user_id and not row.email:
            continue  # reported when read
        missing = [
            name
            for name, value in (
                ("Id", row.user_id),
                ("Email", row.email),
                ("Full Name", row.full_name),
            )
            if not value
        ]
        if missing:
            planner.problem(
                row.line,
                ProblemCode.MISSING_FIELD,
                f"no user has this Id or Email, and a new user needs Id, Email and Full Name: {', '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} empty",
            )
            continue
        if problem := decisions.name_problem(row.full_name, required=True):
            planner.problem(row.line, ProblemCode.BAD_VALUE, f"Full Name: {problem}")
            continue
        if row.ok:
            if warning := csv_ids.new_id_problem(row.user_id):
                planner.problem(row.line, ProblemCode.ID_REFORMATTED, warning, WARNING)
            planner.create(row)
    if mode is ImportMode.REPLACE and known.holders is not None:
        # A restore: the seats of users absent from the file are released; DISABLED stays.
        for user in known.holders:
            if user.key not in matched:
                standard, inspections = user.selectors
                released = (
                    U if standard is A else standard,
                    U if inspections is A else inspections,
                )
                planner.change(user, released)
    return planner.plan


def _seat_problems(
    plan: _Plan, holders_now: dict[LicenseType, int], limits: dict[LicenseType, int]
) -> list[ImportProblem]:
    """SPEC 7: the final count per seat type against capacity. An error only when the final count
    exceeds capacity and is above today's count: an import never worsens an over-allocation, and
    is never refused for one it does not worsen."""
    problems = []
    for license_type in SEAT_TYPES:
        gained = plan.gained[license_type]
        final = holders_now[license_type] + gained
        if gained > 0 and final > limits[license_type]:
            problems.append(
                _not_enough_seats(
                    license_type, final, limits[license_type], holders_now[license_type]
                )
            )
    return problems


def _not_enough_seats(
    license_type: LicenseType, final: int, limit: int, now_held: int
) -> ImportProblem:
    name = license_type.value.title()
    return ImportProblem(
        None,
        ProblemCode.NOT_ENOUGH_SEATS,
        f"not enough {name} seats: after the import {final} user{'' if final == 1 else 's'} would hold one, the subscriptions valid now "
        f"have {limit} ({max(0, limit - now_held)} free, {final - max(limit, now_held)} more needed)",
    )


# ================================================================ applying an import


def _sorted(problems: list[ImportProblem]) -> list[ImportProblem]:
    """Problems of the whole file first, then by line; in the order found within a line."""
    return sorted(problems, key=lambda p: (p.line is not None, p.line or 0))


def _report(applied: bool, summary: ImportSummary, problems: list[ImportProblem]) -> ImportReport:
    """The report: at most MAX_LISTED_PROBLEMS problems in line order, the total and counts per
    code; with any error, one CSV_INVALID and applied false. The summary is what was (or, with
    errors or in a dry run, would have been) changed (SPEC 7)."""
    problems = _sorted(problems)
    errors = sum(p.severity == ERROR for p in problems)
    user_errors = []
    if errors:
        user_errors.append(
            UserError(
                ErrorCode.CSV_INVALID,
                f"the file has {errors:,} error{'s' if errors != 1 else ''}; nothing was changed",
                (InputField.CSV,),
            )
        )
    return ImportReport(
        applied=applied and not errors,
        summary=summary,
        problems=problems[:MAX_LISTED_PROBLEMS],
        user_errors=user_errors,
        problem_total=len(problems),
        problem_counts=dict(Counter(p.code for p in problems)),
    )


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
    mode = ImportMode(mode)
    # Parsing and planning are pure CPU work on this call's own data (no storage, no shared
    # state): they run in a worker thread so that the event loop keeps serving other
    # organizations meanwhile (issue 9, finding 6: a 200k-row import blocked every sync 5.6 s).
    parsed = await asyncio.to_thread(parse_licenses_file, data)
    problems = list(parsed.problems)
    if parsed.has_header and parsed.data_rows == 0 and not problems:
        if mode is ImportMode.REPLACE:
            message = (
                "the file has no data rows: a REPLACE would release every seat; nothing was changed"
            )
            return _report(
                False, ImportSummary(), [ImportProblem(None, ProblemCode.EMPTY_FILE, message)]
            )
        return _report(not dry_run, ImportSummary(), [])  # MERGE: nothing to change
    if not parsed.usable:
        return _report(False, ImportSummary(rows=parsed.data_rows), problems)
    organization_id = organization.id

    async def attempt() -> ImportReport | Again:
        known = await _read_users(storage, organization_id, parsed.rows, mode)
        plan = await asyncio.to_thread(
            _plan_import, parsed, known, mode, organization_id, actor, now
        )
        limits = decisions.seat_limits(await storage.list_subscriptions(organization_id), now)
        holders_now = {t: await storage.count_holders(organization_id, t) for t in SEAT_TYPES}
        found = problems + plan.problems + _seat_problems(plan, holders_now, limits)
        if any(p.severity == ERROR for p in found) or dry_run:
            return await asyncio.to_thread(_report, False, plan.summary, found)
        if not plan.creates and not plan.changes:
            return _report(True, plan.summary, found)
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
        if isinstance(result, Applied):
            return _report(True, plan.summary, found)
        if isinstance(result, SeatShortage):  # seats taken since they were counted
            held = result.holders
            shortage = _not_enough_seats(
                result.license_type, held + result.delta, limits[result.license_type], held
            )
            return _report(False, plan.summary, found + [shortage])
        # Conflict or AlreadyExists: users changed or appeared meanwhile; decide again on fresh records.
        assert isinstance(result, (Conflict, AlreadyExists)), result
        return AGAIN

    def exhausted() -> ImportReport:
        report = _report(False, ImportSummary(rows=parsed.data_rows), problems)
        report.user_errors.append(conflict_error())
        return report

    return await with_conflict_retry(attempt, exhausted)
