"""SPEC 7: exporting the licenses file and the users file — exact bytes, order, streaming, formula
cells (CSV injection) — and the round trip export -> import elsewhere -> export.

Everything runs on the real engine and memory storage; time comes from the fake clock.
"""

from __future__ import annotations

import csv
import io

import pytest
from seatkeeper.rules.engine import UserFilter
from seatkeeper.rules.licenses_csv import ImportMode, escape_formula, unescape_formula
from seatkeeper.rules.outcomes import BadRequest

from tests.rules.rules_support import (
    ADMIN,
    A,
    D,
    I,
    S,
    U,
    all_users,
    async_test,
    buy,
    new_org,
    provisioned,
    sync,
)

LICENSES_HEADER = '"Id","Full Name","Email","Standard","Inspections"\r\n'
USERS_HEADER = '"Id","Full Name","Email","Standard","Inspections","Last Sync"\r\n'


async def seats_org(engine, standard: int = 50, inspections: int = 50, name: str = "Acme") -> str:
    org = await new_org(engine, name=name)
    await buy(engine, org, S, standard)
    await buy(engine, org, I, inspections)
    return org


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


# ================================================================ the licenses file


@async_test
async def test_spec_7_licenses_export_is_holders_in_6a_order_every_field_quoted_crlf(engine):
    """SPEC 7, Export: one row per user holding a seat, in the order of 6a (name case-insensitively,
    then id); every field quoted; `Assigned` or empty (a DISABLED selector is written empty);
    CRLF line ends; fields with quotes, commas and line-looking text escaped by the csv rules."""
    org = await seats_org(engine)
    await provisioned(
        engine,
        org,
        ("z1", A, U, "bob", "bob@example.com"),
        ("a2", U, A, "Alice", "alice2@example.com"),
        ("a1", D, A, "alice", "alice1@example.com"),
        ("nobody", U, U, "Aaron No Seat", "aaron@example.com"),
        ("blocked", D, D, "Abe Blocked", "abe@example.com"),
        ("q", A, U, 'O"Neil, Jr.; née Ünal', "q@example.com"),
    )
    exported = await engine.export_licenses(org)
    assert exported == (
        LICENSES_HEADER
        + '"a1","alice","alice1@example.com","","Assigned"\r\n'
        + '"a2","Alice","alice2@example.com","","Assigned"\r\n'
        + '"z1","bob","bob@example.com","Assigned",""\r\n'
        + '"q","O""Neil, Jr.; née Ünal","q@example.com","Assigned",""\r\n'
    )


@async_test
async def test_spec_7_licenses_export_of_an_organization_without_holders_is_the_header(engine):
    org = await seats_org(engine)
    await provisioned(engine, org, ("u", U, D))
    assert await engine.export_licenses(org) == LICENSES_HEADER


@async_test
async def test_spec_7_export_streams_one_line_at_a_time_over_many_pages(engine):
    """SPEC 7 for the command line: the streaming variants yield one CRLF-ended line at a time,
    across the engine's 500-user pages, and join to the one-string exports."""
    org = await seats_org(engine, standard=1200)
    await provisioned(engine, org, *((f"u{i:04}", A if i % 3 else U, U) for i in range(1200)))

    lines = [line async for line in engine.iter_export_licenses(org)]
    assert len(lines) == 1 + 800
    assert all(line.endswith("\r\n") and line.count("\r\n") == 1 for line in lines)
    assert [row[0] for row in rows_of("".join(lines))[1:]] == [
        f"u{i:04}" for i in range(1200) if i % 3
    ]
    assert "".join(lines) == await engine.export_licenses(org)

    user_lines = [line async for line in engine.iter_export_users(org)]
    assert len(user_lines) == 1 + 1200
    assert "".join(user_lines) == await engine.export_users(org)


# ================================================================ the users file


