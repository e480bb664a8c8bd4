"""`whoami`, `orgs`, `subscriptions`, `tokens`, `settings`, `projects` against a real server:
each in table and --json form, and refused the way SPEC 9 says (exit 1 for the rules, 2 for the
token)."""

from __future__ import annotations

import re

import pytest

from tests.cli.cli_support import OPERATOR, as_json, cli, create_organization, one_line, row


@pytest.fixture(scope="module")
def acme(served):
    """An organization created by `seatkeeper orgs create` (the OPERATOR's token)."""
    result = cli("orgs", "create", "Acme Corp", "--json", url=served.url, token=OPERATOR)
    created = as_json(result)
    assert created["userErrors"] == []
    return created


def test_spec_9_orgs_create_prints_the_tokens_once_in_a_table(url):
    result = cli("orgs", "create", "Beta", "--trial-days", "30", url=url, token=OPERATOR)
    assert result.exit_code == 0, result.stderr
    assert row(result.stdout, "organization", "Beta")
    assert re.search(r"^ADMIN token\s+sk_\S+$", result.stdout, re.MULTILINE)
    assert re.search(r"^SYNC token\s+sk_\S+$", result.stdout, re.MULTILINE)
    assert "shown this once" in result.stderr


def test_spec_9_orgs_list_and_show(url, acme):
    organization = acme["organization"]
    listed = cli("orgs", "list", url=url, token=OPERATOR)
    assert row(listed.stdout, organization["id"], "Acme Corp")
    as_list = as_json(cli("orgs", "list", "--json", url=url, token=OPERATOR))
    assert {"id": organization["id"], "name": "Acme Corp"}.items() <= next(
        o for o in as_list if o["id"] == organization["id"]
    ).items()
    shown = cli("orgs", "show", organization["id"], url=url, token=OPERATOR)
    assert row(shown.stdout, "name", "Acme Corp") and row(shown.stdout, "inactivity", "days", "90")
    assert "default (STANDARD)" in shown.stdout
    own = as_json(cli("orgs", "show", "--json", url=url, token=acme["adminToken"]))
    assert own["id"] == organization["id"] and own["settings"]["gracePeriodDays"] == 14


def test_spec_9_orgs_create_by_an_admin_is_refused_with_exit_1(url, acme):
    result = cli("orgs", "create", "Nope", url=url, token=acme["adminToken"])
    assert result.exit_code == 1
    assert "FORBIDDEN" not in result.stderr  # said in words
    assert "refused: the ADMIN role may not do this" in one_line(result.stderr)


def test_spec_9_whoami_for_each_kind_of_token(url, acme):
    operator = cli("whoami", url=url, token=OPERATOR)
    assert operator.exit_code == 0 and row(operator.stdout, "role", "OPERATOR")
    admin = as_json(cli("whoami", "--json", url=url, token=acme["adminToken"]))
    assert admin["role"] == "ADMIN" and admin["tokenName"] == "admin"
    assert admin["organization"]["name"] == "Acme Corp" and admin["url"] == url
    phones = cli("whoami", url=url, token=acme["syncToken"])
    assert row(phones.stdout, "role", "SYNC")
    assert row(phones.stdout, "organization", "id", acme["organization"]["id"])


def test_spec_9_whoami_with_a_wrong_token_is_one_line_exit_2(url):
    result = cli("whoami", url=url, token="sk_wrong")
    assert result.exit_code == 2
    assert "refused the token" in one_line(result.stderr)


