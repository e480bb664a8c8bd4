"""`users` (list, show, create, delete, set-license, export); `licenses` is `cli_licenses`.

Files are never damaged: `-o` writes beside the target and renames after success (client.py).
Exit codes: 0 done, 1 refused by the rules or a file with errors (a clean dry run is 0), 2 usage
or connection.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Any

import click
import orjson
from seatkeeper.server.cli_config import ENVIRONMENT_HELP, server_options
from seatkeeper.server.cli_licenses import BOM_OPTION, OUTPUT_OPTION, export_file
from seatkeeper.server.cli_output import (
    exit_on_user_errors,
    fields,
    note,
    plural,
    print_json,
    table,
)
from seatkeeper.server.cli_types import LICENSE_STATE, LICENSE_TYPE, PAGE_SIZE, SEAT_TYPE
from seatkeeper.server.client import EXIT_REFUSED, Server, fail


def _user_rows(nodes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            u["id"],
            u["fullName"],
            u["email"],
            u["standard"],
            u["inspections"],
            u["activeLicense"],
            u["lastSyncAt"],
        )
        for u in nodes
    ]


USER_COLUMNS = ["id", "name", "email", "standard", "inspections", "active", "last sync"]


@click.group(epilog=ENVIRONMENT_HELP)
def users() -> None:
    """Mobile users: list, show, create, delete, set licenses, export (SPEC 3, 6a, 7)."""


@users.command("list", epilog=ENVIRONMENT_HELP)
@click.option("--search", help="Id, name or e-mail contains this (case-insensitive).")
@click.option("--type", "license_type", type=LICENSE_TYPE, help="Filter on this selector.")
@click.option("--state", type=LICENSE_STATE, help="Filter on this state (with --type: its own).")
@click.option("--inactive/--active", default=None, help="Inactive for inactivityDays, or not.")
@click.option("--first", default=50, show_default=True, type=PAGE_SIZE, help="Page size.")
@click.option("--after", help="Cursor of the previous page (printed after each page).")
@click.option("--all", "every_page", is_flag=True, help="Follow the pages to the end.")
@server_options
def users_list(
    search: str | None,
    license_type: str | None,
    state: str | None,
    inactive: bool | None,
    first: int,
    after: str | None,
    every_page: bool,
    server: Server,
    as_json: bool,
) -> None:
    """Users in name order (SPEC 6a), one page at a time unless --all."""
    filters = {"licenseType": license_type, "state": state, "inactive": inactive}
    variables: dict[str, Any] = {
        "search": search,
        "filter": filters if any(v is not None for v in filters.values()) else None,
        "first": first,
        "after": after,
    }
    nodes: list[dict[str, Any]] = []
    while True:
        page = server.call("Users", variables)["users"]
        nodes.extend(edge["node"] for edge in page["edges"])
        info = page["pageInfo"]
        if not (every_page and info["hasNextPage"]):
            break
        variables["after"] = info["endCursor"]
    next_cursor = info["endCursor"] if info["hasNextPage"] else None
    if as_json:
        print_json({"totalCount": page["totalCount"], "users": nodes, "nextCursor": next_cursor})
        return
    table(USER_COLUMNS, _user_rows(nodes))
    shown = f"{len(nodes):,} of {plural(page['totalCount'], 'user')}"
    note(f"{shown}; next page: --after {next_cursor}" if next_cursor else shown)


@users.command("show", epilog=ENVIRONMENT_HELP)
@click.argument("user_id")
@server_options
def users_show(user_id: str, server: Server, as_json: bool) -> None:
    """One user, with its license selectors and dates."""
    found = server.call("User", {"id": user_id})["user"]
    if found is None:
        if as_json:
            print_json(None)
        fail(f"no user {user_id!r}", EXIT_REFUSED)
    if as_json:
        print_json(found)
        return
    fields(list(found.items()))


def _users_from_csv(file: Path) -> list[dict[str, str]]:
    """Rows of a users or licenses file (SPEC 7 headers) as UserInput: Assigned / Disabled / empty."""
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        fail(f"{file} is not UTF-8 text; save it from the spreadsheet as CSV UTF-8")
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror or error}")
    reader = csv.DictReader(io.StringIO(text))
    header = {(name or "").strip().lower(): name for name in reader.fieldnames or []}
    missing = [n for n in ("id", "full name", "email") if n not in header]
    if missing:
        fail(f"{file}: missing column(s) {', '.join(missing)} (header: Id, Full Name, Email, …)")
    states = {"": "UNASSIGNED", "assigned": "ASSIGNED", "enabled": "ASSIGNED"}
    states["disabled"] = "DISABLED"
    result = []
    for line, row in enumerate(reader, start=2):
        user = {
            "id": (row.get(header["id"]) or "").strip(),
            "fullName": (row.get(header["full name"]) or "").strip(),
            "email": (row.get(header["email"]) or "").strip(),
        }
        for column, key in (("standard", "standard"), ("inspections", "inspections")):
            value = (row.get(header[column]) or "").strip().lower() if column in header else ""
            if value not in states:
                fail(f"{file}, line {line}: {column} must be Assigned, Disabled or empty")
            user[key] = states[value]
        if any(user.values()):
            result.append(user)
    if not result:
        fail(f"{file} has no users")
    return result


@users.command("create", epilog=ENVIRONMENT_HELP)
@click.argument("user_id", required=False)
@click.option("--name", help="Full name.")
@click.option("--email", help="E-mail (unique in the organization).")
@click.option("--standard", type=LICENSE_STATE, default="unassigned", show_default=True)
@click.option("--inspections", type=LICENSE_STATE, default="unassigned", show_default=True)
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Create every row of this file instead (Id, Full Name, Email, Standard, Inspections).",
)
@server_options
def users_create(
    user_id: str | None,
    name: str | None,
    email: str | None,
    standard: str,
    inspections: str,
    csv_file: Path | None,
    server: Server,
    as_json: bool,
) -> None:
    """Pre-provision users before their first sync, with chosen license states (all or none)."""
    if csv_file is not None:
        if user_id or name or email:
            fail("give either USER_ID with --name/--email, or --csv FILE")
        new_users = _users_from_csv(csv_file)
    else:
        if not (user_id and name and email):
            fail("USER_ID, --name and --email are required (or --csv FILE)")
        new_users = [
            {
                "id": user_id,
                "fullName": name,
                "email": email,
                "standard": standard,
                "inspections": inspections,
            }
        ]
    payload = server.call("CreateUsers", {"users": new_users})["createUsers"]
    exit_on_user_errors(payload, as_json)
    if as_json:
        print_json(payload["users"])
        return
    created = payload["users"]
    table(
        ["id", "name", "email", "standard", "inspections", "active"],
        [
            (
                u["id"],
                u["fullName"],
                u["email"],
                u["standard"],
                u["inspections"],
                u["activeLicense"],
            )
            for u in created
        ],
    )
    note(f"created {plural(len(created), 'user')}")


def _ids(user_ids: tuple[str, ...], ids_file: Path | None) -> list[str]:
    ids = list(user_ids)
    if ids_file is not None:
        try:
            text = (
                sys.stdin.read() if str(ids_file) == "-" else ids_file.read_text(encoding="utf-8")
            )
        except (OSError, UnicodeDecodeError) as error:
            fail(f"cannot read {ids_file}: {getattr(error, 'strerror', None) or error}")
        ids.extend(line.strip() for line in text.splitlines() if line.strip())
    if not ids:
        fail("name at least one user id (arguments, or --ids-file FILE with one id a line)")
    return ids


IDS_FILE_OPTION = click.option(
    "--ids-file",
    type=click.Path(dir_okay=False, path_type=Path, allow_dash=True),
    help="Also the user ids in this file, one a line (- for standard input).",
)


@users.command("delete", epilog=ENVIRONMENT_HELP)
@click.argument("user_ids", nargs=-1)
@IDS_FILE_OPTION
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@server_options
def users_delete(
    user_ids: tuple[str, ...], ids_file: Path | None, yes: bool, server: Server, as_json: bool
) -> None:
    """Delete users and release their seats (all or none)."""
    ids = _ids(user_ids, ids_file)
    if not yes:
        if not sys.stdin.isatty():
            fail("deleting users needs --yes when not run from a terminal")
        click.confirm(f"Delete {plural(len(ids), 'user')}?", abort=True, err=True)
    payload = server.call("DeleteUsers", {"userIds": ids})["deleteUsers"]
    exit_on_user_errors(payload, as_json)
    if as_json:
        print_json(payload["deletedIds"])
        return
    note(f"deleted {plural(len(payload['deletedIds']), 'user')}")


@users.command("set-license", epilog=ENVIRONMENT_HELP)
@click.argument("license_type", metavar="TYPE", type=SEAT_TYPE)
@click.argument("state", metavar="STATE", type=LICENSE_STATE)
@click.argument("user_ids", nargs=-1)
@IDS_FILE_OPTION
@server_options
def users_set_license(
    license_type: str,
    state: str,
    user_ids: tuple[str, ...],
    ids_file: Path | None,
    server: Server,
    as_json: bool,
) -> None:
    """Set TYPE (standard, inspections) to STATE (assigned, unassigned, disabled) for one or many
    users, all or none (SPEC 3: not enough seats changes nothing)."""
    ids = _ids(user_ids, ids_file)
    variables = {"input": {"userIds": ids, "licenseType": license_type, "state": state}}
    payload = server.call("SetLicenseState", variables)["setLicenseState"]
    exit_on_user_errors(payload, as_json)
    if as_json:
        print_json(payload["users"])
        return
    changed = payload["users"]
    table(
        ["id", "name", "standard", "inspections", "active"],
        [
            (u["id"], u["fullName"], u["standard"], u["inspections"], u["activeLicense"])
            for u in changed
        ],
    )
    note(f"{license_type} {state} for {plural(len(changed), 'user')}")


@users.command("export", epilog=ENVIRONMENT_HELP)
@click.option("--search", help="Only users whose id, name or email contains this.")
@OUTPUT_OPTION
@BOM_OPTION
@server_options
def users_export(
    search: str | None, output: Path | None, bom: bool, server: Server, as_json: bool
) -> None:
    """Export every user matching the search, with license states and last sync (SPEC 7)."""
    params = {"search": search} if search else {}
    export_file(server, "/export/users.csv", {**params, "bom": "1"} if bom else params, output)


def dump(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


COMMANDS = [users]
