"""SPEC 9: tokens — created, listed, revoked, authenticated — stored only as hashes."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from seatkeeper.domain.records import Role
from seatkeeper.rules.access import Action, Caller
from seatkeeper.rules.fields import InputField

from tests.rules.rules_support import async_test, new_org


def assert_stored_only_as_hash(token, secret: str) -> None:
    """The secret appears in no field of the stored Token; only its SHA-256 does."""
    for field in dataclasses.fields(token):
        assert secret not in str(getattr(token, field.name)), field.name
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()


@async_test
async def test_spec_9_a_new_organization_comes_with_admin_and_sync_tokens(engine):
    """SPEC 9: creating an organization returns its first ADMIN and SYNC secrets, once."""
    created = (await engine.create_organization("Acme", 0)).value
    org = created.organization.id
    admin = await engine.authenticate(created.admin_token)
    sync = await engine.authenticate(created.sync_token)
    assert (admin.role, admin.organization_id) == (Role.ADMIN, org)
    assert (sync.role, sync.organization_id) == (Role.SYNC, org)
    stored = {t.role: t for t in await engine.list_tokens(org)}
    assert_stored_only_as_hash(stored[Role.ADMIN], created.admin_token)
    assert_stored_only_as_hash(stored[Role.SYNC], created.sync_token)


@pytest.mark.parametrize("role", [Role.ADMIN, Role.SYNC, Role.READER])
@async_test
async def test_spec_9_tokens_are_created_named_with_a_role_and_stored_only_as_hash(
    engine, clock, role
):
    """SPEC 9: a token of role ADMIN, SYNC or READER; random (at least 128 bits), shown once,
    stored only as a hash; it authenticates as its role, organization and name."""
    org = await new_org(engine)
    result = await engine.create_token(org, role, "  phone fleet  ")
    assert result.ok
    secret, token = result.value.secret, result.value.token
    assert len(secret) >= 3 + 22  # "sk_" and at least 128 bits in URL-safe base64
    assert (token.name, token.role, token.organization_id, token.created_at, token.revoked_at) == (
        "phone fleet",
        role,
        org,
        clock(),
        None,
    )
    for stored in await engine.list_tokens(None):  # every token the storage holds
        assert secret not in repr(stored)
    assert_stored_only_as_hash(await engine.storage.find_token(token.secret_hash), secret)
    caller = await engine.authenticate(secret)
    assert caller == Caller(role, org, "phone fleet", token.id)


@async_test
async def test_spec_9_secrets_are_distinct(engine):
    """SPEC 9: tokens are random: no two secrets or hashes are the same."""
    org = await new_org(engine)
    secrets = [(await engine.create_token(org, Role.SYNC, f"t{n}")).value.secret for n in range(50)]
    assert len(set(secrets)) == 50
    assert len({t.secret_hash for t in await engine.list_tokens(org)}) == 52  # with the first two


@pytest.mark.parametrize(
    "role, name, code",
    [
        (Role.OPERATOR, "ok", "INVALID_INPUT"),
        (Role.READER, "", "INVALID_INPUT"),
        (Role.READER, "n" * 10_000, "INVALID_INPUT"),
        (Role.READER, "bad\x00name", "INVALID_INPUT"),
    ],
)
@async_test
async def test_spec_9_tokens_need_a_token_role_and_a_proper_name(engine, role, name, code):
    """SPEC 9: tokens are created with one of ADMIN, SYNC, READER (the OPERATOR's secret is
    configuration), and a name; nothing is stored otherwise."""
    org = await new_org(engine)
    result = await engine.create_token(org, role, name)
    assert [e.code for e in result.user_errors] == [code]
    assert len(await engine.list_tokens(org)) == 2


@pytest.mark.parametrize(
    "name", ["system", "SYSTEM", " System ", "operator", "Operator", "OPERATOR", "sYsTeM"]
)
@async_test
async def test_spec_9_system_and_operator_are_reserved_token_names(engine, name):
    """SPEC 9 (issue 9 finding 10): an ADMIN named a token `system`, and its changes read as the
    engine's own. Reserved in any case, surrounding spaces ignored."""
    org = await new_org(engine)
    result = await engine.create_token(org, Role.ADMIN, name)
    assert [(e.code, e.field) for e in result.user_errors] == [
        ("INVALID_INPUT", (InputField.NAME,))
    ]
    assert "reserved" in result.user_errors[0].message
    assert len(await engine.list_tokens(org)) == 2


@pytest.mark.parametrize("name", ["tab\there", "line\nbreak", "bell\x07", "del\x7f", "nbsp\u200b"])
@async_test
async def test_spec_9_token_names_are_printable_characters(engine, name):
    org = await new_org(engine)
    result = await engine.create_token(org, Role.READER, name.encode().decode("unicode_escape"))
    assert [e.code for e in result.user_errors] == ["INVALID_INPUT"]