def test_spec_6_subscriptions_add_and_list(url, acme):
    org = acme["organization"]["id"]
    added = cli(
        "subscriptions", "add", "standard", "--org", org, "--seats", "3",
        "--from", "2020-01-01", "--until", "2999-12-31", url=url, token=OPERATOR,
    )  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert row(added.stdout, "seats", "3") and row(added.stdout, "status", "ACTIVE")
    assert row(added.stdout, "valid", "from", "2020-01-01T00:00:00Z")
    external = as_json(
        cli("subscriptions", "add", "EXTERNAL", "--org", org, "--until", "+30d", "--json",
            url=url, token=OPERATOR)
    )  # fmt: skip
    assert external["subscription"]["seats"] is None
    listed = cli("subscriptions", "list", url=url, token=acme["adminToken"])
    assert row(listed.stdout, "STANDARD", "yes", "3", "0", "3", "0", "0")
    assert row(listed.stdout, "INSPECTIONS", "no", "0", "0", "0", "0", "0")
    assert row(listed.stdout, "EXTERNAL", "yes", "-", "-", "-", "-", "0")
    view = as_json(cli("subscriptions", "list", "--org", org, "--json", url=url, token=OPERATOR))
    assert [r["licenseType"] for r in view] == ["STANDARD", "INSPECTIONS", "EXTERNAL"]
    assert view[0]["items"][0]["validUntil"] == "2999-12-31T00:00:00Z"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["standard", "--until", "+1d"], "--seats is required"),
        (["standard", "--seats", "0", "--until", "+1d"], "--seats"),
        (["standard", "--seats", "1", "--until", "yesterday"], "is not a date"),
        (["gold", "--seats", "1", "--until", "+1d"], "gold"),
        (["standard", "--seats", "1"], "--until"),
    ],
)
def test_spec_3_subscriptions_add_with_bad_arguments_is_one_line_exit_2(
    url, acme, arguments, expected
):
    result = cli(
        "subscriptions", "add", *arguments, "--org", acme["organization"]["id"],
        url=url, token=OPERATOR,
    )  # fmt: skip
    assert result.exit_code == 2
    assert expected in one_line(result.stderr)


