"""SPEC 7: importing the licenses file — what spreadsheets write, every problem with its line,
all or nothing, MERGE and REPLACE, dry runs, hostile files, and imports racing syncs.

Everything runs on the real engine and memory storage; time comes from the fake clock.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path

import pytest
from seatkeeper.domain.records import AuditReason
from seatkeeper.rules import csv_parsing
from seatkeeper.rules.engine import Engine
from seatkeeper.rules.licenses_csv import MAX_FIELD_CHARS, MAX_FILE_BYTES, ImportMode, ImportReport
from seatkeeper.storage import load_storage

from tests.rules.rules_support import (
    ADMIN,
    A,
    D,
    I,
    S,
    U,
    YieldingStorage,
    all_users,
    async_test,
    audit_entries,
    buy,
    get,
    holders,
    new_org,
    provisioned,
    replay_is_consistent,
    snapshot,
    sync,
)

SEED_FILE = Path(__file__).resolve().parent.parent / "data" / "seed-licenses.csv"
SEED = SEED_FILE.read_text(encoding="utf-8")  # the source's own sample, LF line ends as stored

MATT = "1a75199f-a48b-40d4-b9bc-2ea05faa8197"
PETE = "10ac88c8-2226-4a98-ae0c-b7f57df0c4d3"
RALF = "1ac99e8f-824b-4b51-84ef-7ff55a555079"
HEADER = '"Id","Full Name","Email","Standard","Inspections"'


def csv_file(*rows: str, header: str = HEADER, newline: str = "\r\n") -> str:
    """A licenses file: the header and the rows, each line ended with `newline`."""
    return "".join(line + newline for line in (header, *rows))


def problems(report: ImportReport) -> list[tuple]:
    return [(p.line, p.code, p.severity) for p in report.problems]


def summary(report: ImportReport) -> tuple:
    s = report.summary
    return (s.rows, s.assigned, s.unassigned, s.disabled, s.created, s.unchanged)


async def run_import(
    engine: Engine, org: str, text, mode=ImportMode.MERGE, dry_run=False
) -> ImportReport:
    return await engine.import_licenses(org, ADMIN, text, mode, dry_run)


async def seats_org(engine: Engine, standard: int = 10, inspections: int = 10, **settings) -> str:
    org = await new_org(engine, **settings)
    await buy(engine, org, S, standard)
    await buy(engine, org, I, inspections)
    return org


async def states(engine: Engine, org: str) -> dict[str, tuple]:
    """Every user's (standard, inspections) selectors, by id."""
    return {u.id: (u.standard, u.inspections) for u in await all_users(engine, org)}


SEED_STATES = {MATT: (U, A), PETE: (A, U), RALF: (U, A)}


# ================================================================ the source's sample as spreadsheets write it


@async_test
async def test_spec_7_seed_sample_imports_as_is_creating_its_three_users(engine, clock):
    """SPEC 7: the source's three-row sample creates its users with their licenses; Ralf's row
    (both Assigned) gets INSPECTIONS and the BOTH_ASSIGNED warning on its line (4)."""
    org = await seats_org(engine)

    report = await run_import(engine, org, SEED)

    assert report.applied is True and report.user_errors == []
    assert problems(report) == [(4, "BOTH_ASSIGNED", "WARNING")]
    assert summary(report) == (3, 3, 0, 0, 3, 0)
    assert await states(engine, org) == SEED_STATES
    matt = await get(engine, org, MATT)
    assert (matt.full_name, matt.email, matt.assigned_at, matt.created_at) == (
        "Matt Ford",
        "someone51@example.com",
        clock(),
        clock(),
    )
    entries = await audit_entries(engine, org)
    assert {(e.user_id, e.license_type, e.from_state, e.to_state) for e in entries} == {
        (MATT, I, U, A),
        (PETE, S, U, A),
        (RALF, I, U, A),
    }
    assert {(e.reason, e.actor, e.at) for e in entries} == {(AuditReason.IMPORT, ADMIN, clock())}
    assert len({e.operation_id for e in entries}) == 1


def _unquoted(text: str) -> str:
    return text.replace('"', "")


SEED_VARIANTS = {
    "one trailing blank line": SEED + "\n",
    "several trailing blank lines, CRLF": SEED.replace("\n", "\r\n") + "\r\n\r\n\r\n",
    "trailing rows of empty cells": SEED + ",,,,\n,,\n  \n",
    "a BOM": "\ufeff" + SEED,
    "a BOM and CRLF": "\ufeff" + SEED.replace("\n", "\r\n"),
    "LF line ends": SEED,
    "CR line ends (old Mac)": SEED.replace("\n", "\r"),
    "no final line end": SEED.rstrip("\n"),
    "; separators": SEED.replace('","', '";"'),
    "; separators, unquoted, BOM": "\ufeff" + _unquoted(SEED.replace('","', '";"')),
    "unquoted": _unquoted(SEED),
    "header in lower case": SEED.replace(HEADER, HEADER.lower()),
    "header in upper case with spaces": SEED.replace(
        HEADER, '" ID ","FULL NAME","  Email","STANDARD ","inspections"'
    ),
    "header without spaces in names": SEED.replace("Full Name", "fullname"),
    "values in other cases": SEED.replace('"Assigned"', '"aSSIGNED"'),
    "Enabled for Assigned": SEED.replace('"Assigned"', '"enabled"'),
    "cells with surrounding spaces": SEED.replace('","', '" , "'),
    "blank lines before the header": "\n\n" + SEED,
}


