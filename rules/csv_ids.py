"""SPEC 7, ID_REFORMATTED: ids a spreadsheet probably changed when it opened and re-saved a file.

With default number detection LibreOffice Calc, Gnumeric and Excel read an Id cell that looks like
a number or a date as one, and write it back re-formatted: `0012` -> `12` (leading zeros lost),
`1e5` -> `100000`, `1234567890123456789` -> `1.23456789012346E+018` (scientific notation, digits
lost), `12.50` -> `12.5`, `3/4` -> `03/04/26` or `2026-03-04` (a date). Such an Id no longer names
its user. These functions only recognise the likely cause; the import turns it into a warning,
never into a guess about which user was meant (rows are still matched by Id, else by Email).
"""

from __future__ import annotations

import re
from collections import Counter
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation

# What the fix always is: keep the spreadsheet from reading the column as numbers or dates.
FIX = (
    "format the Id column as Text in the spreadsheet (or choose Text for it when opening the CSV) "
    "before saving"
)

_CAUSES = {
    "leading zeros": "removed the Id's leading zeros",
    "scientific notation": "wrote the Id in scientific notation (digits may be lost)",
    "number": "read the Id as a number and re-formatted it",
    "date": "read the Id as a date",
}

_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
# Scientific notation as spreadsheets write it, with a decimal point or (in many locales) a comma.
_SCIENTIFIC = re.compile(r"[+-]?(\d+(?:[.,]\d+)?)[eE][+-]?\d{1,4}")
_E_PLUS = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE]\+\d{1,4}")  # how spreadsheets write large numbers
# Dates as spreadsheets write them: 03/04/26, 3/4/2026, 2026-03-04, 04.03.2026.
_DATE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}")
# An id a spreadsheet may take for a date: 3/4, 3-4, 1.2.2026 (two or three small numbers).
_DATE_LIKE = re.compile(r"\d{1,4}[./-]\d{1,4}(?:[./-]\d{1,4})?")


def _groups(text: str) -> Counter[int]:
    return Counter(int(g) for g in re.findall(r"\d+", text))


def _rounds_to(stored: str, written: str) -> bool:
    """True when `written` (scientific notation) is `stored` rounded to the digits it shows."""
    match = _SCIENTIFIC.fullmatch(written)
    if match is None:
        return False
    digits = len(re.sub(r"[.,]", "", match.group(1)).lstrip("0")) or 1
    try:
        rounded = Context(prec=digits, rounding=ROUND_HALF_UP).plus(Decimal(stored))
        return rounded == Decimal(written.replace(",", "."))
    except InvalidOperation:
        return False


def reformat_cause(stored: str, written: str) -> str | None:
    """Why `written` is probably the stored id `stored` as a spreadsheet re-wrote it, or None.

    The cause is one of "leading zeros", "scientific notation", "number" or "date".
    """
    if stored == written:
        return None
    if _NUMBER.fullmatch(stored) and _SCIENTIFIC.fullmatch(written) and "," in written:
        return "scientific notation" if _rounds_to(stored, written) else None
    if _NUMBER.fullmatch(stored) and _NUMBER.fullmatch(written):
        if _SCIENTIFIC.fullmatch(written) and not _SCIENTIFIC.fullmatch(stored):
            if _rounds_to(stored, written):
                return "scientific notation"
        elif Decimal(stored) == Decimal(written):
            unsigned = stored.lstrip("+-")
            if unsigned.isdigit() and unsigned.startswith("0") and not written.startswith("0"):
                return "leading zeros"
            return "number"
        return None
    if (
        _DATE.fullmatch(written)
        and _DATE_LIKE.fullmatch(stored)
        and _groups(stored) <= _groups(written)
    ):
        return "date"
    return None


def reformatted_message(stored: str, written: str, cause: str) -> str:
    """The ID_REFORMATTED warning of a row whose unknown Id is a stored user's id re-formatted."""
    return (
        f"the Id {written[:80]!r} is unknown, but the row's Email belongs to the user "
        f"{stored[:80]!r}: a spreadsheet probably {_CAUSES[cause]}; the row was matched by Email. "
        f"To keep the ids, {FIX}"
    )


def conflict_hint(stored: str, written: str) -> str:
    """A sentence to add to ID_EMAIL_CONFLICT when the Email's user has the Id re-formatted."""
    cause = reformat_cause(stored, written)
    if cause is None:
        return ""
    return f"; a spreadsheet probably {_CAUSES[cause]} ({stored[:80]!r}): {FIX}"


def new_id_problem(user_id: str) -> str | None:
    """The ID_REFORMATTED warning of a new user's id in E+ notation or date form, or None."""
    if _E_PLUS.fullmatch(user_id):
        looks = (
            "a number in scientific notation (a spreadsheet may have written it so, losing digits)"
        )
    elif _DATE.fullmatch(user_id):
        looks = "a date (a spreadsheet may have read the Id as a date)"
    else:
        return None
    return (
        f"the new user's Id {user_id!r} looks like {looks}; check it is the id your system uses. "
        f"If a spreadsheet changed it, {FIX} and import the original ids"
    )
