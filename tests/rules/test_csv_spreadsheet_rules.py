"""SPEC 7 as issue 16 found it wanting: what spreadsheets do to a licenses file.

Encodings (one decoding rule for every path), ids a spreadsheet re-formatted (ID_REFORMATTED),
line breaks in name cells (NAME_LINE_BREAK), no noise after a header error, the summary of a file
with errors, the problem list's cap, and the export's byte-order mark. The files the spreadsheet
programs really wrote are in `test_csv_spreadsheet_files.py`; these are the rules one at a time.

Everything runs on the real engine and memory storage; time comes from the fake clock.
"""

from __future__ import annotations

import asyncio
import codecs

import pytest
from seatkeeper.rules import csv_decoding, csv_report
from seatkeeper.rules.engine import Engine
from seatkeeper.rules.licenses_csv import ImportMode, ImportReport

from tests.rules.rules_support import (
    ADMIN,
    A,
    I,
    S,
    U,
    all_users,
    async_test,
    buy,
    get,
    new_org,
    provisioned,
    snapshot,
)

HEADER = "Id,Full Name,Email,Standard,Inspections"
# What a NOT_UTF8 problem advises (the words).
NOT_UTF8_ADVICE = "save it from your spreadsheet as 'CSV UTF-8'"


def csv_file(*rows: str, header: str = HEADER) -> str:
    return "".join(line + "\r\n" for line in (header, *rows))


def problems(report: ImportReport) -> list[tuple]:
    return [(p.line, p.code, p.severity) for p in report.problems]


def summary(report: ImportReport) -> tuple:
    s = report.summary
    return (s.rows, s.assigned, s.unassigned, s.disabled, s.created, s.unchanged)


async def run_import(engine: Engine, org: str, data, mode=ImportMode.MERGE, dry_run=False):
    return await engine.import_licenses(org, ADMIN, data, mode, dry_run)


async def seats_org(engine: Engine, standard: int = 10, inspections: int = 10) -> str:
    org = await new_org(engine)
    await buy(engine, org, S, standard)
    await buy(engine, org, I, inspections)
    return org


ACCENTED = csv_file("j1,José Müller,jose@example.com,Assigned,", "c1,Chloé Brontë,c@example.com,,")


# ================================================================ encodings


@async_test
async def test_csv_7_windows_1252_bytes_are_not_utf8_and_nothing_is_stored(engine):
    """Issue 16, finding 1: a Windows-1252 file with a few accents was accepted and stored
    `Jos� M�ller`. Now: one NOT_UTF8 problem on the first bad line, the advice to save it as
    'CSV UTF-8', nothing stored."""
    org = await seats_org(engine)
    report = await run_import(engine, org, ACCENTED.encode("cp1252"))
    assert problems(report) == [(2, "NOT_UTF8", "ERROR")]
    assert NOT_UTF8_ADVICE in report.problems[0].message
    assert "binary" not in report.problems[0].message
    assert [e.code for e in report.user_errors] == ["CSV_INVALID"]
    assert await all_users(engine, org) == []


@async_test
async def test_csv_7_a_clients_replacement_characters_are_refused_as_not_utf8(engine):
    """Issue 16, finding 1: the text a client decoded leniently (Windows-1252 read as UTF-8) holds
    U+FFFD; a few of them were stored, many were called binary. Both are NOT_UTF8 now."""
    org = await seats_org(engine)
    few = ACCENTED.encode("cp1252").decode("utf-8", errors="replace")
    many = csv_file(*(f"u{i},Zoë Ångström{i},u{i}@example.com,," for i in range(200)))
    many = many.encode("cp1252").decode("utf-8", errors="replace")
    for text in (few, many):
        report = await run_import(engine, org, text)
        assert problems(report) == [(2, "NOT_UTF8", "ERROR")], report.problems
        assert NOT_UTF8_ADVICE in report.problems[0].message
        assert "binary" not in report.problems[0].message
    assert await all_users(engine, org) == []


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_csv_7_utf16_with_a_bom_is_decoded(codec):
    """SPEC 7: UTF-16 with a byte-order mark (Excel's "Unicode Text", tab-separated) is read."""
    text = ACCENTED.replace(",", "\t")
    data = text.encode(codec)
    if codec != "utf-16":  # the plain codec writes its own BOM
        data = (codecs.BOM_UTF16_LE if codec.endswith("le") else codecs.BOM_UTF16_BE) + data
    decoded = csv_decoding.decode_licenses_file(data)
    assert decoded.text == text and decoded.problem is None


