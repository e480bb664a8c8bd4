"""SPEC 7: reading a licenses file and the checks that need no stored user.

`parse_licenses_file` decodes the text, finds the separator and the columns, and checks every row
on its own and against the rows before it (values, e-mail syntax, duplicates, column count, field
length). Matching rows to stored users and applying them is `seatkeeper.rules.licenses_csv`'s
work; the rules of both are stated in that module's docstring.
"""

from __future__ import annotations

import codecs
import csv
import enum
import io
import re
from dataclasses import dataclass, field

from seatkeeper.domain.records import user_key
from seatkeeper.rules import decisions
from seatkeeper.rules.csv_export import unescape_formula
from seatkeeper.rules.outcomes import UserError

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 200_000
MAX_FIELD_CHARS = 1_000
MAX_LISTED_PROBLEMS = (
    1_000  # SPEC 7: the report lists this many; the total and counts tell the rest
)
# What a NOT_UTF8 problem advises (issue 16's words).
NOT_UTF8_ADVICE = "save it from your spreadsheet as 'CSV UTF-8'"


class ImportMode(str, enum.Enum):
    """SPEC 7, Modes: MERGE leaves users absent from the file as they are; REPLACE releases their seats."""

    MERGE = "MERGE"
    REPLACE = "REPLACE"


class ProblemCode:
    """The codes of SPEC 7's problems; all are errors but BOTH_ASSIGNED, NAME_LINE_BREAK and
    ID_REFORMATTED, warnings."""

    BAD_HEADER = "BAD_HEADER"
    MISSING_COLUMN = "MISSING_COLUMN"
    COLUMN_COUNT = "COLUMN_COUNT"
    BAD_VALUE = "BAD_VALUE"
    BAD_EMAIL = "BAD_EMAIL"
    MISSING_FIELD = "MISSING_FIELD"
    DUPLICATE_ID = "DUPLICATE_ID"
    DUPLICATE_EMAIL = "DUPLICATE_EMAIL"
    ID_EMAIL_CONFLICT = "ID_EMAIL_CONFLICT"
    NOT_ENOUGH_SEATS = "NOT_ENOUGH_SEATS"
    EMPTY_FILE = "EMPTY_FILE"
    NOT_CSV = "NOT_CSV"
    NOT_UTF8 = "NOT_UTF8"
    BOTH_ASSIGNED = "BOTH_ASSIGNED"
    NAME_LINE_BREAK = "NAME_LINE_BREAK"
    ID_REFORMATTED = "ID_REFORMATTED"


ERROR = "ERROR"
WARNING = "WARNING"


@dataclass(frozen=True)
class ImportProblem:
    """One problem of a file: its physical line (None for the whole file), code, message, severity."""

    line: int | None
    code: str
    message: str
    severity: str = ERROR


@dataclass
class ImportSummary:
    """SPEC 7: data rows read and the selector changes the import makes (or would make)."""

    rows: int = 0
    assigned: int = 0  # selectors that become ASSIGNED
    unassigned: int = 0  # seats released
    disabled: int = 0  # selectors that become DISABLED
    created: int = 0  # users created
    unchanged: int = 0  # rows that change nothing


@dataclass
class ImportReport:
    """The answer to an import: applied or not, the summary, every problem, and user errors.

    Any ERROR problem adds exactly one CSV_INVALID user error; during a trial the only answer is a
    TRIAL_ACTIVE user error.
    """

    applied: bool
    summary: ImportSummary
    problems: list[ImportProblem] = field(default_factory=list)  # at most MAX_LISTED_PROBLEMS
    user_errors: list[UserError] = field(default_factory=list)
    problem_total: int = 0  # every problem found, listed or not
    problem_counts: dict[str, int] = field(default_factory=dict)  # code -> how many


# ================================================================ reading the file


class _Cell(enum.Enum):
    """What a Standard or Inspections cell asks for."""

    ASSIGN = "Assigned"
    EMPTY = ""
    DISABLE = "Disabled"