@async_test
async def test_spec_7_users_export_writes_states_and_last_sync_in_utc(engine, clock):
    """SPEC 7, users file: every user; Assigned, Disabled or empty; Last Sync ISO 8601 UTC with Z,
    empty for a user who never synced."""
    org = await seats_org(engine)
    await provisioned(
        engine,
        org,
        ("p1", A, D, "Pat One", "p1@example.com"),
        ("p2", D, D, "Pat Two", "p2@example.com"),
    )
    synced_at = clock.advance(hours=1, seconds=30)
    await sync(engine, org, "s1", name="Sam Sync")
    clock.advance(days=1)

    exported = await engine.export_users(org)
    assert exported == (
        USERS_HEADER
        + '"p1","Pat One","p1@example.com","Assigned","Disabled",""\r\n'
        + '"p2","Pat Two","p2@example.com","Disabled","Disabled",""\r\n'
        + '"s1","Sam Sync","s1@example.com","","","2025-01-06T10:00:30Z"\r\n'
    )
    assert synced_at.isoformat() == "2025-01-06T10:00:30+00:00"


@async_test
async def test_spec_7_users_export_follows_search_and_filter(engine):
    """SPEC 7: every user matching the current search and filter (SPEC 6a's meanings)."""
    org = await seats_org(engine)
    await provisioned(
        engine,
        org,
        ("ann", A, U, "Ann", "ann@example.com"),
        ("bob", D, U, "Bob", "bob@example.com"),
        ("anna", U, A, "Anna", "anna@corp.example"),
    )

    async def ids(search=None, user_filter=None):
        return [row[0] for row in rows_of(await engine.export_users(org, search, user_filter))[1:]]

    assert await ids() == ["ann", "anna", "bob"]
    assert await ids("ANN") == ["ann", "anna"]
    assert await ids("corp") == ["anna"]
    assert await ids(user_filter=UserFilter(license_type=S, state=D)) == ["bob"]
    assert await ids(user_filter=UserFilter(license_type=I)) == ["anna"]
    assert await ids("ann", UserFilter(state=A)) == ["ann", "anna"]
    with pytest.raises(BadRequest):
        await engine.export_users(org, "x" * 257)


# ================================================================ formula cells (CSV injection)


FORMULA_VALUES = [
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3",
    "@SUM(A1)",
    "\tTabbed",
    "\rReturn",
    "'=already quoted",
    "''=twice",
    "'plain",
    "O'Brien",
    "plain",
    "",
    "'",
    "a=b",
]


@pytest.mark.parametrize("value", FORMULA_VALUES)
def test_spec_7_formula_escape_is_exactly_undone_on_import(value):
    """OWASP CSV injection: what export writes never begins with = + - @ tab or CR, and import's
    unescape gives back exactly the stored value, whatever it was."""
    written = escape_formula(value)
    assert not written.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert unescape_formula(written) == value
    if not value.lstrip("'").startswith(("=", "+", "-", "@", "\t", "\r")):
        assert written == value  # ordinary cells are written as they are


@async_test
async def test_spec_7_formula_cells_are_exported_with_a_quote_and_reimport_to_the_same_text(engine):
    """Hostile cells are stored as text; the licenses and users files write them behind a `'` so
    that a spreadsheet shows text; re-importing the file finds the same users, changing nothing."""
    org = await seats_org(engine)
    await provisioned(
        engine,
        org,
        ("=cmd|' /C calc'!A0", A, U, '=HYPERLINK("http://evil","x")', "f1@example.com"),
        ("+1", U, A, "@SUM(1)", "-f2@example.com"),
    )
    exported = await engine.export_licenses(org)
    assert exported == (
        LICENSES_HEADER
        + '"\'=cmd|\' /C calc\'!A0","\'=HYPERLINK(""http://evil"",""x"")","f1@example.com","Assigned",""\r\n'
        + '"\'+1","\'@SUM(1)","\'-f2@example.com","","Assigned"\r\n'
    )
    users_file = await engine.export_users(org)
    assert all(
        not cell.startswith(("=", "+", "-", "@")) for row in rows_of(users_file) for cell in row
    )

    for text in (exported, users_file):
        again = await engine.import_licenses(org, ADMIN, text)
        assert again.applied and again.problems == [] and again.summary.unchanged == 2
        assert again.summary.created == 0
    assert sorted(u.id for u in await all_users(engine, org)) == ["+1", "=cmd|' /C calc'!A0"]


