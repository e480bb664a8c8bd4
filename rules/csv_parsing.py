"""SPEC 7: reading a licenses file's rows and the checks that need no stored user.

`parse_licenses_file` decodes the text (`csv_decoding`), finds the separator and the columns, and
checks every row on its own and against the rows before it (values, e-mail syntax, duplicates,
column count, field length). Matching rows to stored users is `csv_planning`'s work, applying
them `licenses_csv`'s; the rules of all are stated in that module's docstring.
"""

from __future__ import annotations

import csv
import enum
import io
import itertools
import re
from dataclasses import dataclass

from seatkeeper.domain.records import user_key
from seatkeeper.rules import decisions
from seatkeeper.rules.csv_decoding import decode_licenses_file
from seatkeeper.rules.csv_export import unescape_formula
from seatkeeper.rules.csv_report import ERROR, WARNING, ImportProblem, ProblemCode
from seatkeeper.storage.slices import Steps, run_now

MAX_ROWS = 200_000
# Rows read between two steps of `parse_licenses_steps`.
_STEP_ROWS = 256
MAX_FIELD_CHARS = 1_000


class Cell(enum.Enum):
    """What a Standard or Inspections cell asks for."""

    ASSIGN = "Assigned"
    EMPTY = ""
    DISABLE = "Disabled"


_CELL_VALUES = {
    "assigned": Cell.ASSIGN,
    "enabled": Cell.ASSIGN,
    "": Cell.EMPTY,
    "disabled": Cell.DISABLE,
}

# Header names without case and spaces -> the column they name.
_COLUMNS = {
    "id": "Id",
    "fullname": "Full Name",
    "email": "Email",
    "standard": "Standard",
    "inspections": "Inspections",
}
_REQUIRED = ("Id", "Email", "Standard", "Inspections")  # Full Name may be absent (SPEC 7)
# A line break in a cell, with the spaces around it: one space in a name.
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


@dataclass(slots=True)
class Row:
    """One data row as read, cells stripped and unescaped.

    `ok` is False once the row has an error (its license cells may then be None); `duplicate`
    marks a row whose Id or Email an earlier row already gave (it is matched to no user).
    """

    line: int
    user_id: str
    full_name: str
    email: str
    standard: Cell | None
    inspections: Cell | None
    key: str  # user_key(user_id), or "" without an Id
    email_key: str  # the e-mail case-folded, or "" without one
    ok: bool = True
    duplicate: bool = False


@dataclass
class ParsedFile:
    rows: list[Row]
    problems: list[ImportProblem]
    data_rows: int = 0  # every non-blank data row, valid or not
    usable: bool = True  # the header names the columns needed to match rows to users
    has_header: bool = True


def _sniff_delimiter(text: str) -> str:
    """`,`, `;` or a tab: whichever the header line (the first non-blank line) holds most of."""
    for line in re.split(r"\r\n|\r|\n", text, maxsplit=64):
        if line.strip():
            counts = {d: line.count(d) for d in (",", ";", "\t")}
            best = max(counts, key=counts.__getitem__)
            return best if counts[best] > 0 else ","
    return ","


def _normal_name(name: str) -> str:
    return "".join(name.split()).casefold()


def _read_header(header: list[str], problems: list[ImportProblem]) -> tuple[dict[str, int], bool]:
    """Column positions by name; False when the rows cannot be matched to users.

    After BAD_HEADER the positions are empty: no row is read by name (its problems would only
    repeat the header's)."""
    positions: dict[str, int] = {}
    for index, raw in enumerate(header):
        column = _COLUMNS.get(_normal_name(raw))
        if column is None:
            continue  # an extra column, such as the users file's Last Sync
        if column in positions:
            problems.append(
                ImportProblem(
                    1, ProblemCode.BAD_HEADER, f"the header names the column {column!r} twice"
                )
            )
            return {}, False
        positions[column] = index
    if not positions:
        shown = ", ".join(repr(h[:40]) for h in header[:6])
        problems.append(
            ImportProblem(
                1,
                ProblemCode.BAD_HEADER,
                f"line 1 is not the licenses header: expected the columns Id, Full Name, Email, Standard, "
                f"Inspections, found {shown}",
            )
        )
        return positions, False
    missing = [c for c in _REQUIRED if c not in positions]
    for column in missing:
        problems.append(
            ImportProblem(1, ProblemCode.MISSING_COLUMN, f"the header has no {column!r} column")
        )
    return positions, not missing


