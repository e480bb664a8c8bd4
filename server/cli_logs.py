"""`logs sync`, `logs audit` and `logs admin` (SPEC 8): filters, a time range, and `--follow`,
which polls.

The API answers newest first; a table lists the newest first as well. `--follow` prints the
entries so far oldest first, then polls every `--interval` seconds for entries at or after the
last one seen and prints the new ones as they come (Ctrl-C ends it, exit 0).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import click
import orjson
from seatkeeper.server.cli_config import ENVIRONMENT_HELP, server_options
from seatkeeper.server.cli_output import note, plural, print_json, table
from seatkeeper.server.cli_types import MOMENT, PAGE_SIZE
from seatkeeper.server.client import Server

SYNC_COLUMNS = ["at", "user", "email", "project", "client", "ok", "error", "reason", "type", "temp"]
AUDIT_COLUMNS = ["at", "user", "type", "from", "to", "actor", "reason", "operation", "for user"]
ADMIN_COLUMNS = ["at", "action", "target", "actor", "role", "token", "details"]


def _sync_row(e: dict[str, Any]) -> tuple[Any, ...]:
    return (
        e["at"],
        e["userId"],
        e["email"],
        e["projectId"],
        e["client"],
        e["ok"],
        e["errorCode"],
        e["reason"],
        e["licenseType"],
        e["temporary"],
    )


def _audit_row(e: dict[str, Any]) -> tuple[Any, ...]:
    return (
        e["at"],
        e["userId"],
        e["licenseType"],
        e["fromState"],
        e["toState"],
        e["actor"],
        e["reason"],
        e["operationId"],
        e["beneficiaryUserId"],
    )


def _admin_row(e: dict[str, Any]) -> tuple[Any, ...]:
    return (
        e["at"],
        e["action"],
        e["targetId"],
        e["actor"],
        e["actorRole"],
        e["actorTokenId"],
        e["details"],
    )


class LogReader:
    """Reads one log through its operation, newest first, following the pages as asked."""

    def __init__(
        self,
        server: Server,
        operation: str,
        field: str,
        filters: dict[str, Any],
        arguments: dict[str, Any] | None = None,
    ) -> None:
        self.server = server
        self.operation = operation
        self.field = field
        self.filters = filters
        self.arguments = arguments or {}  # the operation's variables beside the filter

    def read(
        self, since: str | None, first: int, every_page: bool
    ) -> tuple[list[dict[str, Any]], bool]:
        """Entries (newest first) and whether more pages remain."""
        filters = {**self.filters, **({"since": since} if since else {})}
        variables: dict[str, Any] = {
            **self.arguments,
            "filter": filters or None,
            "first": first,
            "after": None,
        }
        entries: list[dict[str, Any]] = []
        while True:
            page = self.server.call(self.operation, variables)[self.field]
            entries.extend(edge["node"] for edge in page["edges"])
            more = page["pageInfo"]["hasNextPage"]
            if not (every_page and more):
                return entries, more
            variables["after"] = page["pageInfo"]["endCursor"]


def _show(
    reader: LogReader,
    *,
    since: str | None,
    first: int,
    every_page: bool,
    follow: bool,
    interval: float,
    as_json: bool,
    columns: list[str],
    row: Callable[[dict[str, Any]], tuple[Any, ...]],
) -> None:
    entries, more = reader.read(since, first, every_page)
    if not follow:
        if as_json:
            print_json(entries)
            return
        table(columns, [row(e) for e in entries])
        note(f"{plural(len(entries), 'entry', 'entries')}" + ("; more with --all" if more else ""))
        return
    seen: set[bytes] = set()  # the entries printed at `last_at` (a poll asks from there again)
    last_at = since

    def emit(batch: list[dict[str, Any]]) -> None:
        nonlocal last_at, seen
        for entry in reversed(batch):  # oldest first
            key = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)
            if entry["at"] == last_at and key in seen:
                continue
            if entry["at"] != last_at:
                last_at, seen = entry["at"], set()
            seen.add(key)
            if as_json:
                click.echo(orjson.dumps(entry).decode("utf-8"))  # one JSON object a line
            else:
                click.echo("  ".join(str(v) if v is not None else "-" for v in row(entry)))
            sys.stdout.flush()

    if not as_json:
        click.echo("  ".join(columns))
    emit(entries)
    try:
        while True:
            time.sleep(interval)
            # Entries at the last instant seen come again (since is inclusive): `seen` skips them.
            batch, _ = reader.read(last_at, 500, every_page=True)
            emit(batch)
    except KeyboardInterrupt:
        return


def _common(command: Callable[..., Any]) -> Callable[..., Any]:
    return _time_and_paging(
        click.option("--user", "user_id", help="Only this user's entries.")(command)
    )


def _time_and_paging(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--since", type=MOMENT, help="From (inclusive): 2027-01-31, -1h, …"),
            click.option("--until", type=MOMENT, help="Until (exclusive)."),
            click.option("--first", default=50, show_default=True, type=PAGE_SIZE),
            click.option("--all", "every_page", is_flag=True, help="Follow the pages to the end."),
            click.option("--follow", "-f", is_flag=True, help="Keep polling for new entries."),
            click.option(
                "--interval",
                default=2.0,
                show_default=True,
                type=click.FloatRange(0.1, 3600),
                help="Seconds between polls with --follow.",
            ),
        ]
    ):
        command = option(command)
    return command


@click.group(epilog=ENVIRONMENT_HELP)
def logs() -> None:
    """The sync log, the audit log and the administration log (SPEC 8), newest first."""


@logs.command("sync", epilog=ENVIRONMENT_HELP)
@_common
@click.option("--errors-only", is_flag=True, help="Only refused syncs.")
@server_options
def logs_sync(
    user_id: str | None,
    since: str | None,
    until: str | None,
    first: int,
    every_page: bool,
    follow: bool,
    interval: float,
    errors_only: bool,
    server: Server,
    as_json: bool,
) -> None:
    """Every sync attempt: who, when, which project, granted or refused and why."""
    filters: dict[str, Any] = {"userId": user_id, "until": until}
    if errors_only:
        filters["errorsOnly"] = True
    reader = LogReader(server, "SyncLog", "syncLog", _present(filters))
    _show(
        reader,
        since=since,
        first=first,
        every_page=every_page,
        follow=follow,
        interval=interval,
        as_json=as_json,
        columns=SYNC_COLUMNS,
        row=_sync_row,
    )


@logs.command("audit", epilog=ENVIRONMENT_HELP)
@_common
@server_options
def logs_audit(
    user_id: str | None,
    since: str | None,
    until: str | None,
    first: int,
    every_page: bool,
    follow: bool,
    interval: float,
    server: Server,
    as_json: bool,
) -> None:
    """Every license change: who acted, why, from which state to which."""
    reader = LogReader(
        server, "AuditLog", "auditLog", _present({"userId": user_id, "until": until})
    )
    _show(
        reader,
        since=since,
        first=first,
        every_page=every_page,
        follow=follow,
        interval=interval,
        as_json=as_json,
        columns=AUDIT_COLUMNS,
        row=_audit_row,
    )


@logs.command("admin", epilog=ENVIRONMENT_HELP)
@click.option("--org", "organization_id", help="The organization (the OPERATOR must name one).")
@_time_and_paging
@server_options
def logs_admin(
    organization_id: str | None,
    since: str | None,
    until: str | None,
    first: int,
    every_page: bool,
    follow: bool,
    interval: float,
    server: Server,
    as_json: bool,
) -> None:
    """Every administrative change that is not a license change: organizations, settings,
    projects, subscriptions, tokens created and revoked, and who made it. ADMIN or OPERATOR."""
    reader = LogReader(
        server,
        "AdminLog",
        "adminLog",
        _present({"until": until}),
        {"organizationId": organization_id},
    )
    _show(
        reader,
        since=since,
        first=first,
        every_page=every_page,
        follow=follow,
        interval=interval,
        as_json=as_json,
        columns=ADMIN_COLUMNS,
        row=_admin_row,
    )


def _present(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


COMMANDS = [logs]