@pytest.mark.parametrize("variant", SEED_VARIANTS, ids=list(SEED_VARIANTS))
def test_spec_7_seed_sample_reads_as_spreadsheets_write_it(engine, variant):
    """SPEC 7: BOM or none, CRLF/LF/CR, quoted or not, `,` or `;`, trailing blank lines, header
    names in any case and spacing, values in any case: the same three users and licenses."""

    async def scenario():
        org = await seats_org(engine)
        report = await run_import(engine, org, SEED_VARIANTS[variant])
        assert report.applied is True, report
        assert [(p.code, p.severity) for p in report.problems] == [("BOTH_ASSIGNED", "WARNING")]
        assert summary(report) == (3, 3, 0, 0, 3, 0)
        assert await states(engine, org) == SEED_STATES
        assert (await get(engine, org, PETE)).full_name == "Pete Porter"

    asyncio.run(scenario())


@async_test
async def test_spec_7_line_numbers_are_physical_lines_across_quoted_line_breaks(engine):
    """SPEC 7, Problems: `line` is the physical line; a quoted field holding a line break (in an
    ignored column) moves the lines after it, and blank lines count too."""
    org = await seats_org(engine)
    text = csv_file(
        'a1,Ann,a1@example.com,Assigned,,"a note\non two lines"',
        "",
        "a2,Bob,not-an-email,,,x",
        header='"Id","Full Name","Email","Standard","Inspections","Notes"',
    )
    report = await run_import(engine, org, text)
    assert problems(report) == [(5, "BAD_EMAIL", "ERROR")]


@async_test
async def test_spec_7_extra_columns_are_ignored_and_columns_found_by_name(engine):
    """SPEC 7: columns are found by header name in any order; extra columns (Last Sync) ignored."""
    org = await seats_org(engine)
    text = csv_file(
        "2025-01-01T00:00:00Z,Assigned,someone51@example.com,,Matt Ford," + MATT + ",whatever",
        header="Last Sync,Inspections,Email,Standard,Full Name,Id,Comment",
    )
    report = await run_import(engine, org, text)
    assert report.applied and problems(report) == []
    assert await states(engine, org) == {MATT: (U, A)}


@async_test
async def test_spec_7_full_name_column_may_be_absent_for_existing_users_only(engine):
    """SPEC 7: without a Full Name column, rows of existing users apply; a new user is MISSING_FIELD."""
    org = await seats_org(engine)
    await provisioned(engine, org, ("known", U, U, "Known User", "known@example.com"))
    header = "Id,Email,Standard,Inspections"
    assert (await run_import(engine, org, csv_file("known,,Assigned,", header=header))).applied
    assert (await get(engine, org, "known")).standard is A

    report = await run_import(
        engine, org, csv_file("newbie,newbie@example.com,Assigned,", header=header)
    )
    assert problems(report) == [(2, "MISSING_FIELD", "ERROR")]
    assert "Full Name" in report.problems[0].message
    assert await get(engine, org, "newbie") is None


# ================================================================ values and matching


@async_test
async def test_spec_7_values_assigned_empty_disabled_on_existing_users(engine, clock):
    """SPEC 7, Values: Assigned/Enabled assign (overriding DISABLED); empty releases an ASSIGNED
    selector and leaves DISABLED as it is; Disabled releases and blocks."""
    org = await seats_org(engine)
    await provisioned(
        engine,
        org,
        ("holder", A, U),
        ("blocked", D, U),
        ("blocked2", D, D),
        ("free", U, U),
        ("other", U, A),
        ("keep", A, D),
    )
    text = csv_file(
        "holder,,,,",  # empty: STANDARD seat released
        "blocked,,,,",  # empty: DISABLED stays
        "blocked2,,,Assigned,",  # Assigned overrides DISABLED
        "free,,,enabled,disabled",
        "other,,,,Disabled",  # seat released and blocked
        "keep,,,assigned,",  # holds it already; DISABLED inspections stays: unchanged
    )
    report = await run_import(engine, org, text)
    assert report.applied and problems(report) == []
    assert await states(engine, org) == {
        "holder": (U, U),
        "blocked": (D, U),
        "blocked2": (A, D),
        "free": (A, D),
        "other": (U, D),
        "keep": (A, D),
    }
    # rows, assigned (blocked2, free), unassigned (holder, other), disabled (free's I, other's I), created, unchanged
    assert summary(report) == (6, 2, 2, 2, 0, 2)


@async_test
async def test_spec_7_both_assigned_switches_a_standard_holder_to_inspections(engine):
    """SPEC 7 [decided] and invariant 2: both Assigned gives INSPECTIONS; a held STANDARD seat is
    released in the same step; the warning is on the row's line; every entry says IMPORT."""
    org = await seats_org(engine)
    await provisioned(engine, org, ("s", A, U))
    report = await run_import(engine, org, csv_file("s,,,Assigned,Assigned"))
    assert report.applied and problems(report) == [(2, "BOTH_ASSIGNED", "WARNING")]
    assert await states(engine, org) == {"s": (U, A)}
    assert summary(report) == (1, 1, 1, 0, 0, 0)
    assert (await holders(engine, org, S), await holders(engine, org, I)) == (0, 1)
    entries = [e for e in await audit_entries(engine, org) if e.reason is AuditReason.IMPORT]
    assert {(e.license_type, e.from_state, e.to_state) for e in entries} == {(S, A, U), (I, U, A)}