@async_test
async def test_spec_9_token_names_of_1_and_100_characters_are_accepted(engine):
    org = await new_org(engine)
    for name in ("x", "n" * 100, "système-2 (phones)"):
        assert (await engine.create_token(org, Role.READER, name)).user_errors == []
    assert (await engine.create_token(org, Role.READER, "n" * 101)).user_errors


@async_test
async def test_spec_9_token_for_an_unknown_organization_is_organization_not_found(engine):
    result = await engine.create_token("missing", Role.READER, "r")
    assert [e.code for e in result.user_errors] == ["ORGANIZATION_NOT_FOUND"]


@async_test
async def test_spec_9_tokens_are_listed_per_organization_or_all(engine):
    """SPEC 9: an ADMIN lists its organization's tokens, the OPERATOR all of them."""
    acme = await new_org(engine, name="Acme")
    globex = await new_org(engine, name="Globex")
    await engine.create_token(acme, Role.READER, "reader")
    assert sorted(t.name for t in await engine.list_tokens(acme)) == ["admin", "reader", "sync"]
    assert {t.organization_id for t in await engine.list_tokens(globex)} == {globex}
    assert len(await engine.list_tokens(None)) == 5


@async_test
async def test_spec_9_a_revoked_token_no_longer_authenticates(engine, clock):
    """SPEC 9: tokens are revocable; revoking twice keeps the first time."""
    org = await new_org(engine)
    created = (await engine.create_token(org, Role.SYNC, "device")).value
    revoked_at = clock.advance(days=1)

    result = await engine.revoke_token(created.token.id, org)

    assert result.ok and result.value.revoked_at == revoked_at
    assert await engine.authenticate(created.secret) is None
    clock.advance(days=1)
    again = await engine.revoke_token(created.token.id, None)
    assert again.ok and again.value.revoked_at == revoked_at


@async_test
async def test_spec_9_revoking_an_unknown_or_foreign_token_is_token_not_found(engine):
    """SPEC 9: an unknown token id is TOKEN_NOT_FOUND; an ADMIN cannot reach another
    organization's token (the same answer, and it stays valid); the OPERATOR can."""
    acme = await new_org(engine, name="Acme")
    globex = await new_org(engine, name="Globex")
    foreign = (await engine.create_token(globex, Role.READER, "theirs")).value

    unknown = await engine.revoke_token("no-such-token", acme)
    hostile = await engine.revoke_token("x" * 10_000, acme)
    across = await engine.revoke_token(foreign.token.id, acme)

    for result in (unknown, hostile, across):
        assert [(e.code, e.field) for e in result.user_errors] == [
            ("TOKEN_NOT_FOUND", (InputField.ID,))
        ]
    assert len(hostile.user_errors[0].message) < 200  # the message does not echo 10k characters
    assert await engine.authenticate(foreign.secret) is not None
    assert (await engine.revoke_token(foreign.token.id, None)).ok
    assert await engine.authenticate(foreign.secret) is None


@async_test
async def test_spec_9_unknown_or_hostile_secrets_do_not_authenticate(engine):
    """SPEC 9: a missing or unknown token is refused: empty, huge, control characters, a lone
    surrogate, a near miss of a real secret, and the stored hash itself."""
    org = await new_org(engine)
    created = (await engine.create_token(org, Role.ADMIN, "admin-2")).value
    secret = created.secret
    hostile = [
        "",
        "sk_",
        "x" * 10_000,
        "\x00" * 64,
        "\ud800",
        secret + "\n",
        " " + secret,
        secret.upper(),
        secret[:-1],
        "Bearer " + secret,
        created.token.secret_hash,
    ]
    for value in hostile:
        assert await engine.authenticate(value) is None, repr(value[:40])
    assert await engine.authenticate(secret) is not None


@pytest.mark.parametrize(
    "role, allowed",
    [
        (Role.ADMIN, {Action.SYNC, Action.READ, Action.ADMINISTER, Action.MANAGE_TOKENS}),
        (Role.SYNC, {Action.SYNC}),
        (Role.READER, {Action.READ}),
    ],
)
def test_spec_9_organization_roles_may_do_what_spec_9_lists(role, allowed):
    """SPEC 9, Roles: ADMIN administers one organization (not the vendor side), SYNC only syncs,
    READER only reads."""
    caller = Caller(role, "org", "name")
    assert {action for action in Action if caller.may(action)} == allowed


def test_spec_9_the_operator_manages_organizations_subscriptions_and_tokens():
    """SPEC 9, Roles: OPERATOR: organizations, subscriptions, tokens of any organization."""
    operator = Caller(Role.OPERATOR, None, "operator")
    assert operator.may(Action.OPERATE) and operator.may(Action.MANAGE_TOKENS)
    assert not operator.may(Action.SYNC)
