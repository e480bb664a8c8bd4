"""SPEC 4.1, Input and user: the sync's input checks run in a fixed order and the first failing
one decides — the input's shape (an empty, over-long or control-character id, a malformed email)
is INVALID_INPUT; then an unknown projectId is PROJECT_NOT_FOUND; then an email held by another
user is EMAIL_TAKEN. All are userErrors, never license errors, and change nothing but the sync log.
"""

from __future__ import annotations

import asyncio
import itertools

import pytest
from seatkeeper.rules.fields import InputField

from tests.rules.rules_support import (
    S,
    all_users,
    async_test,
    buy,
    new_org,
    snapshot,
    sync,
    sync_entries,
)

BAD_SHAPES = {
    "empty id": {"user_id": ""},
    "whitespace id": {"user_id": "   "},
    "over-long id": {"user_id": "x" * 129},
    "control-character id": {"user_id": "a\x07b"},
    "C1 control id": {"user_id": "a\x85b"},
    "malformed email": {"email": "not-an-email"},
    "empty email": {"email": ""},
}
UNKNOWN_PROJECT = {"project": "no-such-project"}
TAKEN_EMAIL = {"email": "owner@example.com"}


async def org_with_owner(engine):
    org = await new_org(engine)
    await buy(engine, org, S, 5)
    outcome = await sync(engine, org, "owner", email="owner@example.com")
    assert outcome.license is not None
    return org


def attempt(**changes) -> dict:
    values = {"user_id": "newcomer", "email": "newcomer@example.com", "project": None}
    values.update(changes)
    return values


async def one_sync(engine, org, values: dict):
    return await sync(
        engine, org, values["user_id"], email=values["email"], project=values["project"]
    )


@pytest.mark.parametrize(
    "shape, others",
    [
        (shape, others)
        for shape in BAD_SHAPES
        for others in ([], ["project"], ["email"], ["project", "email"])
        if not (others and "email" in others and "email" in BAD_SHAPES[shape])
    ],
)
def test_spec_4_1_input_shape_is_checked_first(engine, shape, others):
    """A bad shape is INVALID_INPUT whatever else is wrong (unknown project, taken email)."""

    async def scenario():
        org = await org_with_owner(engine)
        before = await snapshot(engine, org)
        log_before = len(await sync_entries(engine, org))
        values = attempt(**BAD_SHAPES[shape])
        if "project" in others:
            values.update(UNKNOWN_PROJECT)
        if "email" in others:
            values.update(TAKEN_EMAIL)
        outcome = await one_sync(engine, org, values)
        assert [e.code for e in outcome.user_errors][:1] == ["INVALID_INPUT"]
        assert {e.code for e in outcome.user_errors} == {"INVALID_INPUT"}
        assert outcome.error is None and outcome.license is None
        assert await snapshot(engine, org) == before
        entries = await sync_entries(engine, org)
        assert len(entries) == log_before + 1 and entries[-1].error_code == "INVALID_INPUT"

    asyncio.run(scenario())


@async_test
async def test_spec_4_1_unknown_project_comes_before_a_taken_email(engine):
    org = await org_with_owner(engine)
    before = await snapshot(engine, org)
    outcome = await one_sync(engine, org, attempt(**UNKNOWN_PROJECT, **TAKEN_EMAIL))
    assert [(e.code, e.field) for e in outcome.user_errors] == [
        ("PROJECT_NOT_FOUND", (InputField.PROJECT_ID,))
    ]
    assert outcome.error is None and await snapshot(engine, org) == before
    assert (await sync_entries(engine, org))[-1].error_code == "PROJECT_NOT_FOUND"


@async_test
async def test_spec_4_1_a_taken_email_is_the_last_input_check(engine):
    org = await org_with_owner(engine)
    before = await snapshot(engine, org)
    outcome = await one_sync(engine, org, attempt(**TAKEN_EMAIL))
    assert [(e.code, e.field) for e in outcome.user_errors] == [
        ("EMAIL_TAKEN", (InputField.EMAIL,))
    ]
    assert outcome.error is None and await snapshot(engine, org) == before
    assert (await sync_entries(engine, org))[-1].error_code == "EMAIL_TAKEN"
    assert [u.id for u in await all_users(engine, org)] == ["owner"]


@async_test
async def test_spec_4_1_every_combination_reports_only_the_first_failing_check(engine):
    """All 2^3 combinations of the three kinds of fault: the answer is the first in SPEC order."""
    org = await org_with_owner(engine)
    for bad_shape, bad_project, taken in itertools.product((False, True), repeat=3):
        values = attempt()
        if bad_shape:
            values["user_id"] = ""
        if bad_project:
            values.update(UNKNOWN_PROJECT)
        if taken:
            values.update(TAKEN_EMAIL)
        outcome = await one_sync(engine, org, values)
        expected = (
            "INVALID_INPUT"
            if bad_shape
            else "PROJECT_NOT_FOUND"
            if bad_project
            else "EMAIL_TAKEN"
            if taken
            else None
        )
        codes = [e.code for e in outcome.user_errors]
        assert codes == ([expected] if expected else []), (bad_shape, bad_project, taken)
