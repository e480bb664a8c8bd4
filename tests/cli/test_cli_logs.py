"""`logs sync`, `logs audit` and `logs admin` (SPEC 8) against a real server, `--follow` as a real
process."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.cli.cli_support import (
    OPERATOR,
    SEATKEEPER,
    add_seats,
    as_json,
    clean_environment,
    cli,
    create_organization,
    one_line,
    row,
    sync,
)


@pytest.fixture(scope="module")
def acme(served):
    organization = create_organization(served.url, "Logs Co")
    add_seats(served.url, organization, "STANDARD", 1)
    assert sync(served.url, organization.sync, "u1", "u1@example.com")["ok"] is True  # temporary
    cli(
        "users",
        "set-license",
        "standard",
        "assigned",
        "u1",
        url=served.url,
        token=organization.admin,
    )
    cli(
        "users",
        "set-license",
        "standard",
        "disabled",
        "u1",
        url=served.url,
        token=organization.admin,
    )
    assert sync(served.url, organization.sync, "u1", "u1@example.com")["ok"] is False  # DISABLED
    assert sync(served.url, organization.sync, "u2", "bad-email")["ok"] is False  # INVALID_INPUT
    return organization


def test_spec_8_sync_log_table_and_json(url, acme):
    table = cli("logs", "sync", url=url, token=acme.admin)
    assert table.exit_code == 0, table.stderr
    assert row(table.stdout, "at", "user", "email", "project", "client", "ok")
    entries = as_json(cli("logs", "sync", "--json", url=url, token=acme.admin))
    assert [(e["userId"], e["ok"]) for e in entries] == [("u2", False), ("u1", False), ("u1", True)]
    assert table.stderr.strip() == f"{len(entries)} entries"
    only_u1 = as_json(cli("logs", "sync", "--user", "u1", "--json", url=url, token=acme.admin))
    assert {e["userId"] for e in only_u1} == {"u1"} and len(only_u1) == 2
    errors = as_json(cli("logs", "sync", "--errors-only", "--json", url=url, token=acme.admin))
    assert [(e["userId"], e["ok"]) for e in errors] == [("u2", False), ("u1", False)]
    assert errors[1]["reason"] == "DISABLED"
    assert errors[0]["errorCode"] == "INVALID_INPUT"


def test_spec_8_admin_log_for_the_admin_and_the_operator(url, acme):
    entries = as_json(cli("logs", "admin", "--json", url=url, token=acme.admin))
    assert [e["action"] for e in entries][-1] == "ORGANIZATION_CREATED"
    assert "SUBSCRIPTION_ADDED" in [e["action"] for e in entries]
    table = cli("logs", "admin", url=url, token=acme.admin)
    assert table.exit_code == 0, table.stderr
    assert row(table.stdout, "at", "action", "target", "actor", "role", "token", "details")
    by_operator = cli("logs", "admin", "--org", acme.id, "--json", url=url, token=OPERATOR)
    assert as_json(by_operator) == entries
    unnamed = cli("logs", "admin", url=url, token=OPERATOR)
    assert unnamed.exit_code != 0 and "organizationId" in unnamed.stderr


def test_spec_8_audit_log_with_user_and_time_range(url, acme):
    entries = as_json(cli("logs", "audit", "--user", "u1", "--json", url=url, token=acme.admin))
    assert [(e["fromState"], e["toState"], e["reason"]) for e in entries] == [
        ("ASSIGNED", "DISABLED", "MANUAL"),
        ("UNASSIGNED", "ASSIGNED", "MANUAL"),
    ]
    table = cli("logs", "audit", url=url, token=acme.admin)
    assert row(table.stdout, entries[0]["at"], "u1", "STANDARD", "ASSIGNED", "DISABLED")
    newest = entries[0]["at"]
    since = as_json(cli("logs", "audit", "--since", newest, "--json", url=url, token=acme.admin))
    assert [e["toState"] for e in since] == ["DISABLED"]
    until = as_json(cli("logs", "audit", "--until", newest, "--json", url=url, token=acme.admin))
    assert [e["toState"] for e in until] == ["ASSIGNED"]
    future = as_json(cli("logs", "audit", "--since", "+1d", "--json", url=url, token=acme.admin))
    assert future == []
    page = cli("logs", "audit", "--first", "1", url=url, token=acme.admin)
    assert page.stderr.strip() == "1 entry; more with --all"
    assert len(as_json(cli("logs", "audit", "--first", "1", "--all", "--json", url=url,
                           token=acme.admin))) == 2  # fmt: skip


@pytest.mark.parametrize(
    "arguments", [["--since", "last tuesday"], ["--first", "0"], ["--until", "2027-13-01"]]
)
def test_spec_8_bad_log_arguments_are_one_line(url, acme, arguments):
    result = cli("logs", "sync", *arguments, url=url, token=acme.admin)
    assert result.exit_code == 2
    one_line(result.stderr)


def test_spec_9_a_sync_token_may_not_read_the_logs(url, acme):
    result = cli("logs", "audit", url=url, token=acme.sync)
    assert result.exit_code == 1 and "SYNC role may not" in one_line(result.stderr)


def test_spec_8_follow_prints_new_entries_as_they_come(url, acme):
    """A real process: `logs sync --follow --json` prints one JSON object a line, ends on SIGINT."""
    environment = clean_environment(SEATKEEPER_URL=url, SEATKEEPER_TOKEN=acme.admin)
    since = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    process = subprocess.Popen(
        [SEATKEEPER, "logs", "sync", "--follow", "--json", "--interval", "0.2", "--since", since],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stdout), daemon=True)
    reader.start()
    try:
        time.sleep(0.5)  # polling a real process: no clock to inject
        sync(url, acme.sync, "follow-1", "follow-1@example.com")
        sync(url, acme.sync, "follow-2", "follow-2@example.com")
        deadline = time.monotonic() + 15
        while not any("follow-2" in line for line in lines) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    reader.join(timeout=5)
    assert process.returncode == 0, process.stderr.read()
    # Other tests of this module share the server and may have synced within the last second.
    followed = [json.loads(line)["userId"] for line in lines]
    assert [u for u in followed if u.startswith("follow-")] == ["follow-1", "follow-2"]
    assert "Traceback" not in process.stderr.read()