@async_test
async def test_csv_7_utf16_file_imports_through_the_engine(engine):
    org = await seats_org(engine)
    report = await run_import(engine, org, ACCENTED.replace(",", "\t").encode("utf-16"))
    assert report.applied and problems(report) == []
    assert (await get(engine, org, "j1")).full_name == "José Müller"


def test_csv_7_utf8_with_and_without_bom_decodes_to_the_same_text():
    for data in (ACCENTED.encode("utf-8"), ACCENTED.encode("utf-8-sig")):
        decoded = csv_decoding.decode_licenses_file(data)
        assert decoded.text == ACCENTED and decoded.problem is None
    assert csv_decoding.decode_licenses_file("\ufeff" + ACCENTED).text == ACCENTED


@pytest.mark.parametrize(
    "data, line",
    [
        (b"\xff" + ACCENTED.encode(), 1),  # not a BOM: a bad first byte
        (b"Id,Full Name\r\nx,y\r\n" + "Ünïcode".encode("latin-1"), 3),
        ("Id,Name\nx,\u00e9\n".encode("utf-16-le"), 1),  # UTF-16 without a BOM: NULs, not binary
        (ACCENTED.encode("utf-8")[:-3] + b"\xc3", 3),  # cut in the middle of a character
        (codecs.BOM_UTF16_LE + "Id,x".encode("utf-16-le") + b"\x00", 1),  # UTF-16 cut short
        (codecs.BOM_UTF16_LE + "Id\ud800".encode("utf-16-le", "surrogatepass"), 1),
    ],
)
def test_csv_7_any_other_encoding_is_one_not_utf8_problem(data, line):
    """SPEC 7: bytes that are not valid UTF-8 (nor UTF-16 with a BOM) are one NOT_UTF8 problem on
    the first bad line, never stored, never called binary."""
    decoded = csv_decoding.decode_licenses_file(data)
    assert decoded.text is None
    assert (decoded.problem.line, decoded.problem.code) == (line, "NOT_UTF8")
    assert NOT_UTF8_ADVICE in decoded.problem.message and "binary" not in decoded.problem.message


# ================================================================ line breaks in names


@async_test
async def test_csv_7_name_with_a_line_break_is_read_with_a_space_and_a_warning(engine):
    """Issue 16, finding 3: a name cell with a line break (Alt+Enter) failed the whole file ("is a
    closing quote missing?", "contains control characters"). Now the break is a space and the
    row gets NAME_LINE_BREAK, for a new user and for one that exists."""
    org = await seats_org(engine)
    await provisioned(engine, org, ("old", U, U, "Old Name", "old@example.com"))
    text = csv_file(
        '"n1","Anna\nMaria Rossi","anna@example.com","Assigned",""',
        '"old","Old\r\nName","old@example.com","","Assigned"',
        '"n2","Bob","bob@example.com","",""',
    )
    report = await run_import(engine, org, text)
    assert problems(report) == [
        (2, "NAME_LINE_BREAK", "WARNING"),
        (4, "NAME_LINE_BREAK", "WARNING"),
    ]
    assert report.applied and report.user_errors == []
    assert (await get(engine, org, "n1")).full_name == "Anna Maria Rossi"
    assert (await get(engine, org, "old")).inspections is A
    assert (await get(engine, org, "n2")) is not None  # lines after the break still read


@async_test
async def test_csv_7_a_line_break_in_an_id_or_email_is_still_an_error(engine):
    org = await seats_org(engine)
    report = await run_import(engine, org, csv_file('"a\nb","A","a@example.com","",""'))
    assert problems(report) == [(2, "BAD_VALUE", "ERROR")]


# ================================================================ ids a spreadsheet changed


REFORMATTED = [
    ("0012", "12", "leading zeros"),
    ("00007", "7", "leading zeros"),
    ("1e5", "100000", "number"),
    ("100000", "1.00E+05", "scientific notation"),
    ("1234567890123456789", "1.23456789012346E+018", "scientific notation"),
    ("1234567890123456789", "1.23457E+18", "scientific notation"),
    ("1234567890123456789", "1,23457E+18", "scientific notation"),  # a decimal-comma locale
    ("3/4", "03/04/26", "date"),
    ("3/4", "2026-03-04", "date"),
    ("12.50", "12.5", "number"),
]