def _cell_value(raw: str, column: str, line: int, problems: list[ImportProblem]) -> Cell | None:
    value = _CELL_VALUES.get(raw.casefold())
    if value is None:
        problems.append(
            ImportProblem(
                line,
                ProblemCode.BAD_VALUE,
                f"{column}: {raw[:40]!r} is not a license state; write Assigned, Enabled, Disabled or leave it empty",
            )
        )
    return value


def parse_licenses_file(data: str | bytes) -> ParsedFile:
    """Read and check a licenses file on its own (SPEC 7): the checks that need no stored user."""
    return run_now(parse_licenses_steps(data))


def parse_licenses_steps(data: str | bytes) -> Steps[ParsedFile]:
    """`parse_licenses_file` as steps a few hundred rows long (`seatkeeper.storage.slices`)."""
    decoded = decode_licenses_file(data)
    text = decoded.text
    if text is None:
        assert decoded.problem is not None
        return ParsedFile([], [decoded.problem], usable=False, has_header=False)
    if not text.strip():
        return ParsedFile(
            [],
            [
                ImportProblem(
                    None, ProblemCode.EMPTY_FILE, "the file is empty: not even a header line"
                )
            ],
            usable=False,
            has_header=False,
        )
    # skipinitialspace: `"a", "b"` (a space after the separator) still reads "b" as a quoted field.
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=_sniff_delimiter(text),
        quotechar='"',
        skipinitialspace=True,
        strict=False,
    )
    parsed = ParsedFile([], [])
    rows: _RowReader | None = None  # set once the header is read
    last_line = 0  # the physical line the previous record ended on
    for step in itertools.count():
        if step % _STEP_ROWS == 0:
            yield
        start = last_line + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as error:  # a field over the csv module's own limit (131,072 characters)
            last_line = reader.line_num
            parsed.problems.append(_field_too_long(start, f"({error})"))
            if rows is None:  # the header itself: nothing after it can be read by name
                parsed.usable = False
                rows = _RowReader({}, -1, parsed.problems)
            else:
                parsed.data_rows += 1
            continue
        last_line = reader.line_num
        if not any(c.strip() for c in cells):
            continue  # blank lines, and rows of empty cells, anywhere
        if rows is None:  # the header: the first non-blank line (leading blank lines are tolerated)
            positions, parsed.usable = _read_header(cells, parsed.problems)
            # After BAD_HEADER (no position known) rows are only counted: a header error is
            # reported once, not again on every row.
            rows = _RowReader(positions, len(cells) if positions else -1, parsed.problems)
            continue
        parsed.data_rows += 1
        if parsed.data_rows > MAX_ROWS:
            message = f"the file has more than {MAX_ROWS:,} data rows; split it"
            parsed.problems.append(ImportProblem(start, ProblemCode.NOT_CSV, message))
            parsed.usable = False
            parsed.data_rows -= 1
            break
        row = rows.read(cells, start, last_line)
        if row is not None:
            parsed.rows.append(row)
    if rows is None:  # nothing but rows of empty cells
        parsed.problems.append(
            ImportProblem(
                None, ProblemCode.EMPTY_FILE, "the file has no header line, only empty cells"
            )
        )
        parsed.has_header = False
        parsed.usable = False
    return parsed


def _field_too_long(line: int, detail: str = "") -> ImportProblem:
    return ImportProblem(
        line,
        ProblemCode.BAD_VALUE,
        f"a field is longer than {MAX_FIELD_CHARS:,} characters {detail}".rstrip(),
    )


