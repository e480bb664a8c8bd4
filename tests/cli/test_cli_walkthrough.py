"""The README's "Administration from the command line" walk-through, run as written.

Issue 13, done when: an operator goes from an empty server to an organization with subscriptions,
tokens, settings, pre-provisioned users with licenses and a first import, without writing GraphQL.
Each command of the README's first block runs in order against a fresh server (placeholders
filled in: the server's URL, the operator token, the id and ADMIN token step 3 printed).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from tests.cli.cli_support import OPERATOR, cli, serving

README = Path(__file__).resolve().parents[2] / "README.md"


def _walkthrough() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Administration from the command line") :]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)
    block = block.replace("\\\n", " ")
    commands = []
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            commands.append(shlex.split(line))
    return commands


def test_the_readme_walkthrough_from_an_empty_server(tmp_path, monkeypatch):
    commands = _walkthrough()
    assert commands[0] == ["seatkeeper", "serve"]
    (tmp_path / "people.csv").write_text(
        "Id,Full Name,Email,Standard,Inspections\n"
        "p-1,Pete Porter,pete@example.com,Assigned,\n"
        "p-2,Nora Night,someone63@example.com,Disabled,Disabled\n",
        encoding="utf-8",
    )
    (tmp_path / "licenses.csv").write_text(
        '"Id","Full Name","Email","Standard","Inspections"\r\n'
        '"p-1","Pete Porter","pete@example.com","","Assigned"\r\n'
        '"n-1","New Person","new@example.com","Assigned",""\r\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    with serving(tmp_path) as served:
        organization_id = admin = None
        for command in commands[1:]:
            if "--follow" in command:
                continue  # runs until Ctrl-C: tested in test_cli_logs.py
            arguments = [
                served.url if a == "http://127.0.0.1:8000" else
                OPERATOR if a == "sk_op_…" else
                admin if a == "sk_…" else
                organization_id if a == "$ORG" else a
                for a in command[1:]
            ]  # fmt: skip
            result = cli(*arguments)
            assert result.exit_code == 0, (command, result.stdout, result.stderr)
            if command[1:3] == ["orgs", "create"]:
                organization_id = re.search(r"^id\s+(\S+)$", result.stdout, re.MULTILINE).group(1)
                admin = re.search(r"^ADMIN token\s+(\S+)$", result.stdout, re.MULTILINE).group(1)
        # Where the walk-through leaves the organization:
        final = cli("users", "list", "--json")
        users = {u["id"]: u for u in __import__("json").loads(final.stdout)["users"]}
        assert users["1a75199f-a48b-40d4-b9bc-2ea05faa8197"]["inspections"] == "ASSIGNED"
        assert users["p-1"]["activeLicense"] == "INSPECTIONS"  # the import switched Pete
        assert users["n-1"]["standard"] == "ASSIGNED"  # the import created New Person
        assert users["p-2"]["standard"] == "DISABLED"
        settings = cli("settings", "show", "--json").stdout
        assert '"autoAssignLicenses": true' in settings and '"inactivityDays": 60' in settings