@pytest.mark.parametrize("stored, written, cause", REFORMATTED)
def test_csv_7_id_a_spreadsheet_changed_is_matched_by_email_with_id_reformatted(
    engine, stored, written, cause
):
    """Issue 16, finding 2: a row whose Id a spreadsheet re-formatted matched its user by e-mail
    and came back `unchanged` with no hint. Now it gets ID_REFORMATTED naming the cause and the
    fix, and is still applied by e-mail (a warning)."""

    async def scenario():
        org = await seats_org(engine)
        await provisioned(engine, org, (stored, U, U, "Pat", "pat@example.com"))
        report = await run_import(engine, org, csv_file(f'"{written}",Pat,pat@example.com,,'))
        assert problems(report) == [(2, "ID_REFORMATTED", "WARNING")]
        message = report.problems[0].message
        assert cause in message and "format the Id column as Text" in message
        assert repr(stored) in message and repr(written) in message
        assert report.applied and summary(report) == (1, 0, 0, 0, 0, 1)
        assert [u.id for u in await all_users(engine, org)] == [stored]

    asyncio.run(scenario())


@async_test
async def test_csv_7_unrelated_unknown_ids_matched_by_email_get_no_warning(engine):
    org = await seats_org(engine)
    await provisioned(engine, org, ("0012", U, U, "Pat", "pat@example.com"))
    await provisioned(engine, org, ("3/4", U, U, "Quinn", "quinn@example.com"))
    report = await run_import(
        engine, org, csv_file("13,Pat,pat@example.com,,", "03/05/26,Quinn,quinn@example.com,,")
    )
    assert problems(report) == []


@async_test
async def test_csv_7_new_ids_in_e_notation_or_date_form_are_warned_and_created(engine):
    """Issue 16, finding 2: into a fresh organization `1.23456789012346E+018` and `03/04/26`
    created wrongly-identified users with no warning."""
    org = await seats_org(engine)
    report = await run_import(
        engine,
        org,
        csv_file(
            "1.23456789012346E+018,Big,big@example.com,,",
            "03/04/26,Date,date@example.com,,",
            "2026-03-04,Iso,iso@example.com,,",
            "1E+5,Sci,sci@example.com,,",
            '"1,5E+10",Comma,comma@example.com,,',
            "00012,Zeros,zeros@example.com,,",  # leading zeros kept: nothing to say
            "plain-7,Plain,plain@example.com,,",
        ),
    )
    assert problems(report) == [
        (2, "ID_REFORMATTED", "WARNING"),
        (3, "ID_REFORMATTED", "WARNING"),
        (4, "ID_REFORMATTED", "WARNING"),
        (5, "ID_REFORMATTED", "WARNING"),
        (6, "ID_REFORMATTED", "WARNING"),
    ]
    assert "scientific notation" in report.problems[0].message
    assert "date" in report.problems[1].message
    assert all("format the Id column as Text" in p.message for p in report.problems)
    assert report.applied and report.summary.created == 7


@async_test
async def test_csv_7_id_email_conflict_names_leading_zeros(engine):
    """Issue 16, finding 2: `ID_EMAIL_CONFLICT` showed both ids but said nothing of leading zeros."""
    org = await seats_org(engine)
    await provisioned(
        engine,
        org,
        ("12", U, U, "Twelve", "twelve@example.com"),
        ("0012", U, U, "Pat", "pat@example.com"),
    )
    report = await run_import(engine, org, csv_file("12,Pat,pat@example.com,Assigned,"))
    assert problems(report) == [(2, "ID_EMAIL_CONFLICT", "ERROR")]
    message = report.problems[0].message
    assert "leading zeros" in message and "format the Id column as Text" in message


# ================================================================ no noise


