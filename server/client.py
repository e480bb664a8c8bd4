"""The command line as a client of a running server (like `gh` or `kubectl`): CSV import and export.

`--url` and `--token` (or SEATKEEPER_URL / SEATKEEPER_TOKEN) name the server and the caller.
Exports stream from `GET /export/*.csv` to the file, row by row, never holding the whole file.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import httpx
from seatkeeper.rules.csv_import import decode_licenses_file

EXIT_CONFIG = 2
EXIT_NOT_APPLIED = 1
TIMEOUT = httpx.Timeout(300.0, connect=10.0)

IMPORT_MUTATION = """
mutation ImportLicenses($input: ImportLicensesInput!) {
  importLicenses(input: $input) {
    applied
    summary { rows assigned unassigned disabled created unchanged }
    problems { line code message severity }
    userErrors { code message field }
  }
}
"""


def fail(message: str) -> None:
    """End the command with one line on stderr and the configuration exit code."""
    click.echo(f"seatkeeper: {message}", err=True)
    sys.exit(EXIT_CONFIG)


def server_options(command):
    command = click.option(
        "--token",
        envvar="SEATKEEPER_TOKEN",
        required=True,
        help="Bearer token (ADMIN, or READER for exports).",
    )(command)
    command = click.option(
        "--url",
        envvar="SEATKEEPER_URL",
        default="http://127.0.0.1:8000",
        show_default=True,
        help="The server's base URL.",
    )(command)
    return command


def _headers(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _check_response(response: httpx.Response) -> None:
    if response.status_code == 200:
        return
    try:
        message = response.json()["errors"][0]["message"]
    except Exception:
        message = response.text[:200] or response.reason_phrase
    fail(f"the server answered {response.status_code}: {message}")


def _stream_to(url: str, token: str, path: str, params: dict, output: str | None) -> None:
    target = open(output, "wb") if output else sys.stdout.buffer
    try:
        with httpx.stream(
            "GET", url.rstrip("/") + path, params=params, headers=_headers(token), timeout=TIMEOUT
        ) as response:
            if response.status_code != 200:
                response.read()
                _check_response(response)
            for chunk in response.iter_bytes():
                target.write(chunk)
    except httpx.HTTPError as error:
        fail(f"cannot reach {url}: {error}")
    finally:
        if output:
            target.close()


@click.group()
def licenses() -> None:
    """Import or export the licenses file (SPEC 7)."""


@licenses.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mode",
    type=click.Choice(["merge", "replace"], case_sensitive=False),
    default="merge",
    show_default=True,
)
@click.option("--dry-run", is_flag=True, help="Report what would change; change nothing.")
@server_options
def import_licenses(file: Path, mode: str, dry_run: bool, url: str, token: str) -> None:
    """Import FILE; print the summary and every problem. Exits 1 when nothing was applied."""
    # The server's own decoding rule (SPEC 7): UTF-8 with or without a BOM, UTF-16 with a BOM;
    # anything else is the NOT_UTF8 problem the server would report, without sending the file.
    decoded = decode_licenses_file(file.read_bytes())
    if decoded.problem is not None:
        click.echo(f"{file}: NOT applied")
        problem = decoded.problem
        _print_problems(
            [
                {
                    "line": problem.line,
                    "severity": "ERROR",
                    "code": problem.code,
                    "message": problem.message,
                }
            ]
        )
        sys.exit(EXIT_NOT_APPLIED)
    text = decoded.text
    variables = {"input": {"csv": text, "mode": mode.upper(), "dryRun": dry_run}}
    try:
        response = httpx.post(
            url.rstrip("/") + "/graphql",
            json={"query": IMPORT_MUTATION, "variables": variables},
            headers=_headers(token),
            timeout=TIMEOUT,
        )
    except httpx.HTTPError as error:
        fail(f"cannot reach {url}: {error}")
    _check_response(response)
    body = response.json()
    if body.get("errors"):
        fail(body["errors"][0]["message"])
    report = body["data"]["importLicenses"]
    summary = report["summary"]
    state = (
        "applied"
        if report["applied"]
        else ("dry run, nothing applied" if dry_run else "NOT applied")
    )
    click.echo(f"{file}: {state}")
    click.echo(
        "  ".join(
            f"{name}={summary[name]}"
            for name in ("rows", "assigned", "unassigned", "disabled", "created", "unchanged")
        )
    )
    _print_problems(report["problems"])
    for error in report["userErrors"]:
        if error["code"] != "CSV_INVALID":
            click.echo(f"error: {error['code']}: {error['message']}", err=True)
    # A clean dry run succeeds; a file with errors, or an import that was not applied, does not.
    if report["userErrors"] or not (report["applied"] or dry_run):
        sys.exit(EXIT_NOT_APPLIED)


def _print_problems(problems: list[dict]) -> None:
    if problems:
        click.echo(f"{'line':>6}  {'severity':<8}  {'code':<18}  message")
        for problem in problems:
            line = "-" if problem["line"] is None else str(problem["line"])
            click.echo(
                f"{line:>6}  {problem['severity']:<8}  {problem['code']:<18}  {problem['message']}"
            )


BOM_OPTION = click.option(
    "--bom", is_flag=True, help="Start the file with a byte-order mark (for Excel)."
)


@licenses.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write to this file (default: standard output).",
)
@BOM_OPTION
@server_options
def export_licenses(output: str | None, bom: bool, url: str, token: str) -> None:
    """Export the licenses file: users holding a seat."""
    _stream_to(url, token, "/export/licenses.csv", {"bom": "1"} if bom else {}, output)


@click.group()
def users() -> None:
    """Export the users file (SPEC 7)."""


@users.command("export")
@click.option("--search", help="Only users whose id, name or email contains this.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write to this file (default: standard output).",
)
@BOM_OPTION
@server_options
def export_users(search: str | None, output: str | None, bom: bool, url: str, token: str) -> None:
    """Export every user matching the search, with their license states and last sync."""
    params = {"search": search} if search else {}
    _stream_to(url, token, "/export/users.csv", {**params, "bom": "1"} if bom else params, output)