# ================================================================ round trips


async def busy_organization(engine, clock) -> str:
    """An organization with holders of both types, blocked and seatless users, synced users, GUIDs
    in upper case, and names that exercise quoting and formula escaping."""
    org = await seats_org(engine, standard=20, inspections=20, name="Source")
    await provisioned(
        engine,
        org,
        ("1A75199F-A48B-40D4-B9BC-2EA05FAA8197", U, A, "Matt Ford", "someone51@example.com"),
        ("10ac88c8-2226-4a98-ae0c-b7f57df0c4d3", A, U, "Pete Porter", "someone57@example.com"),
        ("q1", A, D, 'Quote "Q" Person, Esq.', "Q1@Example.com"),
        ("semi", D, A, "Semi; Colon", "semi@example.com"),
        ("=formula", A, U, "-minus name", "+plus@example.com"),
        ("uni", U, A, "Zoë Ünicode 日本", "zoe@example.com"),
        ("same-name-b", A, U, "Twin", "twin-b@example.com"),
        ("same-name-a", U, A, "twin", "twin-a@example.com"),
        ("blocked", D, D, "Blocked", "blocked@example.com"),
        ("seatless", U, U, "Seatless", "seatless@example.com"),
    )
    clock.advance(hours=3)
    await sync(engine, org, "synced", name="Synced Later")
    return org


def assignments(users) -> dict[str, tuple]:
    """Who holds which seat type."""
    return {u.id: u.active_license for u in users if u.active_license is not None}


@async_test
async def test_spec_7_round_trip_export_import_elsewhere_export_is_byte_identical(engine, clock):
    """SPEC 7: export from one organization, import into a fresh one (another environment): the
    users are created with identical assignments, and exporting again gives the same bytes."""
    source = await busy_organization(engine, clock)
    exported = await engine.export_licenses(source)
    assert len(rows_of(exported)) == 1 + 8

    target = await seats_org(engine, standard=20, inspections=20, name="Target")
    clock.advance(days=2)
    report = await engine.import_licenses(target, ADMIN, exported)
    assert report.applied and report.problems == []
    assert (report.summary.rows, report.summary.created, report.summary.assigned) == (8, 8, 8)

    assert assignments(await all_users(engine, target)) == assignments(
        await all_users(engine, source)
    )
    again = await engine.export_licenses(target)
    assert again.encode("utf-8") == exported.encode("utf-8")

    # And back into the source with REPLACE: a restore that changes nothing.
    restore = await engine.import_licenses(source, ADMIN, again, ImportMode.REPLACE)
    assert restore.applied and restore.summary.unchanged == 8
    assert (restore.summary.assigned, restore.summary.unassigned, restore.summary.created) == (
        0,
        0,
        0,
    )


@async_test
async def test_spec_7_users_file_reimports_with_disabled_states(engine, clock):
    """SPEC 7: `Disabled` in a users export re-imports as DISABLED (the Last Sync column is
    ignored): into a fresh organization every user comes back with both selectors as they were."""
    source = await busy_organization(engine, clock)
    users_file = await engine.export_users(source)

    target = await seats_org(engine, standard=20, inspections=20, name="Target")
    report = await engine.import_licenses(target, ADMIN, users_file)
    assert report.applied and report.problems == []
    assert report.summary.created == 11

    def selectors(users):
        return {u.id: u.selectors for u in users}

    assert selectors(await all_users(engine, target)) == selectors(await all_users(engine, source))
    same = await engine.import_licenses(source, ADMIN, users_file)
    assert same.applied and same.summary.unchanged == 11


@async_test
async def test_spec_6a_streamed_users_export_fails_before_its_first_line(engine):
    """A search SPEC 6a refuses (over 256 characters) fails the stream before any line is written,
    so a download never starts with a header and then breaks."""
    org = await seats_org(engine)
    lines = engine.iter_export_users(org, "x" * 257)
    with pytest.raises(BadRequest):
        await lines.__anext__()
    with pytest.raises(BadRequest):
        await engine.iter_export_licenses("no-such-organization").__anext__()