@async_test
async def test_spec_7_import_changes_licenses_only_never_names_or_emails(engine):
    """SPEC 7: the name and e-mail of a user the import finds stay as they are."""
    org = await seats_org(engine)
    await provisioned(engine, org, ("u1", U, U, "Real Name", "real@example.com"))
    report = await run_import(engine, org, csv_file("u1,Other Name,other@example.com,Assigned,"))
    assert report.applied and problems(report) == []
    user = await get(engine, org, "u1")
    assert (user.full_name, user.email, user.standard) == ("Real Name", "real@example.com", A)


@async_test
async def test_spec_7_rows_find_users_by_id_else_email_else_create(engine):
    """SPEC 7: by Id (a GUID in any case, braces included), else by Email case-insensitively,
    else a new user from Id, Email and Full Name."""
    org = await seats_org(engine)
    await provisioned(
        engine,
        org,
        (MATT, U, U, "Matt Ford", "someone51@example.com"),
        ("emailonly", U, U, "E O", "eo@example.com"),
    )
    text = csv_file(
        "{" + MATT.upper() + "},,,,Assigned",  # by Id, GUID compared case-insensitively
        ",,EO@Example.COM,Assigned,",  # by Email, case-insensitively
        "unknown-id,,eo2@example.com,,",  # creates? no: needs a Full Name
    )
    report = await run_import(engine, org, text)
    assert problems(report) == [(4, "MISSING_FIELD", "ERROR")]

    text = csv_file(
        "{" + MATT.upper() + "},,,,Assigned",
        "other-id-same-person,,EO@Example.COM,Assigned,",  # Id unknown: found by Email
        "fresh,Fresh Person,fresh@example.com,Disabled,",  # created
    )
    report = await run_import(engine, org, text)
    assert report.applied and problems(report) == []
    assert summary(report) == (3, 2, 0, 1, 1, 0)
    assert await states(engine, org) == {MATT: (U, A), "emailonly": (A, U), "fresh": (D, U)}
    fresh = await get(engine, org, "fresh")
    assert (fresh.full_name, fresh.email, fresh.assigned_at) == (
        "Fresh Person",
        "fresh@example.com",
        None,
    )


@async_test
async def test_spec_7_id_of_one_user_with_email_of_another_is_id_email_conflict(engine):
    """SPEC 7: ID_EMAIL_CONFLICT on the row's line; nothing changes."""
    org = await seats_org(engine)
    await provisioned(
        engine, org, ("a", U, U, "A", "a@example.com"), ("b", U, U, "B", "b@example.com")
    )
    before = await snapshot(engine, org)
    report = await run_import(
        engine,
        org,
        csv_file("a,A,a@example.com,Assigned,", "a2,,,,", "b,B,A@EXAMPLE.com,Assigned,"),
    )
    assert problems(report) == [(3, "MISSING_FIELD", "ERROR"), (4, "DUPLICATE_EMAIL", "ERROR")]
    report = await run_import(
        engine, org, csv_file("b,B,A@EXAMPLE.com,Assigned,", "a,,b@example.com,,Assigned")
    )
    assert problems(report) == [
        (2, "ID_EMAIL_CONFLICT", "ERROR"),
        (3, "ID_EMAIL_CONFLICT", "ERROR"),
    ]
    assert "'b'" in report.problems[0].message and "'a'" in report.problems[0].message
    assert await snapshot(engine, org) == before


@async_test
async def test_spec_7_a_user_named_by_id_and_again_by_email_is_a_duplicate(engine):
    """SPEC 7, duplicates: a row finding (by Email) the user an earlier row found by Id is reported."""
    org = await seats_org(engine)
    await provisioned(engine, org, ("a", U, U, "A", "a@example.com"))
    report = await run_import(engine, org, csv_file("a,,,Assigned,", ",,a@example.com,,Assigned"))
    assert problems(report) == [(3, "DUPLICATE_ID", "ERROR")]
    assert (await get(engine, org, "a")).selectors == (U, U)


# ================================================================ modes, dry runs, summary


@async_test
async def test_spec_7_merge_leaves_absent_users_as_they_are(engine):
    org = await seats_org(engine)
    await provisioned(engine, org, ("absent", A, U), ("absent2", U, A), ("listed", U, U))
    report = await run_import(engine, org, csv_file("listed,,,,Assigned"))
    assert report.applied and summary(report) == (1, 1, 0, 0, 0, 0)
    assert await states(engine, org) == {"absent": (A, U), "absent2": (U, A), "listed": (U, A)}


@async_test
async def test_spec_7_replace_releases_absent_users_seats_and_leaves_disabled(engine):
    """SPEC 7, REPLACE (a restore): absent users' seats are released; their DISABLED selectors stay;
    the summary counts the releases; listed users get what the file says."""
    org = await seats_org(engine)
    await provisioned(
        engine,
        org,
        ("gone-s", A, D),
        ("gone-i", D, A),
        ("gone-blocked", D, D),
        ("gone-free", U, U),
        ("listed", A, U),
    )
    report = await run_import(
        engine,
        org,
        csv_file("listed,,,Assigned,", "new,New,new@example.com,,Assigned"),
        ImportMode.REPLACE,
    )
    assert report.applied and problems(report) == []
    assert await states(engine, org) == {
        "gone-s": (U, D),
        "gone-i": (D, U),
        "gone-blocked": (D, D),
        "gone-free": (U, U),
        "listed": (A, U),
        "new": (U, A),
    }
    assert summary(report) == (2, 1, 2, 0, 1, 1)
    imported = [e for e in await audit_entries(engine, org) if e.reason is AuditReason.IMPORT]
    assert {
        (e.user_id, e.license_type, e.from_state, e.to_state)
        for e in imported
        if e.user_id.startswith("gone")
    } == {("gone-s", S, A, U), ("gone-i", I, A, U)}


