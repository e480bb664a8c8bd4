"""Issue 9, "audit actors that identify": tokens show when they were last used, and may be
created with an expiry (SPEC 9). An expired token is refused before the document is read, like
an unknown one. The last use is recorded coarsely: no storage write per request."""

from __future__ import annotations

from datetime import timedelta

from tests.api.api_support import assert_unauthenticated, iso

CREATE_TOKEN = """mutation ($org: ID!, $name: String!, $expiresAt: DateTime) {
  createToken(input: {organizationId: $org, role: READER, name: $name, expiresAt: $expiresAt}) {
    token tokenId userErrors { code field }
  }
}"""
TOKENS = "{ tokens { id expiresAt lastUsedAt } }"
VIEWER = {"query": "{ viewer { role } }"}


def _create(api, org, expires_at=None) -> dict:
    variables = {"org": org.id, "name": "laptop", "expiresAt": expires_at}
    _, body = api.query(CREATE_TOKEN, variables, org.admin)
    return body["data"]["createToken"]


def _token(api, org, token_id: str) -> dict:
    _, body = api.query(TOKENS, {}, org.admin)
    (found,) = [t for t in body["data"]["tokens"] if t["id"] == token_id]
    return found


def test_spec_9_an_expired_token_is_refused_like_an_unknown_one(api, org, clock):
    created = _create(api, org, iso(clock() + timedelta(hours=1)))
    assert created["userErrors"] == []
    assert _token(api, org, created["tokenId"])["expiresAt"] == iso(clock() + timedelta(hours=1))
    assert api.post(VIEWER, created["token"]).status_code == 200
    clock.advance(minutes=59, seconds=59)
    assert api.post(VIEWER, created["token"]).status_code == 200
    clock.advance(seconds=1)
    assert_unauthenticated(api.post(VIEWER, created["token"]))
    assert_unauthenticated(api.post(VIEWER, "sk_not-a-token"))  # the same answer
    # A token without an expiry keeps working.
    assert api.post(VIEWER, org.admin).status_code == 200


def test_spec_9_an_expiry_must_lie_in_the_future(api, org, clock):
    for when in (clock(), clock() - timedelta(days=1)):
        created = _create(api, org, iso(when))
        assert created["token"] is None
        assert created["userErrors"] == [{"code": "INVALID_INPUT", "field": ["input", "expiresAt"]}]


def test_last_used_at_is_recorded_at_most_once_a_minute_per_token(api, org, clock, app):
    storage = app.state.engine.storage
    touches: list[str] = []
    touch = storage.touch_token

    async def counting(token_id, at):
        touches.append(token_id)
        await touch(token_id, at)

    storage.touch_token = counting
    created = _create(api, org)
    token, token_id = created["token"], created["tokenId"]
    assert _token(api, org, token_id)["lastUsedAt"] is None  # never used
    first_use = clock()
    for _ in range(20):
        assert api.post(VIEWER, token).status_code == 200
    assert touches.count(token_id) == 1  # twenty requests, one write
    assert _token(api, org, token_id)["lastUsedAt"] == iso(first_use)
    clock.advance(seconds=59)
    api.post(VIEWER, token)
    assert touches.count(token_id) == 1
    assert _token(api, org, token_id)["lastUsedAt"] == iso(first_use)  # within the minute
    clock.advance(seconds=1)
    api.post(VIEWER, token)
    assert touches.count(token_id) == 2
    assert _token(api, org, token_id)["lastUsedAt"] == iso(clock())
