"""`tokens create --expires-at/--requests-per-second`, `tokens list` with last use, expiry and
budget, and `tokens budget` against a real server (SPEC 9, and the token features the README
describes): each in table and --json form; wrong, empty and hostile values refused in one line
with nothing changed (exit 2 for the form of a value, 1 for the server's refusal)."""

from __future__ import annotations

import pytest

from tests.cli.cli_support import OPERATOR, as_json, cli, create_organization, one_line, row


@pytest.fixture(scope="module")
def acme(served):
    return create_organization(served.url, "Token Co")


def _listed(url: str, token: str) -> dict[str, dict]:
    return {t["id"]: t for t in as_json(cli("tokens", "list", "--json", url=url, token=token))}


def test_spec_9_create_with_an_expiry_and_a_budget_then_list_them(url, acme):
    created = as_json(
        cli("tokens", "create", "--role", "reader", "--name", "BI", "--expires-at", "2099-01-31",
            "--requests-per-second", "2.5", "--json", url=url, token=acme.admin)
    )  # fmt: skip
    assert created["userErrors"] == []
    token_id = created["tokenId"]
    assert _listed(url, acme.admin)[token_id]["lastUsedAt"] is None
    assert cli("whoami", url=url, token=created["token"]).exit_code == 0
    listed = _listed(url, acme.admin)[token_id]
    assert listed["expiresAt"] == "2099-01-31T00:00:00Z"
    assert listed["requestsPerSecond"] == 2.5
    assert listed["lastUsedAt"] is not None
    table = cli("tokens", "list", url=url, token=acme.admin).stdout
    assert row(table, "id", "name", "role", "organization", "created", "revoked", "last", "used",
               "expires", "budget")  # fmt: skip
    assert row(table, token_id, "BI", "READER", acme.id)
    line = next(text for text in table.splitlines() if text.startswith(token_id))
    assert line.split()[-3:] == [listed["lastUsedAt"], "2099-01-31T00:00:00Z", "2.5/s"]


def test_spec_9_create_without_options_never_expires_and_has_no_budget(url, acme):
    created = cli("tokens", "create", "--role", "sync", "--name", "phones", "--expires-at", "+30d",
                  url=url, token=acme.admin)  # fmt: skip
    assert created.exit_code == 0, created.stderr
    assert "expires 20" in created.stderr and "shown this once" in created.stderr
    plain = as_json(
        cli("tokens", "create", "--role", "sync", "--name", "plain", "--json",
            url=url, token=acme.admin)
    )  # fmt: skip
    listed = _listed(url, acme.admin)[plain["tokenId"]]
    assert listed["expiresAt"] is None and listed["requestsPerSecond"] is None
    line = next(t for t in cli("tokens", "list", url=url, token=acme.admin).stdout.splitlines()
                if t.startswith(plain["tokenId"]))  # fmt: skip
    assert line.split()[-3:] == ["-", "-", "-"]


def test_spec_9_tokens_budget_sets_and_takes_away_a_budget(url, acme):
    token_id = as_json(
        cli("tokens", "create", "--role", "reader", "--name", "r", "--json",
            url=url, token=acme.admin)
    )["tokenId"]  # fmt: skip
    set_ = cli("tokens", "budget", token_id, "10", url=url, token=acme.admin)
    assert set_.exit_code == 0, set_.stderr
    assert f"token {token_id} (r): request budget 10/s" in set_.stdout
    assert _listed(url, acme.admin)[token_id]["requestsPerSecond"] == 10
    off = as_json(cli("tokens", "budget", token_id, "--off", "--json", url=url, token=acme.admin))
    assert off["userErrors"] == [] and off["token"]["requestsPerSecond"] is None
    assert _listed(url, acme.admin)[token_id]["requestsPerSecond"] is None
    by_operator = cli("tokens", "budget", token_id, "100000", url=url, token=OPERATOR)
    assert by_operator.exit_code == 0 and "100000/s" in by_operator.stdout
    missing = cli("tokens", "budget", "no-such-token", "5", url=url, token=acme.admin)
    assert missing.exit_code == 1 and "TOKEN_NOT_FOUND" in one_line(missing.stderr)


def test_spec_9_an_admin_may_not_budget_another_organizations_token(url, acme):
    other = create_organization(url, "Other Co")
    theirs = next(iter(_listed(url, other.admin)))
    result = cli("tokens", "budget", theirs, "5", url=url, token=acme.admin)
    assert result.exit_code == 1 and "TOKEN_NOT_FOUND" in one_line(result.stderr)
    assert _listed(url, other.admin)[theirs]["requestsPerSecond"] is None


@pytest.mark.parametrize(
    ("arguments", "code", "said"),
    [
        (["--expires-at", "-1d"], 1, "expiresAt must be in the future"),
        (["--expires-at", "2020-01-01"], 1, "expiresAt must be in the future"),
        (["--expires-at", "now"], 1, "expiresAt must be in the future"),
        (["--expires-at", "tomorrow"], 2, "is not a date"),
        (["--expires-at", "2027-02-30"], 2, "is not a date"),
        (["--expires-at", ""], 2, "is not a date"),
        (["--expires-at", "9" * 10_000], 2, "is not a date"),
        (["--expires-at", "2099-01-01\x1b[31m"], 2, "is not a date"),
        (["--requests-per-second", "0"], 2, "not a request budget"),
        (["--requests-per-second", "-5"], 2, "not a request budget"),
        (["--requests-per-second", "100001"], 2, "not a request budget"),
        (["--requests-per-second", "1e308"], 2, "not a request budget"),
        (["--requests-per-second", "nan"], 2, "not a request budget"),
        (["--requests-per-second", "inf"], 2, "not a request budget"),
        (["--requests-per-second", ""], 2, "not a request budget"),
        (["--requests-per-second", "ten"], 2, "not a request budget"),
        (["--requests-per-second", "9" * 10_000], 2, "not a request budget"),
    ],
)
def test_spec_9_create_with_bad_values_is_one_line_and_creates_nothing(url, acme, arguments,
                                                                        code, said):  # fmt: skip
    before = _listed(url, acme.admin)
    result = cli("tokens", "create", "--role", "reader", "--name", "bad", *arguments,
                 url=url, token=acme.admin)  # fmt: skip
    assert result.exit_code == code, result.stdout + result.stderr
    line = one_line(result.stderr)
    assert said in line and len(line) < 300
    assert result.stdout == ""
    assert _listed(url, acme.admin) == before


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        ([], "either n"),
        (["5", "--off"], "either n"),
        (["0"], "not a request budget"),
        (["--", "-1"], "not a request budget"),
        (["-1"], "no such option"),
        (["100000.5"], "not a request budget"),
        (["NaN"], "not a request budget"),
        (["--", "-inf"], "not a request budget"),
        ([""], "not a request budget"),
        (["\u202e5"], "not a request budget"),
        (["5", "6"], "unexpected extra argument"),
    ],
)
def test_spec_9_tokens_budget_with_bad_values_is_one_line_and_changes_nothing(url, acme,
                                                                              arguments, said):  # fmt: skip
    token_id = as_json(
        cli("tokens", "create", "--role", "reader", "--name", "b", "--requests-per-second", "3",
            "--json", url=url, token=acme.admin)
    )["tokenId"]  # fmt: skip
    result = cli("tokens", "budget", token_id, *arguments, url=url, token=acme.admin)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert said in one_line(result.stderr).lower()
    assert _listed(url, acme.admin)[token_id]["requestsPerSecond"] == 3