@async_test
async def test_spec_7_replace_with_no_data_rows_is_empty_file_merge_changes_nothing(engine):
    """SPEC 7: no data rows is EMPTY_FILE in REPLACE (it would release every seat) and an applied
    no-op in MERGE."""
    org = await seats_org(engine)
    await provisioned(engine, org, ("holder", A, U))
    before = await snapshot(engine, org)
    for text in (HEADER, HEADER + "\r\n", HEADER + "\n\n\n", HEADER + "\n,,,,\n"):
        replaced = await run_import(engine, org, text, ImportMode.REPLACE)
        assert (replaced.applied, problems(replaced)) == (False, [(None, "EMPTY_FILE", "ERROR")])
        assert [e.code for e in replaced.user_errors] == ["CSV_INVALID"]
        merged = await run_import(engine, org, text, ImportMode.MERGE)
        assert (merged.applied, problems(merged), summary(merged), merged.user_errors) == (
            True,
            [],
            (0,) * 6,
            [],
        )
    assert await snapshot(engine, org) == before


@async_test
async def test_spec_7_dry_run_reports_what_would_change_and_changes_nothing(engine):
    """SPEC 7, dryRun: the summary of the real import, applied false, nothing stored or audited."""
    org = await seats_org(engine)
    await provisioned(engine, org, ("holder", A, U), ("absent", U, A))
    text = SEED + "holder,,,,Disabled\n"
    before = await snapshot(engine, org)

    dry = await run_import(engine, org, text, ImportMode.REPLACE, dry_run=True)
    assert dry.applied is False and dry.user_errors == []
    assert problems(dry) == [(4, "BOTH_ASSIGNED", "WARNING")]
    assert await snapshot(engine, org) == before

    real = await run_import(engine, org, text, ImportMode.REPLACE)
    assert real.applied is True
    assert summary(real) == summary(dry) == (4, 3, 2, 1, 3, 0)


@async_test
async def test_spec_7_applied_even_when_nothing_changes(engine):
    """SPEC 7: `applied` is true for a committed import that changed nothing; unchanged rows counted."""
    org = await seats_org(engine)
    await run_import(engine, org, SEED)
    entries = len(await audit_entries(engine, org))
    again = await run_import(engine, org, SEED)
    assert again.applied is True and summary(again) == (3, 0, 0, 0, 0, 3)
    assert len(await audit_entries(engine, org)) == entries


@async_test
async def test_spec_3_trial_refuses_imports_with_trial_active_only(engine):
    """SPEC 3, Trial: the only answer is TRIAL_ACTIVE, for dry runs and broken files too."""
    org = await new_org(engine, trial_days=30)
    before = await snapshot(engine, org)
    for text, dry_run in ((SEED, False), (SEED, True), ("\x00garbage", False), ("", True)):
        report = await run_import(engine, org, text, dry_run=dry_run)
        assert report.applied is False and report.problems == []
        assert [e.code for e in report.user_errors] == ["TRIAL_ACTIVE"]
    assert await snapshot(engine, org) == before


# ================================================================ every error, with its line


ERROR_CASES = {
    "BAD_HEADER: a data row instead of a header": (
        "x1,X,x1@example.com,Assigned,\n",
        [(1, "BAD_HEADER")],
    ),
    "BAD_HEADER: a column named twice": (
        "Id,Email,Email,Standard,Inspections\nx,x@example.com,x@example.com,,\n",
        [(1, "BAD_HEADER")],
    ),
    "MISSING_COLUMN: each missing column": (
        "Full Name,Email,Standard\nX,x@example.com,\n",
        [(1, "MISSING_COLUMN"), (1, "MISSING_COLUMN")],
    ),
    "COLUMN_COUNT: too many and too few": (
        csv_file("a,A,a@example.com,,,extra", "b,B,b@example.com"),
        [(2, "COLUMN_COUNT"), (3, "COLUMN_COUNT")],
    ),
    "BAD_VALUE: not a license state": (
        csv_file("a,A,a@example.com,Yes,", "b,B,b@example.com,,1"),
        [(2, "BAD_VALUE"), (3, "BAD_VALUE")],
    ),
    "BAD_VALUE: an over-long Id": (csv_file("x" * 129 + ",A,a@example.com,,"), [(2, "BAD_VALUE")]),
    "BAD_EMAIL": (
        csv_file("a,A,not-an-email,,", "b,B,b@@example.com,,", "c,C,c@example,,"),
        [(2, "BAD_EMAIL"), (3, "BAD_EMAIL"), (4, "BAD_EMAIL")],
    ),
    "MISSING_FIELD: neither Id nor Email": (csv_file(",Nobody,,Assigned,"), [(2, "MISSING_FIELD")]),
    "MISSING_FIELD: a new user without Id, Email or Full Name": (
        csv_file(",,new@example.com,,", "new2,,new2@example.com,,", "new3,New,,,"),
        [(2, "MISSING_FIELD"), (3, "MISSING_FIELD"), (4, "MISSING_FIELD")],
    ),
    "DUPLICATE_ID on each later line (GUIDs in any case)": (
        csv_file(
            f"{MATT},M,m1@example.com,,",
            f"{MATT.upper()},M,m2@example.com,,",
            f"{{{MATT}}},M,m3@example.com,,",
        ),
        [(3, "DUPLICATE_ID"), (4, "DUPLICATE_ID")],
    ),
    "DUPLICATE_EMAIL on each later line (any case)": (
        csv_file("a,A,same@example.com,,", "b,B,SAME@example.com,,", "c,C,Same@Example.com,,"),
        [(3, "DUPLICATE_EMAIL"), (4, "DUPLICATE_EMAIL")],
    ),
    "NOT_ENOUGH_SEATS for the whole file (line null)": (
        csv_file(*(f"n{i},N{i},n{i}@example.com,Assigned," for i in range(3))),
        [(None, "NOT_ENOUGH_SEATS")],
    ),
    "EMPTY_FILE: nothing at all": ("", [(None, "EMPTY_FILE")]),
    "EMPTY_FILE: only blank lines": ("\r\n\n  \n", [(None, "EMPTY_FILE")]),
    "EMPTY_FILE: only empty cells": (",,,,\r\n,,\r\n", [(None, "EMPTY_FILE")]),
    "NOT_CSV: NUL bytes": ("Id,Email\x00\x00,Standard,Inspections\n", [(None, "NOT_CSV")]),
}


