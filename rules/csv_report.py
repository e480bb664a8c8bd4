"""SPEC 7: what an import answers: its modes, problem codes, summary and report.

Every other step of an import (`csv_decoding`, `csv_parsing`, `csv_planning`, `licenses_csv`)
speaks these words; `report` turns the problems found into the answer: at most
`MAX_LISTED_PROBLEMS` of them in line order, the total and the counts per code, and one
CSV_INVALID user error when any is an error.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field

from seatkeeper.rules.fields import InputField
from seatkeeper.rules.outcomes import ErrorCode, UserError

MAX_LISTED_PROBLEMS = (
    1_000  # SPEC 7: the report lists this many; the total and counts tell the rest
)


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


def sorted_problems(problems: list[ImportProblem]) -> list[ImportProblem]:
    """Problems of the whole file first, then by line; in the order found within a line."""
    return sorted(problems, key=lambda p: (p.line is not None, p.line or 0))


def import_report(
    applied: bool, summary: ImportSummary, problems: list[ImportProblem]
) -> ImportReport:
    """The report: at most MAX_LISTED_PROBLEMS problems in line order, the total and counts per
    code; with any error, one CSV_INVALID and applied false. The summary is what was (or, with
    errors or in a dry run, would have been) changed (SPEC 7)."""
    problems = sorted_problems(problems)
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