class _RowReader:
    """Checks each data row on its own and against the rows before it (duplicates)."""

    def __init__(
        self, positions: dict[str, int], width: int, problems: list[ImportProblem]
    ) -> None:
        # Column positions, -1 for a column the header lacks; `width` -1 when no row can be read.
        self.columns = tuple(
            positions.get(c, -1) for c in ("Id", "Full Name", "Email", "Standard", "Inspections")
        )
        self.width = width
        self.problems = problems
        # Without an Id or an Email column, "neither an Id nor an Email" would only repeat the
        # header's MISSING_COLUMN on every row.
        self.can_identify = "Id" in positions and "Email" in positions
        self.seen_keys: dict[str, int] = {}
        self.seen_emails: dict[str, int] = {}

    def read(self, cells: list[str], line: int, end_line: int) -> Row | None:
        """The row, or None if its cells cannot be read (column count, field length)."""
        problems = self.problems
        spans = (
            f"; a quoted field runs from line {line} to line {end_line}: is a closing quote missing?"
            if end_line > line
            else ""
        )
        if len(cells) != self.width:
            if self.width >= 0:
                count = f"{len(cells)} field{'s' if len(cells) != 1 else ''}"
                message = f"the row has {count}; the header has {self.width}{spans}"
                problems.append(ImportProblem(line, ProblemCode.COLUMN_COUNT, message))
            return None
        if any(len(c) > MAX_FIELD_CHARS for c in cells):
            problems.append(_field_too_long(line))
            return None
        before = len(problems)
        user_id, full_name, email, standard_text, inspections_text = (
            cells[i].strip() if i >= 0 else "" for i in self.columns
        )
        user_id, full_name, email = (
            unescape_formula(user_id),
            unescape_formula(full_name),
            unescape_formula(email),
        )
        if "\n" in full_name or "\r" in full_name:
            # A line break typed in the cell (Alt+Enter): one name on one line (SPEC 7).
            full_name = _LINE_BREAKS.sub(" ", full_name)
            message = f"Full Name: the cell holds a line break, read as a space: {full_name[:80]!r}"
            problems.append(ImportProblem(line, ProblemCode.NAME_LINE_BREAK, message, WARNING))
        standard = _cell_value(standard_text, "Standard", line, problems)
        inspections = _cell_value(inspections_text, "Inspections", line, problems)
        if spans and any("\n" in c or "\r" in c for c in (user_id, email)):
            problems.append(
                ImportProblem(line, ProblemCode.BAD_VALUE, f"a field holds a line break{spans}")
            )
        elif user_id and (problem := decisions.user_id_problem(user_id)):
            problems.append(ImportProblem(line, ProblemCode.BAD_VALUE, f"Id: {problem}"))
        if email and (problem := decisions.email_problem(email)):
            problems.append(ImportProblem(line, ProblemCode.BAD_EMAIL, f"Email: {problem}"))
        if not user_id and not email and self.can_identify:
            problems.append(
                ImportProblem(
                    line, ProblemCode.MISSING_FIELD, "the row has neither an Id nor an Email"
                )
            )
        if standard is Cell.ASSIGN and inspections is Cell.ASSIGN:
            message = "both licenses are Assigned: Inspections is assigned, as it includes Standard"
            problems.append(ImportProblem(line, ProblemCode.BOTH_ASSIGNED, message, WARNING))
        key = user_key(user_id) if user_id else ""
        email_key = email.casefold()
        duplicate = False
        if key:
            first = self.seen_keys.setdefault(key, line)
            if first != line:
                duplicate = True
                problems.append(
                    ImportProblem(
                        line,
                        ProblemCode.DUPLICATE_ID,
                        f"the Id {user_id[:80]!r} is already on line {first}",
                    )
                )
        if email_key:
            first = self.seen_emails.setdefault(email_key, line)
            if first != line:
                duplicate = True
                problems.append(
                    ImportProblem(
                        line,
                        ProblemCode.DUPLICATE_EMAIL,
                        f"the Email {email[:80]!r} is already on line {first}",
                    )
                )
        ok = len(problems) == before or all(p.severity != ERROR for p in problems[before:])
        return Row(
            line, user_id, full_name, email, standard, inspections, key, email_key, ok, duplicate
        )
