"""SPEC 7 through the API for spreadsheet users (issue 16): the `bom` option of every export
(GraphQL fields and the /export/*.csv downloads), the import's problem total and counts, and a
Windows-1252 file a client decoded leniently refused as NOT_UTF8 — with and without a token."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.api_support import assert_clean

FILES = Path(__file__).resolve().parent.parent / "data" / "spreadsheets"
BOM = "\ufeff"

EXPORTS = {
    "licenses": "query($bom: Boolean) { exportLicenses(bom: $bom) }",
    "users": "query($bom: Boolean) { exportUsers(bom: $bom) }",
}


@pytest.fixture
def holder(api, org):
    api.add_subscription(org, "STANDARD", seats=2)
    api.create_users(
        org,
        {"id": "j1", "fullName": "José Müller", "email": "j@example.com", "standard": "ASSIGNED"},
    )
    return org


@pytest.mark.parametrize("kind", EXPORTS)
def test_csv_7_graphql_exports_take_a_bom_option_default_as_today(api, holder, kind):
    """SPEC 7, Export options: `bom: true` puts a byte-order mark first (Excel needs it to read
    UTF-8); absent or false, the file is as before, byte for byte."""
    field = f"export{kind.title()}"
    status, plain = api.query(EXPORTS[kind], {}, holder.admin)
    assert status == 200 and "errors" not in plain
    text = plain["data"][field]
    assert text.startswith('"Id","Full Name"') and "José Müller" in text
    status, off = api.query(EXPORTS[kind], {"bom": False}, holder.admin)
    assert off["data"][field] == text
    status, on = api.query(EXPORTS[kind], {"bom": True}, holder.admin)
    assert on["data"][field] == BOM + text
    # The contract's own operation (no argument) is unchanged.
    contract = api.data(f"Export{kind.title()}", {}, holder.admin)[field]
    assert contract == text


@pytest.mark.parametrize("kind", EXPORTS)
def test_csv_7_download_routes_take_bom_1(client, holder, kind):
    """SPEC 7, Export options: /export/*.csv?bom=1 starts with the UTF-8 BOM bytes; bom=0 or no
    parameter gives today's bytes; any other value is a 400 that says what is allowed."""
    headers = {"Authorization": f"Bearer {holder.admin}"}
    path = f"/export/{kind}.csv"
    plain = client.get(path, headers=headers)
    assert plain.status_code == 200 and plain.content.startswith(b'"Id"')
    for value in ("1", "true"):
        with_bom = client.get(path, params={"bom": value}, headers=headers)
        assert with_bom.status_code == 200
        assert with_bom.content == b"\xef\xbb\xbf" + plain.content
        assert with_bom.headers["content-type"].startswith("text/csv; charset=utf-8")
    for value in ("0", "false"):
        assert client.get(path, params={"bom": value}, headers=headers).content == plain.content
    for hostile in ("yes", "", "2", "1" * 10_000, "\x00", "<script>"):
        response = client.get(path, params={"bom": hostile}, headers=headers)
        assert_clean(response)
        assert response.status_code == 400, hostile
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "bom" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("kind", EXPORTS)
def test_csv_7_bom_exports_need_a_reading_token(api, client, holder, kind):
    status, body = api.query(EXPORTS[kind], {"bom": True}, None)
    assert status == 401 or body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    status, body = api.query(EXPORTS[kind], {"bom": True}, holder.sync)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert client.get(f"/export/{kind}.csv", params={"bom": "1"}).status_code == 401
    bad_value = client.get(f"/export/{kind}.csv", params={"bom": "yes"})
    assert bad_value.status_code == 401  # the token is checked first


@pytest.mark.parametrize("kind", EXPORTS)
@pytest.mark.parametrize("hostile", ["yes", 1, None, [True], {"a": 1}, "x" * 100_000])
def test_csv_7_graphql_bom_of_a_wrong_type_is_a_clear_error(api, holder, kind, hostile):
    """`bom` is a non-null Boolean (default false): anything else, null included, is refused by
    validation with a message naming the type, never a stack trace."""
    _status, body = api.query(EXPORTS[kind], {"bom": hostile}, holder.admin)
    assert body.get("data") is None and body["errors"], body
    assert "Boolean" in body["errors"][0]["message"]


IMPORT = """
mutation($input: ImportLicensesInput!) {
  importLicenses(input: $input) {
    applied
    problems { line code severity message }
    problemTotal
    problemCounts { code count }
    userErrors { code }
  }
}
"""


def test_csv_7_windows_1252_file_sent_through_graphql_is_not_utf8(api, org):
    """Issue 16, finding 1, through GraphQL: a client that decodes a Windows-1252 file leniently
    sends U+FFFD; the answer is one NOT_UTF8 problem with the advice, and nothing is stored."""
    data = (FILES / "lo-windows-1252.csv").read_bytes()
    text = data.decode("utf-8", errors="replace")
    status, body = api.query(IMPORT, {"input": {"csv": text}}, org.admin)
    assert status == 200 and "errors" not in body, body
    report = body["data"]["importLicenses"]
    assert report["applied"] is False
    assert [(p["line"], p["code"]) for p in report["problems"]] == [(5, "NOT_UTF8")]
    assert "save it from your spreadsheet as 'CSV UTF-8'" in report["problems"][0]["message"]
    assert report["problemTotal"] == 1
    assert report["problemCounts"] == [{"code": "NOT_UTF8", "count": 1}]
    assert api.user(org, "u-jose") is None


def test_csv_7_import_payload_gives_total_and_counts_beyond_the_listed_problems(api, org):
    rows = "".join(f"u{i},U,bad-{i},Maybe,\r\n" for i in range(600))
    text = "Id,Full Name,Email,Standard,Inspections\r\n" + rows
    status, body = api.query(IMPORT, {"input": {"csv": text, "dryRun": True}}, org.admin)
    report = body["data"]["importLicenses"]
    assert len(report["problems"]) == 1000
    assert report["problemTotal"] == 1200
    assert sorted((c["code"], c["count"]) for c in report["problemCounts"]) == [
        ("BAD_EMAIL", 600),
        ("BAD_VALUE", 600),
    ]
    status, body = api.query(IMPORT, {"input": {"csv": text}}, None)
    assert status == 401 or body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