@pytest.mark.parametrize("case", ERROR_CASES, ids=list(ERROR_CASES))
def test_spec_7_every_error_code_with_its_line_and_nothing_applied(engine, case):
    """SPEC 7, Problems: each code on its physical line (null for the whole file), severity ERROR,
    one CSV_INVALID user error, applied false, and nothing changed (users, seats, audit log)."""
    text, expected = ERROR_CASES[case]

    async def scenario():
        org = await seats_org(engine, standard=2)
        await provisioned(engine, org, ("seated", U, A))
        before = await snapshot(engine, org)
        report = await run_import(engine, org, text)
        assert [(p.line, p.code) for p in report.problems] == expected
        assert {p.severity for p in report.problems} == {"ERROR"}
        assert all(p.message for p in report.problems)
        assert report.applied is False
        assert [e.code for e in report.user_errors] == ["CSV_INVALID"]
        # SPEC 7: the summary of a file with errors shows what would change, as a dry run does.
        dry_run = await run_import(engine, org, text, dry_run=True)
        assert summary(report) == summary(dry_run) and dry_run.applied is False
        assert await snapshot(engine, org) == before

    asyncio.run(scenario())


@async_test
async def test_spec_7_several_errors_all_reported_in_line_order_nothing_applied(engine):
    """SPEC 7: the whole file is validated first and every problem is listed, not only the first;
    valid rows of a file with errors change nothing."""
    org = await seats_org(engine, standard=1, inspections=1)
    await provisioned(
        engine, org, ("a", U, U, "A", "a@example.com"), ("b", U, U, "B", "b@example.com")
    )
    before = await snapshot(engine, org)
    text = csv_file(
        "ok1,Ok,ok1@example.com,Assigned,",  # 2: valid on its own
        "a,A,b@example.com,Assigned,",  # 3: ID_EMAIL_CONFLICT
        "c,C,bad-email,Maybe,",  # 4: BAD_VALUE and BAD_EMAIL
        "ok1,Again,ok1b@example.com,,",  # 5: DUPLICATE_ID
        "d,D,OK1@example.com,,",  # 6: DUPLICATE_EMAIL
        "e,E,e@example.com,,,",  # 7: COLUMN_COUNT
        ",,,,",  # blank: ignored
        "f,F,f@example.com,Assigned,Assigned",  # 9: BOTH_ASSIGNED warning
        "g,G,g@example.com,,Assigned",  # 10: INSPECTIONS now over capacity with f
    )
    report = await run_import(engine, org, text)
    assert problems(report) == [
        (None, "NOT_ENOUGH_SEATS", "ERROR"),
        (3, "ID_EMAIL_CONFLICT", "ERROR"),
        (4, "BAD_VALUE", "ERROR"),
        (4, "BAD_EMAIL", "ERROR"),
        (5, "DUPLICATE_ID", "ERROR"),
        (6, "DUPLICATE_EMAIL", "ERROR"),
        (7, "COLUMN_COUNT", "ERROR"),
        (9, "BOTH_ASSIGNED", "WARNING"),
    ]
    assert [e.code for e in report.user_errors] == ["CSV_INVALID"]
    assert report.applied is False and report.summary.rows == 8
    assert await snapshot(engine, org) == before


