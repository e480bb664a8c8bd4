"""`users` and `licenses` against a real server: table and --json, all-or-nothing refusals."""

from __future__ import annotations

import pytest

from tests.cli.cli_support import (
    OPERATOR,
    add_seats,
    as_json,
    cli,
    create_organization,
    one_line,
    row,
    sync,
)


@pytest.fixture(scope="module")
def acme(served):
    organization = create_organization(served.url, "Users Co")
    add_seats(served.url, organization, "STANDARD", 3)
    add_seats(served.url, organization, "INSPECTIONS", 1)
    return organization


def _users(url: str, token: str, *arguments: str) -> list[dict]:
    return as_json(cli("users", "list", "--json", "--all", *arguments, url=url, token=token))[
        "users"
    ]


def test_spec_3_pre_provision_from_arguments_and_from_a_csv(url, acme, tmp_path):
    one = cli("users", "create", "ann", "--name", "Ann Archer", "--email", "ann@example.com",
              "--standard", "assigned", url=url, token=acme.admin)  # fmt: skip
    assert one.exit_code == 0, one.stderr
    assert row(one.stdout, "ann", "Ann", "Archer", "ann@example.com", "ASSIGNED", "UNASSIGNED")
    assert one.stderr.strip() == "created 1 user"
    file = tmp_path / "people.csv"
    file.write_text(
        "\ufeffId,Full Name,Email,Standard,Inspections\r\n"
        "bob,Bob Baker,bob@example.com,Assigned,\r\n"
        "cy,Cy Cook,cy@example.com,,Disabled\r\n"
        "dee,Dee Dunn,dee@example.com,,\r\n",
        encoding="utf-8",
    )
    many = as_json(cli("users", "create", "--csv", str(file), "--json", url=url, token=acme.admin))
    assert [(u["id"], u["standard"], u["inspections"]) for u in many] == [
        ("bob", "ASSIGNED", "UNASSIGNED"),
        ("cy", "UNASSIGNED", "DISABLED"),
        ("dee", "UNASSIGNED", "UNASSIGNED"),
    ]


def test_spec_3_creating_a_taken_email_is_refused_and_creates_nobody(url, acme, tmp_path):
    file = tmp_path / "clash.csv"
    file.write_text(
        "Id,Full Name,Email,Standard,Inspections\nnew1,New,new1@example.com,,\n"
        "new2,Clash,ann@example.com,,\n"
    )
    cli(
        "users",
        "create",
        "ann",
        "--name",
        "Ann",
        "--email",
        "ann@example.com",
        url=url,
        token=acme.admin,
    )  # fmt: skip  (may exist already)
    result = cli("users", "create", "--csv", str(file), url=url, token=acme.admin)
    assert result.exit_code == 1 and "EMAIL_TAKEN" in result.stderr
    assert _users(url, acme.admin, "--search", "new1@") == []


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("Id,Email\nx,x@example.com\n", "missing column(s) full name"),
        ("Id,Full Name,Email,Standard\nx,X,x@example.com,Maybe\n", "line 2: standard"),
        ("Id,Full Name,Email\n", "has no users"),
    ],
)
def test_a_users_file_with_errors_is_one_line_and_sends_nothing(
    url, acme, tmp_path, content, expected
):
    file = tmp_path / "bad.csv"
    file.write_text(content)
    result = cli("users", "create", "--csv", str(file), url=url, token=acme.admin)
    assert result.exit_code == 2
    assert expected in one_line(result.stderr)


def test_users_create_needs_id_name_and_email(url, acme):
    result = cli("users", "create", "zed", "--name", "Zed", url=url, token=acme.admin)
    assert result.exit_code == 2 and "--email" in one_line(result.stderr)


