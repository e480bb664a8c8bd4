"""SPEC 8 and 9 (issue 9, "audit actors that identify"): administrative changes that are not
selector changes — organizations, settings, projects, subscriptions, tokens created and revoked —
go to an administration log with the same actor as the audit log (token id and role, name beside
them), readable by the organization's ADMIN (its own only) and by the OPERATOR (any)."""

from __future__ import annotations

from tests.api.api_support import iso

ADMIN_LOG = """query ($org: ID, $first: Int, $after: String, $filter: AdminLogFilter) {
  adminLog(organizationId: $org, first: $first, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id at action targetId details actor actorRole actorTokenId } }
  }
}"""
CREATE_TOKEN = """mutation ($org: ID!, $name: String!, $role: Role!) {
  createToken(input: {organizationId: $org, role: $role, name: $name}) {
    token tokenId userErrors { code }
  }
}"""
REVOKE_TOKEN = """mutation ($id: ID!) { revokeToken(id: $id) { userErrors { code } } }"""


def _log(api, token, org_id=None, **variables) -> list[dict]:
    status, body = api.query(ADMIN_LOG, {"org": org_id, "first": 50, **variables}, token)
    assert status == 200 and "errors" not in body, body
    return [e["node"] for e in body["data"]["adminLog"]["edges"]]


def _codes(api, token, org_id=None, **variables) -> list[str]:
    _, body = api.query(ADMIN_LOG, {"org": org_id, **variables}, token)
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def _whoami(api, token) -> str:
    _, body = api.query("{ viewer { tokenId } }", {}, token)
    return body["data"]["viewer"]["tokenId"]


def test_spec_8_administrative_changes_are_logged_with_who_made_them(api, org, clock):
    admin_id = _whoami(api, org.admin)
    api.add_subscription(org, "STANDARD", seats=5)
    clock.advance(minutes=1)
    api.settings(org, autoAssignLicenses=True, inactivityDays=30)
    api.settings(org, autoAssignLicenses=True)  # changes nothing: not logged
    api.project(org, "site", "INSPECTIONS", "Site")
    api.project(org, "site", "INSPECTIONS", "Site B")
    _, body = api.query(CREATE_TOKEN, {"org": org.id, "name": "ci", "role": "SYNC"}, org.admin)
    ci_id = body["data"]["createToken"]["tokenId"]
    _, body = api.query(REVOKE_TOKEN, {"id": ci_id}, org.admin)
    assert body["data"]["revokeToken"]["userErrors"] == []

    nodes = _log(api, org.admin)
    assert [n["action"] for n in nodes] == [
        "TOKEN_REVOKED",
        "TOKEN_CREATED",
        "PROJECT_CHANGED",
        "PROJECT_CREATED",
        "SETTINGS_CHANGED",
        "SUBSCRIPTION_ADDED",
        "TOKEN_CREATED",  # the organization's first SYNC and ADMIN tokens, by the OPERATOR
        "TOKEN_CREATED",
        "ORGANIZATION_CREATED",
    ]
    by_admin = nodes[:5]
    assert {(n["actor"], n["actorRole"], n["actorTokenId"]) for n in by_admin} == {
        ("admin", "ADMIN", admin_id)
    }
    assert {(n["actor"], n["actorRole"], n["actorTokenId"]) for n in nodes[5:]} == {
        ("OPERATOR", "OPERATOR", None)
    }
    assert nodes[0]["targetId"] == nodes[1]["targetId"] == ci_id
    assert "SYNC" in nodes[1]["details"] and "'ci'" in nodes[1]["details"]
    assert nodes[4]["details"] == "auto-assign licenses: false -> true, inactivity days: 90 -> 30"
    assert nodes[2]["details"] == "name 'Site' -> 'Site B', kind INSPECTIONS -> INSPECTIONS"
    assert nodes[-1]["targetId"] == org.id
    # The time range filter, as the other logs have it.
    since = _log(api, org.admin, filter={"since": iso(clock())})
    assert [n["action"] for n in since] == [n["action"] for n in nodes[:5]]


def test_spec_9_an_admin_reads_its_own_organization_the_operator_any(api, org, org_b):
    api.settings(org_b, autoFreeUpLicenses=True)
    # The OPERATOR names the organization; without one it is told to.
    theirs = _log(api, api.operator, org_b.id)
    assert theirs[0]["action"] == "SETTINGS_CHANGED"
    assert _codes(api, api.operator) == ["BAD_USER_INPUT"]
    # An ADMIN reads its own, with or without naming it; another's is FORBIDDEN.
    assert _log(api, org.admin) == _log(api, org.admin, org.id)
    assert "SETTINGS_CHANGED" not in [n["action"] for n in _log(api, org.admin)]
    assert _codes(api, org.admin, org_b.id) == ["FORBIDDEN"]
    # READER and SYNC may not read it.
    _, body = api.query(CREATE_TOKEN, {"org": org.id, "name": "r", "role": "READER"}, org.admin)
    reader = body["data"]["createToken"]["token"]
    assert _codes(api, reader) == ["FORBIDDEN"]
    assert _codes(api, org.sync) == ["FORBIDDEN"]


def test_spec_8_the_admin_log_pages_with_opaque_cursors(api, org):
    for i in range(5):
        api.project(org, f"p{i}", "STANDARD")
    everything = _log(api, org.admin)
    walked, after = [], None
    while True:
        status, body = api.query(ADMIN_LOG, {"first": 2, "after": after}, org.admin)
        assert status == 200 and "errors" not in body, body
        page = body["data"]["adminLog"]
        walked += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == everything and len(everything) == 8
    assert _codes(api, org.admin, first=0) == ["BAD_USER_INPUT"]
    assert _codes(api, org.admin, first=501) == ["BAD_USER_INPUT"]
    assert _codes(api, org.admin, after="not a cursor") == ["BAD_USER_INPUT"]