@async_test
async def test_spec_7_seats_checked_on_the_final_state_per_type(engine):
    """SPEC 7: the final count per type against capacity — seats released by the same file count,
    and an import that does not worsen an over-allocation is not refused for it (SPEC 5)."""
    org = await seats_org(engine, standard=2, inspections=1)
    await provisioned(engine, org, ("s1", A, U), ("s2", A, U))
    # Full, but the file moves s1's seat to n1: the final count is 2.
    moved = await run_import(engine, org, csv_file("s1,,,,", "n1,N1,n1@example.com,Assigned,"))
    assert moved.applied and problems(moved) == []
    assert await states(engine, org) == {"s1": (U, U), "s2": (A, U), "n1": (A, U)}

    short = await run_import(
        engine,
        org,
        csv_file(
            "s1,,,Assigned,", "i1,I1,i1@example.com,,Assigned", "i2,I2,i2@example.com,,Assigned"
        ),
    )
    assert problems(short) == [
        (None, "NOT_ENOUGH_SEATS", "ERROR"),
        (None, "NOT_ENOUGH_SEATS", "ERROR"),
    ]
    assert "Standard" in short.problems[0].message and "Inspections" in short.problems[1].message
    assert "3 users" in short.problems[0].message

    # Capacity falls below the holders (SPEC 5): a file that keeps or lowers the count passes.
    engine.clock.advance(days=400)
    await buy(engine, org, S, 1)
    kept = await run_import(engine, org, csv_file("s2,,,Assigned,", "n1,,,Assigned,"))
    assert kept.applied and problems(kept) == []
    lowered = await run_import(engine, org, csv_file("n1,,,,", "s1,,,Assigned,"))
    assert lowered.applied and problems(lowered) == []
    worse = await run_import(engine, org, csv_file("n1,,,Assigned,"))
    assert problems(worse) == [(None, "NOT_ENOUGH_SEATS", "ERROR")]


# ================================================================ hostile files


@async_test
async def test_spec_7_hostile_binary_garbage_is_not_csv(engine):
    """Hostile files: binary data (random bytes, a PNG, undecodable UTF-8, lone surrogates) is one
    problem for the whole file, never a crash or a flood of row problems: bytes that are not UTF-8
    (and text a client decoded leniently or with lone surrogates) are NOT_UTF8 on the first bad
    line (SPEC 7, issue 16); text made of NULs or control characters is NOT_CSV."""
    org = await seats_org(engine)
    rng = random.Random(7)
    garbage = bytes(rng.randrange(256) for _ in range(50_000))
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + garbage[:2000]
    for data, expected in (
        (garbage, (1, "NOT_UTF8")),
        (png, (1, "NOT_UTF8")),
        (garbage.decode("latin-1"), (None, "NOT_CSV")),
        (garbage.decode("utf-8", errors="replace"), (1, "NOT_UTF8")),
        (b'"Id","Email"\n\xff\xfe\xfa', (2, "NOT_UTF8")),
        ("Id,Email,Standard,Inspections\n\ud800,x@example.com,,\n", (2, "NOT_UTF8")),
        (bytes(range(1, 32)) * 100, (None, "NOT_CSV")),
    ):
        report = await run_import(engine, org, data)
        assert [(p.line, p.code) for p in report.problems] == [expected], data[:40]
        assert [e.code for e in report.user_errors] == ["CSV_INVALID"]
    assert await all_users(engine, org) == []


@async_test
async def test_spec_7_hostile_ten_megabyte_field_is_a_clear_bad_value(engine):
    """Hostile files: a 10 MB single field (quoted or not) is BAD_VALUE on its line, saying the
    limit; the rows after it are still read and checked."""
    org = await seats_org(engine)
    huge = "x" * (10 * 1024 * 1024)
    for text in (
        csv_file(f"{huge},A,a@example.com,,", "b,B,bad-email,,"),
        csv_file(f'"{huge}","A","a@example.com","",""', "b,B,bad-email,,"),
        csv_file(f"a,A,a@example.com,,{huge}", "b,B,bad-email,,"),
    ):
        report = await run_import(engine, org, text)
        assert problems(report) == [(2, "BAD_VALUE", "ERROR"), (3, "BAD_EMAIL", "ERROR")]
        assert f"{MAX_FIELD_CHARS:,} characters" in report.problems[0].message
    just_over = csv_file("a," + "n" * (MAX_FIELD_CHARS + 1) + ",a@example.com,,")
    assert problems(await run_import(engine, org, just_over)) == [(2, "BAD_VALUE", "ERROR")]
    assert await all_users(engine, org) == []