def test_spec_6a_users_list_with_search_filters_and_pages(url, acme):
    sync(url, acme.sync, "eve", "eve@example.com")  # a pending user, created by her sync
    table = cli("users", "list", url=url, token=acme.admin)
    assert table.exit_code == 0
    assert row(
        table.stdout, "eve", "eve@example.com", "eve@example.com", "UNASSIGNED", "UNASSIGNED", "-"
    )
    total = as_json(cli("users", "list", "--json", url=url, token=acme.admin))["totalCount"]
    assert table.stderr.strip() == f"{total} of {total} users"
    assert [u["id"] for u in _users(url, acme.admin, "--search", "BAKER")] == ["bob"]
    assigned = _users(url, acme.admin, "--type", "standard")
    assert {u["id"] for u in assigned} >= {"bob"}
    assert all(u["standard"] == "ASSIGNED" for u in assigned)
    disabled = _users(url, acme.admin, "--state", "DISABLED")
    assert [u["id"] for u in disabled] == ["cy"]
    first = as_json(cli("users", "list", "--first", "1", "--json", url=url, token=acme.admin))
    assert len(first["users"]) == 1 and first["nextCursor"]
    second = as_json(
        cli("users", "list", "--first", "1", "--after", first["nextCursor"], "--json",
            url=url, token=acme.admin)
    )  # fmt: skip
    assert second["users"][0]["id"] != first["users"][0]["id"]
    paged = cli("users", "list", "--first", "1", url=url, token=acme.admin)
    assert "next page: --after" in paged.stderr
    everyone = _users(url, acme.admin, "--first", "2")
    assert len(everyone) == first["totalCount"]
    names = [u["fullName"].lower() for u in everyone]
    assert names == sorted(names)


@pytest.mark.parametrize(
    "arguments", [["--first", "0"], ["--first", "501"], ["--type", "gold"], ["--state", "on"]]
)
def test_spec_6a_users_list_with_bad_arguments_is_one_line(url, acme, arguments):
    result = cli("users", "list", *arguments, url=url, token=acme.admin)
    assert result.exit_code == 2
    one_line(result.stderr)


def test_users_list_with_a_bad_cursor_is_one_line(url, acme):
    result = cli("users", "list", "--after", "not-a-cursor", url=url, token=acme.admin)
    assert result.exit_code == 2
    assert "cursor" in one_line(result.stderr).lower()


def test_users_show(url, acme):
    cli("users", "create", "fay", "--name", "Fay", "--email", "fay@example.com",
        url=url, token=acme.admin)  # fmt: skip
    shown = cli("users", "show", "fay", url=url, token=acme.admin)
    assert row(shown.stdout, "email", "fay@example.com") and row(
        shown.stdout, "standard", "UNASSIGNED"
    )
    assert as_json(cli("users", "show", "fay", "--json", url=url, token=acme.admin))["id"] == "fay"
    missing = cli("users", "show", "nobody", url=url, token=acme.admin)
    assert missing.exit_code == 1 and "no user 'nobody'" in one_line(missing.stderr)


def test_spec_3_set_license_in_the_three_states_for_one_or_many(url, acme, tmp_path):
    for user in ("g1", "g2"):
        cli("users", "create", user, "--name", user, "--email", f"{user}@example.com",
            url=url, token=acme.admin)  # fmt: skip
    ids = tmp_path / "ids.txt"
    ids.write_text("g1\n\ng2\n")
    disabled = cli("users", "set-license", "inspections", "disabled", "--ids-file", str(ids),
                   url=url, token=acme.admin)  # fmt: skip
    assert disabled.exit_code == 0, disabled.stderr
    assert row(disabled.stdout, "g1", "g1", "UNASSIGNED", "DISABLED", "-")
    assert disabled.stderr.strip() == "INSPECTIONS DISABLED for 2 users"
    one = as_json(cli("users", "set-license", "INSPECTIONS", "ASSIGNED", "g1", "--json",
                      url=url, token=acme.admin))  # fmt: skip
    assert one == [
        {"id": "g1", "fullName": "g1", "standard": "UNASSIGNED", "inspections": "ASSIGNED",
         "activeLicense": "INSPECTIONS"}
    ]  # fmt: skip
    back = cli("users", "set-license", "inspections", "unassigned", "g1", url=url, token=acme.admin)
    assert back.exit_code == 0 and back.stderr.strip() == "INSPECTIONS UNASSIGNED for 1 user"