_CELL_VALUES = {
    "assigned": _Cell.ASSIGN,
    "enabled": _Cell.ASSIGN,
    "": _Cell.EMPTY,
    "disabled": _Cell.DISABLE,
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

# Control characters other than tab, CR and LF: what binary data is made of and CSV text is not.
_BINARY = re.compile("[\x01-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BINARY_SAMPLE = 65_536
# A line break in a cell, with the spaces around it: one space in a name.
_LINE_BREAKS = re.compile(r"\s*[\r\n]+\s*")


@dataclass(slots=True)
class _Row:
    """One data row as read, cells stripped and unescaped.

    `ok` is False once the row has an error (its license cells may then be None); `duplicate`
    marks a row whose Id or Email an earlier row already gave (it is matched to no user).
    """

    line: int
    user_id: str
    full_name: str
    email: str
    standard: _Cell | None
    inspections: _Cell | None
    key: str  # user_key(user_id), or "" without an Id
    email_key: str  # the e-mail case-folded, or "" without one
    ok: bool = True
    duplicate: bool = False


@dataclass
class _ParsedFile:
    rows: list[_Row]
    problems: list[ImportProblem]
    data_rows: int = 0  # every non-blank data row, valid or not
    usable: bool = True  # the header names the columns needed to match rows to users
    has_header: bool = True


@dataclass(frozen=True)
class DecodedFile:
    """A licenses file's text (without BOM), or the one problem that refuses it whole."""

    text: str | None
    problem: ImportProblem | None = None


def _line_of(before: str) -> int:
    """The physical line (1-based) that follows the text `before`: CRLF, LF and CR each end one."""
    return before.count("\n") + before.count("\r") - before.count("\r\n") + 1


def _not_utf8(line: int, what: str) -> DecodedFile:
    message = f"line {line}: {what}; the file is not UTF-8 text: {NOT_UTF8_ADVICE}"
    return DecodedFile(None, ImportProblem(line, ProblemCode.NOT_UTF8, message))


def _refused(code: str, message: str) -> DecodedFile:
    return DecodedFile(None, ImportProblem(None, code, message))


_UTF16_WITHOUT_BOM = "it looks like UTF-16 without a byte-order mark"


def _looks_like_utf16(sample: bytes | str) -> bool:
    """Letters of UTF-16 read byte by byte: a NUL (byte or character) after nearly every one."""
    nuls = sample.count(0) if isinstance(sample, bytes) else sample.count("\x00")
    return len(sample) >= 2 and nuls * 3 >= len(sample)


def _decode_bytes(data: bytes) -> DecodedFile:
    """UTF-16 with a BOM, else UTF-8 (BOM or not); anything else is NOT_UTF8."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return DecodedFile(data.decode("utf-16"))  # the codec reads and drops the BOM
        except UnicodeDecodeError as error:
            return _not_utf8(1, f"byte {error.start + 1} is not UTF-16 text")
    if _looks_like_utf16(data[:1000]):
        return _not_utf8(1, _UTF16_WITHOUT_BOM)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = _line_of(data[: error.start].decode("utf-8"))
        shown = data[error.start : error.start + 1].hex().upper()
        return _not_utf8(line, f"byte {error.start + 1} (0x{shown}) is not UTF-8")
    return DecodedFile(text)


def decode_licenses_file(data: str | bytes) -> DecodedFile:
    """SPEC 7: the one decoding rule of every import path (GraphQL, command line, console).

    Bytes: UTF-8 with or without a BOM, or UTF-16 with a BOM; anything else is refused with one
    NOT_UTF8 problem on the first bad line, saying to save the file as 'CSV UTF-8' (a Windows-1252
    file is never stored with broken characters, and never called binary). Text (the GraphQL input,
    which clients must send decoded as UTF-8): refused as NOT_UTF8 when it holds a U+FFFD (what a
    client's lenient decoding leaves for bytes it could not read) or a lone surrogate. For both,
    every U+FEFF (the BOM, and the copies some writers repeat mid-file) is dropped; then over
    `MAX_FILE_BYTES`, NUL characters, or mostly control characters is NOT_CSV.
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        if len(data) > MAX_FILE_BYTES:
            return _too_large(len(data))
        decoded = _decode_bytes(data)
        if decoded.text is None:
            return decoded
        text = decoded.text
    elif isinstance(data, str):
        text = data
        if len(text) > MAX_FILE_BYTES:  # characters are at most as many as bytes
            return _too_large(len(text))
        if not text.isascii():
            try:
                size = len(text.encode("utf-8"))
            except UnicodeEncodeError as error:  # lone surrogates: no file's text holds them
                return _not_utf8(_line_of(text[: error.start]), "a character is not Unicode text")
            if size > MAX_FILE_BYTES:
                return _too_large(size)
    else:
        return _refused(ProblemCode.NOT_CSV, "the file is not text")
    # A BOM inside the text is no character of the file: Gnumeric 1.12 writes UTF-16 in chunks and
    # repeats the BOM at a chunk boundary, in the middle of a cell (tests/data/spreadsheets).
    if "\ufeff" in text:
        text = text.replace("\ufeff", "")
    if "\ufffd" in text:  # a decoder's replacement for bytes it could not read
        at = text.index("\ufffd")
        return _not_utf8(_line_of(text[:at]), "it holds the replacement character \ufffd")
    if "\x00" in text:
        if _looks_like_utf16(text[:1000]):
            return _not_utf8(1, _UTF16_WITHOUT_BOM)
        return _refused(
            ProblemCode.NOT_CSV, "the file contains NUL bytes: it is binary data, not CSV text"
        )
    sample = text[:_BINARY_SAMPLE]
    if len(_BINARY.findall(sample)) > max(8, len(sample) // 100):
        return _refused(ProblemCode.NOT_CSV, "the file is binary data, not CSV text")
    return DecodedFile(text)


def _too_large(size: int) -> DecodedFile:
    return _refused(
        ProblemCode.NOT_CSV,
        f"the file is {size:,} bytes; at most {MAX_FILE_BYTES:,} bytes (20 MB) can be imported at once: split it",
    )


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


def _cell_value(raw: str, column: str, line: int, problems: list[ImportProblem]) -> _Cell | None:
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


def parse_licenses_file(data: str | bytes) -> _ParsedFile:
    """Read and check a licenses file on its own (SPEC 7): the checks that need no stored user."""
    decoded = decode_licenses_file(data)
    text = decoded.text
    if text is None:
        assert decoded.problem is not None
        return _ParsedFile([], [decoded.problem], usable=False, has_header=False)
    if not text.strip():
        return _ParsedFile(
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
    parsed = _ParsedFile([], [])
    rows: _RowReader | None = None  # set once the header is read
    last_line = 0  # the physical line the previous record ended on
    while True:
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

    def read(self, cells: list[str], line: int, end_line: int) -> _Row | None:
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
        if standard is _Cell.ASSIGN and inspections is _Cell.ASSIGN:
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
        return _Row(
            line, user_id, full_name, email, standard, inspections, key, email_key, ok, duplicate
        )
