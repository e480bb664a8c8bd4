"""SPEC 1, Mobile user: an id is 1–128 characters, no control characters, not only whitespace; a
value that parses as a GUID (surrounding spaces, braces and missing hyphens allowed) is the same
user in any of those spellings and in any case; any other id is compared exactly.

The rules run on the real engine and memory storage (sync, provisioning, import), and on
`user_key`/`user_id_problem`, the two functions every path uses."""

from __future__ import annotations

import pytest
from seatkeeper.domain.records import user_key
from seatkeeper.rules.decisions import user_id_problem
from seatkeeper.rules.licenses_csv import ImportMode

from tests.rules.rules_support import (
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
    set_state,
    sync,
)

GUID = "1a75199f-a48b-40d4-b9bc-2ea05faa8197"
HEX = GUID.replace("-", "")

SPELLINGS = [
    GUID,
    GUID.upper(),
    "{" + GUID + "}",
    "{" + GUID.upper() + "}",
    "  " + GUID + " ",
    " {" + GUID + "}  ",
    HEX,
    HEX.upper(),
    "{" + HEX + "}",
    GUID.replace("-", "", 2),  # some hyphens missing
]

# Look like GUIDs to a lenient parser (Python's uuid.UUID accepts them all) but are not GUID
# spellings: compared exactly, each its own user.
NOT_GUIDS = [
    "urn:" + HEX,
    "uuid:" + HEX,
    "{{" + GUID + "}}",
    "{" + GUID,
    GUID + "}",
    "}" + GUID + "{",
    "1a75-199fa48b40d4b9bc2ea05faa8197",  # a hyphen out of place
    GUID + "0",
    GUID[:-1],
    GUID.replace("a", "g", 1),
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_spec_1_every_guid_spelling_has_one_key(spelling):
    assert user_key(spelling) == GUID


@pytest.mark.parametrize("other", NOT_GUIDS)
def test_spec_1_ids_that_are_not_guid_spellings_are_compared_exactly(other):
    assert user_key(other) == other


def test_spec_1_other_ids_are_compared_exactly():
    for one, other in (("pat", "Pat"), ("pat", " pat"), ("0012", "12"), ("ß", "SS")):
        assert user_key(one) != user_key(other)


@async_test
async def test_spec_1_a_guid_in_any_spelling_is_one_user_on_every_path(engine):
    """Sync, set state and import find the user created under one spelling by every other."""
    org = await new_org(engine)
    await buy(engine, org, S, 5)
    await buy(engine, org, I, 5)
    for spelling in SPELLINGS:
        outcome = await sync(engine, org, spelling, email="matt@example.com", name="Matt")
        assert not outcome.user_errors, (spelling, outcome.user_errors)
    assert len(await all_users(engine, org)) == 1
    for spelling in SPELLINGS:
        assert (await set_state(engine, org, [spelling], S, A)).ok
        assert (await get(engine, org, spelling)).id == GUID
    rows = "".join(f'"{s}",,,,Assigned\r\n' for s in ("{" + HEX.upper() + "}",))
    report = await engine.import_licenses(
        org, "admin", "Id,Full Name,Email,Standard,Inspections\r\n" + rows, ImportMode.MERGE, False
    )
    assert report.applied and report.summary.created == 0 and report.summary.assigned == 1
    assert len(await all_users(engine, org)) == 1


@async_test
async def test_spec_1_look_alike_ids_are_separate_users(engine):
    org = await new_org(engine)
    await provisioned(engine, org, (GUID, U, U))
    for index, other in enumerate(NOT_GUIDS):
        outcome = await sync(engine, org, other, email=f"other{index}@example.com")
        assert not outcome.user_errors, (other, outcome.user_errors)
    assert len(await all_users(engine, org)) == 1 + len(NOT_GUIDS)


@pytest.mark.parametrize(
    "user_id",
    [
        "",
        " ",
        "\t \u3000\xa0",  # only whitespace, Unicode's included
        "x" * 129,
        "a\x00b",
        "a\nb",
        "a\x1fb",
        "a\x7fb",
        "a\x85b",  # C1 control (NEL)
        "a\x9fb",
        "a\ud800b",  # a lone surrogate
    ],
)
def test_spec_1_unacceptable_ids(user_id):
    assert user_id_problem(user_id) is not None


@pytest.mark.parametrize("user_id", ["x", "x" * 128, " padded ", "José", "日本語", "a b", "0012"])
def test_spec_1_acceptable_ids(user_id):
    assert user_id_problem(user_id) is None


@async_test
async def test_spec_1_a_control_character_id_is_refused_by_sync(engine):
    org = await new_org(engine)
    for bad in ("a\x85b", "\u3000", "x" * 129):
        outcome = await sync(engine, org, bad, email="a@example.com")
        assert [e.code for e in outcome.user_errors] == ["INVALID_INPUT"]
    assert await all_users(engine, org) == []