def test_spec_3_a_subscription_ending_before_it_starts_is_refused_by_the_rules(url, acme):
    result = cli(
        "subscriptions", "add", "standard", "--org", acme["organization"]["id"], "--seats", "1",
        "--from", "2030-01-01", "--until", "2029-01-01", url=url, token=OPERATOR,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "INVALID_INPUT" in result.stderr


def test_spec_9_tokens_create_list_revoke(url, acme):
    admin = acme["adminToken"]
    created = cli("tokens", "create", "--role", "reader", "--name", "BI tool", url=url, token=admin)
    assert created.exit_code == 0, created.stderr
    secret = created.stdout.strip()
    assert secret.startswith("sk_") and "\n" not in secret  # alone on stdout, for scripts
    assert "shown this once" in created.stderr
    assert as_json(cli("whoami", "--json", url=url, token=secret))["role"] == "READER"
    listed = as_json(cli("tokens", "list", "--json", url=url, token=admin))
    reader = next(t for t in listed if t["name"] == "BI tool")
    assert reader["role"] == "READER" and reader["revokedAt"] is None
    table = cli("tokens", "list", url=url, token=admin)
    assert row(table.stdout, reader["id"], "BI", "tool", "READER")
    revoked = cli("tokens", "revoke", reader["id"], url=url, token=admin)
    assert revoked.exit_code == 0 and f"revoked token {reader['id']} (BI tool)" in revoked.stdout
    assert cli("whoami", url=url, token=secret).exit_code == 2
    again = cli("tokens", "revoke", "no-such-token", url=url, token=admin)
    assert again.exit_code == 1 and "TOKEN_NOT_FOUND" in one_line(again.stderr)


def test_spec_9_the_operator_creates_tokens_for_a_named_organization(url, acme):
    org = acme["organization"]["id"]
    result = as_json(
        cli("tokens", "create", "--role", "sync", "--name", "phones 2", "--org", org, "--json",
            url=url, token=OPERATOR)
    )  # fmt: skip
    assert result["token"].startswith("sk_") and result["userErrors"] == []
    no_org = cli("tokens", "create", "--role", "sync", "--name", "x", url=url, token=OPERATOR)
    assert no_org.exit_code == 2 and "--org" in one_line(no_org.stderr)
    too_long = cli("tokens", "create", "--role", "sync", "--name", "n" * 101, "--org", org,
                   url=url, token=OPERATOR)  # fmt: skip
    assert too_long.exit_code == 1 and "INVALID_INPUT" in one_line(too_long.stderr)
    bad_role = cli("tokens", "create", "--role", "operator", "--name", "x", url=url, token=OPERATOR)
    assert bad_role.exit_code == 2 and "operator" in one_line(bad_role.stderr)


def test_spec_3_settings_show_and_set(url):
    fresh = create_organization(url, "Settings Co")
    shown = cli("settings", "show", url=url, token=fresh.admin)
    assert row(shown.stdout, "auto-assign", "no") and row(
        shown.stdout, "grace", "period", "days", "14"
    )
    changed = cli("settings", "set", "--auto-assign", "--inactivity-days", "30",
                  url=url, token=fresh.admin)  # fmt: skip
    assert changed.exit_code == 0, changed.stderr
    assert row(changed.stdout, "auto-assign", "yes") and row(
        changed.stdout, "inactivity", "days", "30"
    )
    values = as_json(cli("settings", "show", "--json", url=url, token=fresh.admin))
    assert values == {
        "autoAssignLicenses": True,
        "autoFreeUpLicenses": False,
        "inactivityDays": 30,
        "gracePeriodDays": 14,
    }
    operator_view = as_json(
        cli("settings", "show", "--org", fresh.id, "--json", url=url, token=OPERATOR)
    )
    assert operator_view == values


@pytest.mark.parametrize(
    "arguments", [[], ["--inactivity-days", "0"], ["--grace-period-days", "366"], ["--auto"]]
)
def test_spec_3_settings_set_with_bad_arguments_changes_nothing(url, arguments):
    fresh = create_organization(url, "Bad settings")
    result = cli("settings", "set", *arguments, url=url, token=fresh.admin)
    assert result.exit_code == 2
    one_line(result.stderr)
    assert (
        as_json(cli("settings", "show", "--json", url=url, token=fresh.admin))["inactivityDays"]
        == 90
    )


def test_spec_9_a_reader_may_not_change_settings(url, acme):
    reader = cli("tokens", "create", "--role", "reader", "--name", "ro", url=url,
                 token=acme["adminToken"]).stdout.strip()  # fmt: skip
    result = cli("settings", "set", "--auto-assign", url=url, token=reader)
    assert result.exit_code == 1 and "READER role may not" in one_line(result.stderr)


def test_spec_1_projects_upsert_and_list(url, acme):
    admin = acme["adminToken"]
    made = cli("projects", "upsert", "field", "--kind", "inspections", "--name", "Field app",
               url=url, token=admin)  # fmt: skip
    assert made.exit_code == 0 and "project field (Field app): INSPECTIONS" in made.stdout
    renamed = as_json(
        cli("projects", "upsert", "field", "--kind", "standard", "--json", url=url, token=admin)
    )
    assert renamed == {"id": "field", "name": "field", "kind": "STANDARD"}
    listed = cli("projects", "list", url=url, token=admin)
    assert row(listed.stdout, "default", "Default", "STANDARD")
    assert row(listed.stdout, "field", "field", "STANDARD")
    assert {p["id"] for p in as_json(cli("projects", "list", "--json", url=url, token=admin))} == {
        "default",
        "field",
    }
    bad = cli("projects", "upsert", "x" * 300, "--kind", "standard", url=url, token=admin)
    assert bad.exit_code == 1 and "INVALID_INPUT" in bad.stderr
    assert "x" * 300 not in {p["id"] for p in as_json(cli("projects", "list", "--json", url=url,
                                                           token=admin))}  # fmt: skip


def test_spec_9_an_unknown_organization_is_one_line_exit_1(url):
    result = cli("orgs", "show", "no-such-org", url=url, token=OPERATOR)
    assert result.exit_code == 1 and "no organization 'no-such-org'" in one_line(result.stderr)
    added = cli("subscriptions", "add", "standard", "--org", "no-such-org", "--seats", "1",
                "--until", "+1d", url=url, token=OPERATOR)  # fmt: skip
    assert added.exit_code == 1 and "ORGANIZATION_NOT_FOUND" in one_line(added.stderr)


def test_orgs_create_refuses_a_trial_the_server_would_refuse(url):
    """The server takes 0–365 trial days (schema.graphql); the option said 0–3650."""
    result = cli("orgs", "create", "Gamma", "--trial-days", "366", url=url, token=OPERATOR)
    assert result.exit_code == 2
    assert "0<=x<=365" in result.stderr
