"""Wrong, empty, huge and hostile values on the command line, with and without a token: one line,
the right exit code, nothing changed on the server."""

from __future__ import annotations

import pytest

from tests.cli.cli_support import add_seats, as_json, cli, create_organization, one_line


@pytest.fixture(scope="module")
def acme(served):
    organization = create_organization(served.url, "Hostile Co")
    add_seats(served.url, organization, "STANDARD", 1)
    return organization


def _user_count(url: str, token: str) -> int:
    return as_json(cli("users", "list", "--json", url=url, token=token))["totalCount"]


@pytest.mark.parametrize(
    ("arguments", "code"),
    [
        (["users", "list", "--search", "x" * 100_000], 2),  # the server's 256-character limit
        (["users", "show", "\x1b[31mred"], 1),  # no such user; the id is only data
        (["users", "create", "u", "--name", "n" * 100_000, "--email", "u@example.com"], 1),
        (["users", "create", "u", "--name", "U", "--email", "not an email"], 1),
        (["users", "create", "", "--name", "U", "--email", "u@example.com"], 2),
        (["users", "set-license", "standard", "assigned", *[f"id{i}" for i in range(2000)]], 1),
        (["users", "delete", "--yes", "x" * 10_000], 1),
        (["projects", "upsert", "p", "--kind", "standard", "--name", "n" * 1000], 1),
        (["settings", "set", "--inactivity-days", "9" * 40], 2),
        (["logs", "audit", "--since", "9" * 50], 2),
        (["tokens", "revoke", "\u202eevil"], 1),
    ],
)
def test_hostile_values_are_one_line_and_change_nothing(url, acme, arguments, code):
    before = _user_count(url, acme.admin)
    result = cli(*arguments, url=url, token=acme.admin)
    assert result.exit_code == code, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    # One line; a bulk refusal lists its first 20 userErrors and says how many more there are.
    line = one_line(result.stderr) if len(lines) == 1 else lines[0]
    assert len(lines) <= 21 and all(len(text) < 1_000 for text in lines)  # never echoed whole
    assert line.startswith("seatkeeper: ")
    assert _user_count(url, acme.admin) == before


@pytest.mark.parametrize(
    "token", ["", "   ", "x" * 10_000, "sk_\x00nul", "sk_ünicode", "Bearer sk_x", "sk_a\nb"]
)
def test_hostile_tokens_are_one_line_exit_2(url, token):
    result = cli("whoami", "--token", token, url=url)
    assert result.exit_code == 2
    assert "token" in one_line(result.stderr)


@pytest.mark.parametrize(
    "bad_url", ["http://", "http://[::1", "localhost:8000", "file:///etc/passwd", " ", "http://a b"]
)
def test_hostile_urls_are_one_line_exit_2(bad_url):
    result = cli("whoami", url=bad_url, token="sk_x")
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert "unexpected error" not in line
