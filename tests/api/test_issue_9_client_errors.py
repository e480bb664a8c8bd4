"""Issue 9 finding 9: errors that are the client's get a typed error, never INTERNAL_SERVER_ERROR.

A `syncLog`/`auditLog` cursor holding a naive timestamp was a 500-like masked error, and
`subscriptions(organizationId: "nope")` as OPERATOR too. Every cursor argument is swept here with
malformed, foreign and tampered values.
"""

from __future__ import annotations

import base64

import orjson
import pytest


def _cursor(*parts: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(parts)).decode("ascii")


LISTINGS = {
    "users": "query ($after: String) { users(first: 2, after: $after) { edges { cursor } } }",
    "syncLog": "query ($after: String) { syncLog(first: 2, after: $after) { edges { cursor } } }",
    "auditLog": "query ($after: String) { auditLog(first: 2, after: $after) { edges { cursor } } }",
    "adminLog": "query ($after: String) { adminLog(first: 2, after: $after) { edges { cursor } } }",
}

BAD_CURSORS = {
    "not-base64": "%%%not base64%%%",
    "base64-of-garbage": base64.urlsafe_b64encode(b"\xff\xfe\x00garbage").decode(),
    "json-object": _cursor({"a": 1})[:0] + base64.urlsafe_b64encode(b'{"a": 1}').decode(),
    "wrong-arity": _cursor("a"),
    "numbers": _cursor(1, 2),
    "naive-timestamp": _cursor("2026-01-01T00:00:00", "x"),
    "extreme-offset": _cursor("0001-01-01T00:00:00+23:59", "x"),
    "not-a-timestamp": _cursor("yesterday", "x"),
    "huge": "A" * 20_000,
    "whitespace": "   ",
    "nul": "\x00",
}


TIMESTAMPS = {"naive-timestamp", "extreme-offset", "not-a-timestamp"}


@pytest.fixture
def listed(api, org):
    """An organization with a few users, sync-log and audit entries, so every listing pages."""
    for i in range(3):
        api.sync(org.sync, f"u{i}")
    api.add_subscription(org, "STANDARD", 5)
    api.set_state(org, ["u0", "u1", "u2"], "STANDARD", "ASSIGNED")
    return org


def _answer(api, token, field, after):
    status, body = api.query(LISTINGS[field], {"after": after}, token)
    assert status == 200, body
    codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
    assert "INTERNAL_SERVER_ERROR" not in codes, body
    return body, codes


@pytest.mark.parametrize("field", sorted(LISTINGS))
@pytest.mark.parametrize("kind", sorted(BAD_CURSORS))
def test_finding_9_a_malformed_cursor_is_bad_user_input(api, listed, field, kind):
    body, codes = _answer(api, listed.admin, field, BAD_CURSORS[kind])
    if field == "users" and kind in TIMESTAMPS:
        return  # two strings are a position in name order: a page, asserted not internal above
    assert codes == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["message"] == "the cursor `after` is not one this server gave out"


@pytest.mark.parametrize("field", sorted(LISTINGS))
def test_finding_9_foreign_and_tampered_cursors_are_never_internal_errors(api, listed, field):
    """Cursors of another listing, and a valid cursor with one character changed."""
    cursors = {}
    for name in LISTINGS:
        body, _ = _answer(api, listed.admin, name, None)
        cursors[name] = body["data"][name]["edges"][0]["cursor"]
    for foreign in cursors.values():
        _answer(api, listed.admin, field, foreign)
    valid = cursors[field]
    for index in range(len(valid)):
        tampered = valid[:index] + ("A" if valid[index] != "A" else "B") + valid[index + 1 :]
        _answer(api, listed.admin, field, tampered)


def test_finding_9_subscriptions_of_an_unknown_organization_is_typed(api, org):
    status, body = api.query(
        '{ subscriptions(organizationId: "nope") { licenseType } }', token=api.operator
    )
    assert status == 200
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"]["code"] == "ORGANIZATION_NOT_FOUND"
    assert error["message"] == "no organization 'nope'"


def test_finding_9_the_sweep_covers_every_cursor_argument_of_the_schema():
    """Issue 9: every `after` argument of the schema is swept above (a new one joins LISTINGS)."""
    from pathlib import Path

    from graphql import GraphQLObjectType, build_schema

    sdl = Path(__file__).resolve().parents[2] / "schema.graphql"
    schema = build_schema(sdl.read_text(encoding="utf-8"))
    paged = {
        (type_.name, name)
        for type_ in schema.type_map.values()
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__")
        for name, field in type_.fields.items()
        if "after" in field.args
    }
    assert paged == {("Query", field) for field in LISTINGS}
