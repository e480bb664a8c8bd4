"""SPEC 7 on files the spreadsheet programs wrote themselves (issue 16).

`tests/data/spreadsheets/` holds `source.csv` (the seed's sample plus awkward rows, in the format
Seatkeeper exports, formula cells escaped) and what LibreOffice Calc 7.4 and Gnumeric 1.12 made of
it with their default number detection: CSV -> CSV, CSV -> XLSX -> CSV, `;`, UTF-16, Windows-1252,
the ids column imported as Text. The README there gives the exact commands; nothing here runs a
spreadsheet program. Each file is imported into a fresh organization and into one that already
holds the source's users, and each outcome is stated below.
"""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from seatkeeper.rules.engine import Engine
from seatkeeper.rules.licenses_csv import ImportMode

from tests.rules.rules_support import ADMIN, I, S, all_users, buy, new_org, snapshot

FILES = Path(__file__).resolve().parent.parent / "data" / "spreadsheets"
NOT_UTF8_ADVICE = "save it from your spreadsheet as 'CSV UTF-8'"


def source_rows() -> list[dict[str, str]]:
    text = (FILES / "source.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


# The six awkward ids of source.csv (lines 5-10), as each program wrote them back.
ORIGINAL_IDS = ["0012", "00007", "1e5", "1234567890123456789", "3/4", "12.50"]
LIBREOFFICE_IDS = ["12", "7", "1.00E+05", "1.23456789012346E+018", "03/04/26", "12.5"]
GNUMERIC_IDS = ["12", "7", "100000", "1234567890123456789", "2026/03/04", "12.5"]

BOTH = (4, "BOTH_ASSIGNED")  # Ralf Harper's row of the seed sample
BREAK = (13, "NAME_LINE_BREAK")  # "Anna<line break>Maria Rossi"


def reformatted(*lines: int) -> list[tuple[int, str]]:
    return [(line, "ID_REFORMATTED") for line in lines]


# file -> (ids written, problems in a fresh organization, problems where the users exist,
#          whether the program removed the leading apostrophe of a text cell)
READABLE = {
    # The fix the warnings advise: the Id column imported as Text keeps every id.
    "lo-ids-as-text.csv": (ORIGINAL_IDS, [BOTH, BREAK], [BOTH, BREAK], False),
    # LibreOffice: E+ notation and the date are warned for new users; in an organization that has
    # the users, every changed id is found by e-mail and warned with its cause.
    **{
        name: (
            LIBREOFFICE_IDS,
            [BOTH, *reformatted(7, 8, 9), BREAK],
            [BOTH, *reformatted(5, 6, 7, 8, 9, 10), BREAK],
            False,
        )
        for name in (
            "lo-default.csv",
            "lo-semicolon.csv",
            "lo-utf16.csv",
            "lo-unicode-text-tab-utf16.txt",
            "lo-xlsx-roundtrip.csv",
        )
    },
    # Gnumeric keeps long numbers but writes the date as 2026/03/04 and drops leading zeros;
    # it also strips the apostrophe that protected formula-looking cells.
    **{
        name: (
            GNUMERIC_IDS,
            [BOTH, *reformatted(9), BREAK],
            [BOTH, *reformatted(5, 6, 7, 9, 10), BREAK],
            True,
        )
        for name in (
            "gn-default.csv",
            "gn-semicolon-quoted-crlf.csv",
            "gn-utf16-semicolon.csv",
            "gn-xlsx-roundtrip.csv",
        )
    },
}

# Windows-1252 files: refused whole, on the first line holding an accent.
NOT_UTF8 = {
    "lo-windows-1252.csv": 5,
    "gn-windows-1252.csv": 5,
    "lo-windows-1252-accented-300.csv": 2,
}


async def seats_org(engine: Engine) -> str:
    org = await new_org(engine)
    await buy(engine, org, S, 400)
    await buy(engine, org, I, 400)
    return org


async def import_file(engine: Engine, org: str, data, dry_run: bool = False):
    return await engine.import_licenses(org, ADMIN, data, ImportMode.MERGE, dry_run)


async def org_with_source(engine: Engine, source: str = "source.csv") -> str:
    org = await seats_org(engine)
    report = await import_file(engine, org, (FILES / source).read_bytes())
    assert report.applied, report.problems
    return org


def test_csv_7_fixture_files_are_all_listed():
    """Every committed fixture has its expected outcome here (none is left untested)."""
    listed = {*READABLE, *NOT_UTF8, *USERS_FILES, "source.csv", "source-accented-300.csv"}
    listed.add("README.md")
    assert {f.name for f in FILES.iterdir()} == listed


@pytest.mark.parametrize("name", sorted(READABLE))
def test_csv_7_spreadsheet_file_into_a_fresh_organization(engine, name):
    """SPEC 7: what each program wrote is read (separator, quoting, line ends, UTF-16 with a BOM);
    ids in E+ notation or date form are warned (ID_REFORMATTED); the name with a line break is
    one line (NAME_LINE_BREAK); formula-looking cells are stored as text, never evaluated, and
    only the escape Seatkeeper added is removed."""
    ids, fresh, _, apostrophe_stripped = READABLE[name]

    async def scenario():
        org = await seats_org(engine)
        report = await import_file(engine, org, (FILES / name).read_bytes())
        assert [(p.line, p.code) for p in report.problems] == fresh
        assert {p.severity for p in report.problems} == {"WARNING"}
        assert report.applied and report.summary.created == report.summary.rows == 17
        stored = {u.email: u for u in await all_users(engine, org)}
        expected_names = {}
        for row in source_rows():
            name_cell = row["Full Name"].replace("\n", " ")
            if name_cell.startswith("'") and name_cell[1:2] in "=+-@":
                name_cell = name_cell[1:]  # the export's escape, removed on import
            elif apostrophe_stripped and name_cell.startswith("'"):
                name_cell = name_cell[1:]  # Gnumeric took it for its own text prefix
            expected_names[row["Email"]] = name_cell
        assert {email: u.full_name for email, u in stored.items()} == expected_names
        awkward = [row["Email"] for row in source_rows()[3:9]]
        assert [stored[email].id for email in awkward] == ids
        assert stored["formula@example.com"].id == "=cmd|' /C calc'!A0"
        assert stored["jose@example.com"].full_name == "José Müller"

    asyncio.run(scenario())


@pytest.mark.parametrize("name", sorted(READABLE))
def test_csv_7_spreadsheet_file_into_the_organization_that_has_the_users(engine, name):
    """Issue 16, finding 2: re-formatted ids matched their users by e-mail and came back
    `unchanged` with no hint; now each gets ID_REFORMATTED with its cause. Issue 16, finding 5:
    Gnumeric's bare `=cmd…` cells still name the stored users. Nothing changes."""
    _, _, existing, _ = READABLE[name]

    async def scenario():
        org = await org_with_source(engine)
        before = await snapshot(engine, org)
        report = await import_file(engine, org, (FILES / name).read_bytes())
        assert [(p.line, p.code) for p in report.problems] == existing
        assert report.applied and report.summary.unchanged == report.summary.rows == 17
        for problem in report.problems:
            if problem.code == "ID_REFORMATTED":
                assert "format the Id column as Text" in problem.message
        assert await snapshot(engine, org) == before

    asyncio.run(scenario())


@pytest.mark.parametrize("name", sorted(NOT_UTF8))
def test_csv_7_windows_1252_files_are_not_utf8_on_every_path(engine, name):
    """Issue 16, finding 1: Windows-1252 files were stored as `Jos� M�ller` or called binary.
    As bytes (command line, console) and as the text a lenient client decoder sends (GraphQL),
    each is one NOT_UTF8 problem on its first accented line; a dry run says the same."""
    data = (FILES / name).read_bytes()

    async def scenario():
        source = "source-accented-300.csv" if "300" in name else "source.csv"
        org = await org_with_source(engine, source)
        before = await snapshot(engine, org)
        for sent in (data, data.decode("utf-8", errors="replace")):
            for dry_run in (False, True):
                report = await import_file(engine, org, sent, dry_run)
                assert [(p.line, p.code) for p in report.problems] == [(NOT_UTF8[name], "NOT_UTF8")]
                assert NOT_UTF8_ADVICE in report.problems[0].message
                assert "binary" not in report.problems[0].message
                assert [e.code for e in report.user_errors] == ["CSV_INVALID"]
                assert report.applied is False
        assert await snapshot(engine, org) == before
        # Decoded as what it is, the same file is read like its UTF-8 original.
        report = await import_file(engine, org, data.decode("cp1252"))
        assert report.applied and report.summary.unchanged == report.summary.rows

    asyncio.run(scenario())


# The users file Seatkeeper exported (Disabled cells, a Last Sync column), re-saved by each
# program: lines of the ids it changed. LibreOffice keeps Last Sync as text, Gnumeric makes it a
# date (2025/01/06 09:00:00); the import ignores that column either way.
USERS_FILES = {
    "users-export.csv": [],
    "lo-users-export.csv": [8, 10, 12, 16, 17, 18],
    "gn-users-export.csv": [8, 10, 16, 17, 18],
}


@pytest.mark.parametrize("name", sorted(USERS_FILES))
def test_csv_7_users_export_resaved_by_a_spreadsheet_reimports_unchanged(engine, name):
    """SPEC 7: a users export (Disabled states, Last Sync) re-imports as a licenses file; re-saved
    by a spreadsheet it still changes nothing, each changed id warned (ID_REFORMATTED)."""

    async def scenario():
        org = await org_with_source(engine, "users-export.csv")
        before = await snapshot(engine, org)
        assert sum(u.standard.value == "DISABLED" for u in await all_users(engine, org)) == 2
        report = await import_file(engine, org, (FILES / name).read_bytes())
        expected = [(line, "ID_REFORMATTED") for line in USERS_FILES[name]]
        assert [(p.line, p.code) for p in report.problems] == expected
        assert report.applied and report.summary.unchanged == report.summary.rows == 17
        assert await snapshot(engine, org) == before

    asyncio.run(scenario())