@async_test
async def test_csv_7_a_header_error_is_reported_once_not_on_every_row(engine):
    """Issue 16, finding 4: after BAD_HEADER every row added a MISSING_FIELD."""
    org = await seats_org(engine)
    rows = [f"u{i},U{i},u{i}@example.com,Assigned," for i in range(5)]
    for header, expected in (
        ("Identifier,Name,Mail,Std,Insp", [(1, "BAD_HEADER")]),
        ("Id,Email,Email,Standard,Inspections", [(1, "BAD_HEADER")]),
        ("x,Full Name,y,Standard,Inspections", [(1, "MISSING_COLUMN"), (1, "MISSING_COLUMN")]),
        ("Id,Full Name,x,Standard,Inspections", [(1, "MISSING_COLUMN")]),
    ):
        report = await run_import(engine, org, csv_file(*rows, header=header))
        assert [(p.line, p.code) for p in report.problems] == expected, header
        assert report.summary.rows == 5
    assert await all_users(engine, org) == []


@async_test
async def test_csv_7_summary_of_a_file_with_errors_shows_what_would_change(engine):
    """Issue 16, finding 4: a file with errors showed all counts as 0, though what would change
    is known. Now the summary shows it, with applied false and nothing changed."""
    org = await seats_org(engine)
    await provisioned(
        engine, org, ("a", A, U, "A", "a@example.com"), ("b", U, U, "B", "b@example.com")
    )
    before = await snapshot(engine, org)
    text = csv_file(
        "a,,,,Assigned",  # a: STANDARD released, INSPECTIONS assigned
        "b,,,,Disabled",  # b: INSPECTIONS disabled
        "n,N,n@example.com,Assigned,",  # created with STANDARD
        "x,X,not-an-email,,",  # the error
    )
    report = await run_import(engine, org, text)
    assert problems(report) == [(5, "BAD_EMAIL", "ERROR")]
    assert report.applied is False
    assert summary(report) == (4, 2, 1, 1, 1, 0)
    assert await snapshot(engine, org) == before
    dry = await run_import(engine, org, text, dry_run=True)
    assert summary(dry) == summary(report) and dry.applied is False


@async_test
async def test_csv_7_problem_list_holds_1000_entries_then_the_total_and_counts(engine):
    """SPEC 7: up to 1,000 problems in line order; the total and counts per code tell the rest."""
    org = await seats_org(engine)
    rows = [f"u{i},U,bad-{i},Maybe," for i in range(700)]  # two errors per row
    rows += [f"w{i},W,w{i}@example.com,Assigned,Assigned" for i in range(10)]  # warnings
    report = await run_import(engine, org, csv_file(*rows))
    assert len(report.problems) == getattr(csv_report, "MAX_LISTED_PROBLEMS", None) == 1000
    assert [p.line for p in report.problems] == sorted(p.line for p in report.problems)
    assert report.problems[0].line == 2 and report.problems[-1].line == 501
    assert getattr(report, "problem_total", None) == 1410
    assert getattr(report, "problem_counts", None) == {
        "BAD_VALUE": 700,
        "BAD_EMAIL": 700,
        "BOTH_ASSIGNED": 10,
    }
    small = await run_import(engine, org, csv_file("a,A,bad,,"))
    assert getattr(small, "problem_total", None) == 1 and getattr(
        small, "problem_counts", None
    ) == {"BAD_EMAIL": 1}


def test_csv_7_a_bom_repeated_inside_the_file_is_dropped():
    """Gnumeric 1.12 writes UTF-16 in chunks and repeats the BOM mid-file (inside an e-mail of
    tests/data/spreadsheets/gn-utf16-semicolon.csv): no U+FEFF is part of any cell."""
    data = codecs.BOM_UTF16_LE + "Id;Email\r\nq;quote@example.".encode("utf-16-le")
    data += codecs.BOM_UTF16_LE + "com\r\n".encode("utf-16-le")
    assert csv_decoding.decode_licenses_file(data).text == "Id;Email\r\nq;quote@example.com\r\n"
    assert csv_decoding.decode_licenses_file("\ufeffId\ufeff,x").text == "Id,x"


def test_csv_7_hostile_huge_utf16_file_is_refused_before_decoding():
    data = codecs.BOM_UTF16_LE + b"a\x00" * (csv_decoding.MAX_FILE_BYTES // 2 + 1)
    decoded = csv_decoding.decode_licenses_file(data)
    assert decoded.text is None and decoded.problem.code == "NOT_CSV"
    assert "20 MB" in decoded.problem.message