@async_test
async def test_spec_7_hostile_file_over_the_size_limit_is_refused_whole(engine):
    """Limits: more than 20 MB (the default request-body limit) is refused without reading it."""
    org = await seats_org(engine)
    row = "a,A,a@example.com,,\r\n"
    text = HEADER + "\r\n" + row * (MAX_FILE_BYTES // len(row) + 1)
    report = await run_import(engine, org, text)
    assert [(p.line, p.code) for p in report.problems] == [(None, "NOT_CSV")]
    assert "20 MB" in report.problems[0].message
    # Characters outside ASCII count as the bytes UTF-8 gives them.
    wide = HEADER + "\r\n" + "é" * (MAX_FILE_BYTES // 2 + 1)
    assert [p.code for p in (await run_import(engine, org, wide)).problems] == ["NOT_CSV"]


@async_test
async def test_spec_7_too_many_rows_are_refused(engine, monkeypatch):
    """Limits: past MAX_ROWS data rows the file is refused (NOT_CSV on the first row too many)."""
    monkeypatch.setattr(csv_parsing, "MAX_ROWS", 3)
    org = await seats_org(engine)
    report = await run_import(
        engine, org, csv_file(*(f"u{i},U,u{i}@example.com,," for i in range(5)))
    )
    assert [(p.line, p.code) for p in report.problems] == [(5, "NOT_CSV")]
    assert await all_users(engine, org) == []


@async_test
async def test_spec_7_hostile_formula_cells_are_stored_as_text(engine):
    """Hostile files: formula-looking cells (`=cmd|…`, `+`, `-`, `@`) are stored as the text given,
    never evaluated; a `'` the export put before one is removed again on import."""
    org = await seats_org(engine)
    text = csv_file(
        '"=cmd|\' /C calc\'!A0","=HYPERLINK(""http://evil"",""x"")",f1@example.com,Assigned,',
        "+plus,@SUM(1+1),f2@example.com,,Assigned",
        "'-minus,'=Escaped Name,f3@example.com,,",
        "'plain,'O'Brien,f4@example.com,,",
    )
    report = await run_import(engine, org, text)
    assert report.applied and problems(report) == [], report.problems
    stored = {u.id: u.full_name for u in await all_users(engine, org)}
    assert stored == {
        "=cmd|' /C calc'!A0": '=HYPERLINK("http://evil","x")',
        "+plus": "@SUM(1+1)",
        "-minus": "=Escaped Name",
        "'plain": "'O'Brien",
    }


@async_test
async def test_spec_7_hostile_unclosed_quote_is_reported_where_it_starts(engine):
    """Hostile files: a quote never closed swallows the lines after it; the problem names the line
    where the field starts and the line where it ends."""
    org = await seats_org(engine)
    report = await run_import(
        engine, org, csv_file('"a,A,a@example.com,,', "b,B,b@example.com,,", "c,C,c@example.com,,")
    )
    assert [(p.line, p.code) for p in report.problems] == [(2, "COLUMN_COUNT")]
    assert "from line 2 to line 4" in report.problems[0].message
    report = await run_import(
        engine, org, csv_file('"a\nb",A,a@example.com,,', "b,B,b@example.com,,")
    )
    assert [(p.line, p.code) for p in report.problems] == [(2, "BAD_VALUE")]
    assert "from line 2 to line 3" in report.problems[0].message


# ================================================================ concurrency (SPEC 2)


class BeforeApply:
    """The memory storage, running `action` once just before the import's first write."""

    def __init__(self, inner, action) -> None:
        self._inner = inner
        self._action = action
        self.applies = 0

    def __getattr__(self, name):
        return getattr(self._inner, name)

    async def apply_changes(self, change_set):
        self.applies += 1
        if self._action is not None:
            action, self._action = self._action, None
            await action()
        return await self._inner.apply_changes(change_set)

    async def write_sync(self, writes):
        if writes.change_set is not None:  # a sync's seat change (SPEC 4.6) counts as an apply
            self.applies += 1
        return await self._inner.write_sync(writes)


def engine_with(clock, make_action) -> tuple[Engine, BeforeApply]:
    storage = BeforeApply(load_storage("memory://"), None)
    engine = Engine(storage, clock)
    storage.arm = lambda: setattr(storage, "_action", make_action(engine))
    return engine, storage


@async_test
async def test_spec_2_import_decides_again_when_a_listed_user_changes_meanwhile(clock):
    """Invariant 5 with a compare-and-set: a user of the file takes a seat by sync between the
    import's read and its write; the write is refused whole, the import reads again and applies."""
    state = {}
    engine, storage = engine_with(clock, lambda e: lambda: sync(e, state["org"], "p1"))
    org = state["org"] = await seats_org(engine, standard=5, inspections=5, auto_assign=True)
    await provisioned(engine, org, ("p1", U, U), ("p2", U, U))
    storage.arm()
    applies_before = storage.applies

    report = await run_import(engine, org, csv_file("p1,,,,Assigned", "p2,,,,Assigned"))

    assert report.applied and problems(report) == []
    assert (
        storage.applies - applies_before == 3
    )  # the refused import, the sync's assignment, the import again
    assert await states(engine, org) == {"p1": (U, A), "p2": (U, A)}
    assert summary(report) == (2, 2, 1, 0, 0, 0)  # decided on p1 holding STANDARD from the sync
    replay_is_consistent(await audit_entries(engine, org))


@async_test
async def test_spec_2_import_loses_seats_taken_meanwhile_and_changes_nothing(clock):
    """Invariant 1: a sync takes the last seat the import counted on; the import is NOT_ENOUGH_SEATS
    and nothing of it lands."""
    state = {}
    engine, storage = engine_with(clock, lambda e: lambda: sync(e, state["org"], "outsider"))
    org = state["org"] = await seats_org(engine, standard=2, inspections=1, auto_assign=True)
    await provisioned(engine, org, ("p1", U, U))
    storage.arm()

    report = await run_import(
        engine, org, csv_file("p1,,,Assigned,", "n1,N1,n1@example.com,Assigned,")
    )

    assert report.applied is False
    assert problems(report) == [(None, "NOT_ENOUGH_SEATS", "ERROR")]
    assert [e.code for e in report.user_errors] == ["CSV_INVALID"]
    assert await states(engine, org) == {"p1": (U, U), "outsider": (A, U)}


@async_test
async def test_spec_2_import_meets_a_user_created_meanwhile_and_matches_it(clock):
    """A user the file would create appears by sync meanwhile: the create is refused (id taken),
    the import reads again, finds the user by Id and changes its license instead."""
    state = {}
    engine, storage = engine_with(
        clock, lambda e: lambda: sync(e, state["org"], "late", name="Late Sync")
    )
    org = state["org"] = await seats_org(engine)
    storage.arm()

    report = await run_import(engine, org, csv_file("late,From File,late@example.com,Assigned,"))

    assert report.applied and summary(report) == (1, 1, 0, 0, 0, 0)
    late = await get(engine, org, "late")
    assert (late.full_name, late.standard) == ("Late Sync", A)


@pytest.mark.parametrize("seed", range(6))
def test_spec_2_imports_racing_syncs_keep_the_invariants(clock, seed):
    """Invariants 1, 2, 4, 5: imports (MERGE and REPLACE) race auto-assigning syncs for the same
    seats. Holders never exceed capacity at any write, nobody holds two seats, each import is
    applied whole or not at all, and the audit log replays to the stored state."""

    async def scenario():
        storage = YieldingStorage(load_storage("memory://"), seed)
        engine = Engine(storage, clock)
        org = await seats_org(engine, standard=4, inspections=3, auto_assign=True)
        rng = random.Random(seed)
        ids = [f"u{i}" for i in range(12)]
        await provisioned(engine, org, *((user_id, U, U) for user_id in ids[:6]))

        def random_file() -> str:
            rows = []
            for user_id in rng.sample(ids, 5):
                standard, inspections = rng.choice(
                    [("Assigned", ""), ("", "Assigned"), ("", ""), ("Disabled", "")]
                )
                rows.append(
                    f"{user_id},{user_id.title()},{user_id}@example.com,{standard},{inspections}"
                )
            return csv_file(*rows)

        imports = [
            run_import(engine, org, random_file(), rng.choice(list(ImportMode))) for _ in range(4)
        ]
        syncs = [sync(engine, org, rng.choice(ids)) for _ in range(16)]
        tasks = imports + syncs
        rng.shuffle(tasks)
        results = await asyncio.gather(*tasks)

        assert storage.max_holders[S] <= 4 and storage.max_holders[I] <= 3
        users = await all_users(engine, org)
        assert all(not (u.standard is A and u.inspections is A) for u in users)
        assert await holders(engine, org, S) <= 4 and await holders(engine, org, I) <= 3
        for report in (r for r in results if isinstance(r, ImportReport)):
            assert report.applied or [e.code for e in report.user_errors] in (
                ["CSV_INVALID"],
                ["CONFLICT"],
            )
            if not report.applied and report.user_errors[0].code == "CSV_INVALID":
                assert {p.code for p in report.problems if p.severity == "ERROR"} == {
                    "NOT_ENOUGH_SEATS"
                }
        final = replay_is_consistent(await audit_entries(engine, org))
        for user in users:
            assert final.get(user.key, (U, U)) == user.selectors
        operations = {}
        for entry in await audit_entries(engine, org):
            if entry.reason is AuditReason.IMPORT:
                operations.setdefault(entry.operation_id, set()).add(entry.actor)
        assert all(actors == {ADMIN} for actors in operations.values())

    asyncio.run(scenario())


# ================================================================ reading stored users in bulk


@pytest.mark.parametrize(
    "chunk, padding, looked_up",
    [(2, 0, True), (2, 3, False), (1000, 0, False)],
    ids=["rows looked up, holders paged", "organization paged through", "organization in one page"],
)
def test_spec_7_matching_is_the_same_whether_users_are_read_by_row_or_by_scan(
    engine, monkeypatch, chunk, padding, looked_up
):
    """SPEC 7 matching and REPLACE, whichever way the stored users are read: a small file in a
    large organization looks its rows' users up (by id in chunks, by e-mail one by one) and pages
    through the holders; a file about as large as the organization reads it whole, page by page.
    A small chunk size makes the organization "large" and crosses many page boundaries."""
    from seatkeeper.rules import licenses_csv

    monkeypatch.setattr(licenses_csv, "READ_CHUNK", chunk)
    lookups = []
    find_by_email = engine.storage.find_user_by_email

    async def counting_find(organization_id, email):
        lookups.append(email)
        return await find_by_email(organization_id, email)

    monkeypatch.setattr(engine.storage, "find_user_by_email", counting_find)

    async def scenario():
        org = await seats_org(engine)
        await provisioned(
            engine,
            org,
            *((f"h{i}", A if i % 2 else U, U if i % 2 else A) for i in range(8)),
            ("blocked-holder", D, A),
            ("by-email", U, U, "By Email", "By.Email@example.com"),
            ("a", U, U, "A", "a@example.com"),
            ("b", U, U, "B", "b@example.com"),
            *((f"filler{i}", U, U) for i in range(10)),
        )
        conflict = await run_import(engine, org, csv_file("a,,b@example.com,Assigned,"))
        assert problems(conflict) == [(2, "ID_EMAIL_CONFLICT", "ERROR")]

        lookups.clear()
        text = csv_file(
            "h1,,,,Assigned",
            "unknown,,by.email@EXAMPLE.com,Assigned,",
            "new,New,new@example.com,,",
            *(f"filler{i},,,," for i in range(padding)),
        )
        report = await run_import(engine, org, text, ImportMode.REPLACE)
        assert report.applied and problems(report) == []
        assert bool(lookups) is looked_up
        final = await states(engine, org)
        assert final["h1"] == (U, A) and final["by-email"] == (A, U) and final["new"] == (U, U)
        assert final["blocked-holder"] == (D, U)
        assert all(final[f"h{i}"] == (U, U) for i in (0, 2, 3, 4, 5, 6, 7))
        # released: h0..h7's seats (h1's STANDARD by its switch) and blocked-holder's INSPECTIONS
        assert summary(report) == (3 + padding, 2, 9, 0, 1, padding)

    asyncio.run(scenario())