def test_spec_3_not_enough_seats_changes_nobody_and_exits_1(url, acme):
    for user in ("h1", "h2"):
        cli("users", "create", user, "--name", user, "--email", f"{user}@example.com",
            url=url, token=acme.admin)  # fmt: skip
    result = cli("users", "set-license", "inspections", "assigned", "h1", "h2",
                 url=url, token=acme.admin)  # fmt: skip
    assert result.exit_code == 1 and "NOT_ENOUGH_SEATS" in result.stderr
    assert [u["inspections"] for u in _users(url, acme.admin, "--search", "h")
            if u["id"] in ("h1", "h2")] == ["UNASSIGNED", "UNASSIGNED"]  # fmt: skip
    unknown = cli(
        "users", "set-license", "standard", "assigned", "nobody", url=url, token=acme.admin
    )
    assert unknown.exit_code == 1 and "USER_NOT_FOUND" in unknown.stderr


def test_set_license_with_bad_arguments_is_one_line(url, acme):
    for arguments in (
        ["external", "assigned", "x"],
        ["standard", "on", "x"],
        ["standard", "assigned"],
    ):
        result = cli("users", "set-license", *arguments, url=url, token=acme.admin)
        assert result.exit_code == 2, arguments
        one_line(result.stderr)


def test_spec_3_delete_users(url, acme):
    cli("users", "create", "gone", "--name", "Gone", "--email", "gone@example.com",
        "--standard", "assigned", url=url, token=acme.admin)  # fmt: skip
    unconfirmed = cli("users", "delete", "gone", url=url, token=acme.admin)
    assert unconfirmed.exit_code == 2 and "--yes" in one_line(unconfirmed.stderr)
    assert (
        as_json(cli("users", "show", "gone", "--json", url=url, token=acme.admin))["id"] == "gone"
    )
    deleted = as_json(cli("users", "delete", "gone", "--yes", "--json", url=url, token=acme.admin))
    assert deleted == ["gone"]
    again = cli("users", "delete", "gone", "--yes", url=url, token=acme.admin)
    assert again.exit_code == 1 and "USER_NOT_FOUND" in again.stderr


def test_spec_9_a_reader_lists_but_may_not_create(url, acme):
    reader = cli("tokens", "create", "--role", "reader", "--name", "ro", url=url,
                 token=acme.admin).stdout.strip()  # fmt: skip
    assert cli("users", "list", url=url, token=reader).exit_code == 0
    refused = cli("users", "create", "r", "--name", "R", "--email", "r@example.com",
                  url=url, token=reader)  # fmt: skip
    assert refused.exit_code == 1 and "READER role may not" in one_line(refused.stderr)
    operator = cli("users", "list", url=url, token=OPERATOR)
    assert operator.exit_code == 1 and "OPERATOR role may not" in one_line(operator.stderr)


def test_spec_7_import_json_and_export_counts(url, acme, tmp_path):
    file = tmp_path / "lic.csv"
    file.write_text(
        "Id,Full Name,Email,Standard,Inspections\nimp1,Imp One,imp1@example.com,Assigned,\n"
    )
    dry = as_json(cli("licenses", "import", str(file), "--dry-run", "--json",
                      url=url, token=acme.admin))  # fmt: skip
    assert dry["applied"] is False and dry["summary"]["created"] == 1
    assert _users(url, acme.admin, "--search", "imp1") == []
    applied = cli("licenses", "import", str(file), url=url, token=acme.admin)
    assert applied.exit_code == 0 and applied.stdout.startswith(f"{file}: applied")
    assert "1 row read; 1 license change and 1 new user applied" in applied.stderr
    target = tmp_path / "out.csv"
    exported = cli("licenses", "export", "-o", str(target), url=url, token=acme.admin)
    assert exported.exit_code == 0
    holders = target.read_bytes().count(b"\r\n") - 1
    assert exported.stderr.strip() == f"exported {holders} rows to {target}"
    assert b'"imp1","Imp One","imp1@example.com","Assigned",""' in target.read_bytes()


def test_spec_7_a_file_that_is_not_utf8_is_one_line(url, acme, tmp_path):
    file = tmp_path / "latin1.csv"
    file.write_bytes(
        "Id,Full Name,Email,Standard,Inspections\nx,Jos\xe9,x@example.com,,\n".encode("latin-1")
    )
    result = cli("licenses", "import", str(file), url=url, token=acme.admin)
    assert result.exit_code == 1 and "NOT_UTF8" in result.stdout and "CSV UTF-8" in result.stdout
    missing = cli("licenses", "import", str(tmp_path / "none.csv"), url=url, token=acme.admin)
    assert missing.exit_code == 2 and "does not exist" in one_line(missing.stderr)
