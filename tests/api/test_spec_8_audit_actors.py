"""SPEC 8 and 9 (issue 9 finding 10): the audit log's actor identifies who acted — the token's id
and role, its name shown beside them (never trusted alone), `OPERATOR`, or `system`."""

from __future__ import annotations

AUDIT = """query ($first: Int) {
  auditLog(first: $first) { edges { node { userId actor actorRole actorTokenId reason } } }
}"""
CREATE_TOKEN = """mutation ($org: ID!, $name: String!) {
  createToken(input: {organizationId: $org, role: ADMIN, name: $name}) {
    token tokenId userErrors { code message }
  }
}"""


def _token(api, org, name: str) -> tuple[str, str]:
    _, body = api.query(CREATE_TOKEN, {"org": org.id, "name": name}, org.admin)
    created = body["data"]["createToken"]
    assert created["userErrors"] == [], created
    return created["token"], created["tokenId"]


def _audit(api, org) -> list[dict]:
    _, body = api.query(AUDIT, {"first": 50}, org.admin)
    assert "errors" not in body, body
    return [e["node"] for e in body["data"]["auditLog"]["edges"]]


def test_spec_8_two_tokens_with_one_name_are_told_apart(api, org):
    api.add_subscription(org, "STANDARD", seats=5)
    api.create_users(org, {"id": "a1"}, {"id": "a2"})
    first_secret, first_id = _token(api, org, "laptop")
    second_secret, second_id = _token(api, org, "laptop")
    assert first_id != second_id
    for secret, user in ((first_secret, "a1"), (second_secret, "a2")):
        state = api.set_state(
            type(org)(org.id, org.name, secret, org.sync), [user], "STANDARD", "ASSIGNED"
        )
        assert state["userErrors"] == []
    nodes = {n["userId"]: n for n in _audit(api, org) if n["reason"] == "MANUAL"}
    assert (nodes["a1"]["actor"], nodes["a1"]["actorRole"], nodes["a1"]["actorTokenId"]) == (
        "laptop",
        "ADMIN",
        first_id,
    )
    assert (nodes["a2"]["actorTokenId"], nodes["a2"]["actorRole"]) == (second_id, "ADMIN")


def test_spec_8_the_engine_is_system_and_no_token_may_be_named_so(api, org):
    api.add_subscription(org, "STANDARD", seats=5)
    api.settings(org, autoAssignLicenses=True)
    api.sync(org.sync, "phone-user")
    (auto,) = [n for n in _audit(api, org) if n["reason"] == "AUTO_ASSIGN"]
    assert (auto["actor"], auto["actorRole"], auto["actorTokenId"]) == ("system", None, None)
    for name in ("system", "Operator"):
        _, body = api.query(CREATE_TOKEN, {"org": org.id, "name": name}, org.admin)
        assert [e["code"] for e in body["data"]["createToken"]["userErrors"]] == ["INVALID_INPUT"]


def test_spec_8_actor_references():
    """How an actor is recorded: `<ROLE>:<token id>` for a token, `OPERATOR`, `system`."""
    from seatkeeper.domain.records import Role
    from seatkeeper.rules.access import Caller, actor_of, read_actor

    token = Caller(Role.READER, "org", "system", "tok-1")  # a name is never trusted alone
    assert actor_of(token) == "READER:tok-1"
    assert read_actor("READER:tok-1") == ("READER", "tok-1")
    assert actor_of(Caller(Role.OPERATOR, None, "operator")) == "OPERATOR"
    assert read_actor("OPERATOR") == ("OPERATOR", None)
    assert read_actor("system") == (None, None)
    assert read_actor("an old free-text name") == (None, None)
