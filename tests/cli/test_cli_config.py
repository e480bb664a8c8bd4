"""Profiles, precedence, shell completion, usage errors, and the CLI's trusted document."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, parse, validate
from seatkeeper.schema.root import MAX_TOKENS, build_schema
from seatkeeper.server.client import cli_document

from tests.cli.cli_support import OPERATOR, as_json, cli, one_line, run, run_here

SERVER_DIR = Path(__file__).resolve().parents[2] / "server"


def _config(home: Path) -> Path:
    return home / ".config" / "seatkeeper" / "config.toml"


def test_a_saved_profile_is_private_and_used_without_flags(url, private_home):
    saved = cli("config", "save", "--url", url + "/graphql", "--token", f" {OPERATOR} ")
    assert saved.exit_code == 0, saved.stderr
    path = _config(private_home)
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert f'url = "{url}"' in path.read_text()  # the base URL, the token stripped
    assert as_json(cli("whoami", "--json"))["role"] == "OPERATOR"
    shown = cli("config", "show")
    assert OPERATOR not in shown.stdout and OPERATOR[:8] + "…" in shown.stdout
    assert as_json(cli("config", "show", "--json")) == {
        "path": str(path),
        "profile": "default",
        "url": url,
        "token": OPERATOR[:8] + "…",
    }


def test_flags_and_environment_win_over_the_profile(url, private_home):
    cli("config", "save", "--url", url, "--token", "sk_saved-but-wrong")
    assert cli("whoami").exit_code == 2  # the saved token is refused by the server
    assert cli("whoami", "--token", OPERATOR).exit_code == 0
    assert cli("whoami", token=OPERATOR).exit_code == 0  # SEATKEEPER_TOKEN


def test_named_profiles(url, private_home):
    cli("config", "save", "--profile", "prod", "--url", url, "--token", OPERATOR)
    assert cli("whoami", "--profile", "prod").exit_code == 0
    assert cli("whoami", SEATKEEPER_PROFILE="prod").exit_code == 0
    missing = cli("whoami", "--profile", "staging")
    assert missing.exit_code == 2 and "no profile 'staging'" in one_line(missing.stderr)


def test_a_profile_others_can_read_is_refused(url, private_home):
    cli("config", "save", "--url", url, "--token", OPERATOR)
    path = _config(private_home)
    path.chmod(0o644)
    result = cli("whoami")
    assert result.exit_code == 2
    line = one_line(result.stderr)
    assert "other users may read it" in line and f"chmod 600 {path}" in line


def test_a_broken_profile_file_is_one_line(private_home):
    path = _config(private_home)
    path.parent.mkdir(parents=True)
    path.write_text('[default]\nurl = "http://x\n')
    result = cli("whoami")
    assert result.exit_code == 2 and "not valid TOML" in one_line(result.stderr)


def test_without_any_token_the_command_says_where_to_put_one():
    result = run("whoami")  # a real process: exit code and stderr as a shell sees them
    assert result.returncode == 2
    assert "SEATKEEPER_TOKEN" in one_line(result.stderr)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["nonsense"], "No such command"),
        (["users", "list", "--frist", "3"], "No such option"),
        (["whoami", "--url", "ftp://example.com", "--token", "sk_x"], "http://"),
        (["whoami", "--url", "http://127.0.0.1:1", "--token", "sk_x"], "cannot reach"),
    ],
)
def test_usage_and_connection_errors_are_one_line_exit_2(arguments, expected):
    result = run_here(*arguments)
    assert result.returncode == 2
    assert expected in one_line(result.stderr)
    assert result.stdout == ""


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_for_each_shell(shell):
    result = cli("completion", shell)
    assert result.exit_code == 0
    assert "_SEATKEEPER_COMPLETE" in result.stdout


def test_completion_completes_commands_and_options():
    result = run(_SEATKEEPER_COMPLETE="bash_complete", COMP_WORDS="seatkeeper us", COMP_CWORD="1")
    assert "plain,users" in result.stdout.splitlines()
    result = run(
        _SEATKEEPER_COMPLETE="bash_complete",
        COMP_WORDS="seatkeeper users set-license standard ",
        COMP_CWORD="4",
    )
    assert {"assigned", "unassigned", "disabled"} <= set(re.findall(r"\w+", result.stdout))


def test_every_client_command_lists_its_environment_variables():
    for command in (
        "whoami",
        "orgs list",
        "users list",
        "logs sync",
        "settings set",
        "tokens create",
    ):
        text = run_here(*command.split(), "--help").stdout
        assert "SEATKEEPER_URL" in text and "SEATKEEPER_TOKEN" in text, command


# -- trusted_documents/cli.graphql ------------------------------------------------------------------


def test_every_cli_operation_validates_against_the_schema_within_the_limits():
    schema = build_schema()._schema
    document = parse(cli_document())
    assert validate(schema, document) == []
    tokens = len(
        re.findall(r"[A-Za-z_][A-Za-z0-9_]*|[^\sA-Za-z0-9_,]", cli_document().split("#")[0])
    )
    assert tokens < MAX_TOKENS


def test_every_operation_the_cli_sends_is_in_its_document():
    names = {
        d.name.value for d in parse(cli_document()).definitions
        if isinstance(d, OperationDefinitionNode)
    }  # fmt: skip
    sent: set[str] = set()
    for module in SERVER_DIR.glob("cli*.py"):
        sent |= set(re.findall(r'\.call\(\s*"(\w+)"', module.read_text(encoding="utf-8")))
        sent |= set(
            re.findall(r'LogReader\(\s*server,\s*"(\w+)"', module.read_text(encoding="utf-8"))
        )
    assert sent and sent <= names, sent - names
    assert names - sent == set(), "operations nobody sends"


def test_each_request_sends_one_operation_as_written(url, monkeypatch):
    """Against a server that lacks a field of another operation, the other commands still work."""
    import httpx

    sent: list[dict] = []
    real_post = httpx.post

    def spying_post(*args, **kwargs):
        sent.append(kwargs["json"])
        return real_post(*args, **kwargs)

    monkeypatch.setattr(httpx, "post", spying_post)
    assert cli("whoami", url=url, token=OPERATOR).exit_code == 0
    (body,) = sent
    assert body["operationName"] == "Viewer"
    assert body["query"].startswith("query Viewer {") and "mutation" not in body["query"]
    assert body["query"] in cli_document()


def test_the_document_is_package_data():
    assert os.path.exists(SERVER_DIR / "trusted_documents" / "cli.graphql")
    pyproject = (SERVER_DIR.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert "trusted_documents/*.graphql" in pyproject
