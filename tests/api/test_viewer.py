"""`viewer` (issue 13): any caller, whatever its role, learns its role, token and organization.

SPEC 9: the organization comes from the token; the OPERATOR has none; a SYNC token may only sync,
so it learns its organization's id but not its settings.
"""

from __future__ import annotations

import pytest

VIEWER = """
query Viewer {
  viewer {
    role tokenId tokenName organizationId
    organization { id name settings { inactivityDays } }
  }
}
"""

CREATE_TOKEN = """
mutation CreateToken($input: CreateTokenInput!) {
  createToken(input: $input) { token tokenId userErrors { code message } }
}
"""


def _viewer(api, token: str | None) -> tuple[int, dict]:
    return api.query(VIEWER, token=token)


def _token(api, org, role: str, name: str) -> tuple[str, str]:
    status, body = api.query(
        CREATE_TOKEN, {"input": {"organizationId": org.id, "role": role, "name": name}}, org.admin
    )
    assert status == 200, body
    created = body["data"]["createToken"]
    assert created["userErrors"] == []
    return created["token"], created["tokenId"]


@pytest.mark.parametrize("role", ["ADMIN", "READER"])
def test_spec_9_viewer_names_the_role_token_and_organization(api, org, role):
    secret, token_id = _token(api, org, role, f"{role.lower()} laptop")
    status, body = _viewer(api, secret)
    assert status == 200 and "errors" not in body, body
    assert body["data"]["viewer"] == {
        "role": role,
        "tokenId": token_id,
        "tokenName": f"{role.lower()} laptop",
        "organizationId": org.id,
        "organization": {"id": org.id, "name": "Acme", "settings": {"inactivityDays": 90}},
    }


def test_spec_9_viewer_answers_a_sync_token_without_the_organization_settings(api, org):
    secret, token_id = _token(api, org, "SYNC", "phones")
    status, body = _viewer(api, secret)
    assert status == 200 and "errors" not in body, body
    assert body["data"]["viewer"] == {
        "role": "SYNC",
        "tokenId": token_id,
        "tokenName": "phones",
        "organizationId": org.id,
        "organization": None,
    }


def test_spec_9_viewer_of_the_operator_has_no_token_and_no_organization(api, org):
    status, body = _viewer(api, api.operator)
    assert status == 200 and "errors" not in body, body
    assert body["data"]["viewer"] == {
        "role": "OPERATOR",
        "tokenId": None,
        "tokenName": None,
        "organizationId": None,
        "organization": None,
    }


@pytest.mark.parametrize("token", [None, "sk_not-a-token", " ", "x" * 10_000])
def test_spec_9_viewer_without_a_valid_token_is_unauthenticated(api, org, token):
    status, body = _viewer(api, token)
    assert status == 401  # SPEC 9: refused before the document is parsed
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]


def test_spec_9_viewer_of_a_revoked_token_is_unauthenticated(api, org):
    secret, token_id = _token(api, org, "READER", "old")
    status, body = api.query(
        "mutation R($id: ID!) { revokeToken(id: $id) { userErrors { code } } }",
        {"id": token_id},
        org.admin,
    )
    assert (status, body["data"]["revokeToken"]["userErrors"]) == (200, [])
    _, body = _viewer(api, secret)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
