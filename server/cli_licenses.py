"""`licenses` (import, export): SPEC 7's licenses file from the command line.

Also the file options and the export that `users export` shares. Files are never damaged: `-o`
writes beside the target and renames after success (client.py). Exit codes: 0 done, 1 refused by
the rules or a file with errors (a clean dry run is 0), 2 usage or connection.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

# The server's own decoding rule (SPEC 7), applied before sending: clients send the file as text.
from seatkeeper.rules.csv_decoding import decode_licenses_file
from seatkeeper.server.cli_config import ENVIRONMENT_HELP, server_options
from seatkeeper.server.cli_output import note, plural, print_json, table
from seatkeeper.server.client import EXIT_REFUSED, Server, fail

#: Above this size an import or export shows a progress bar (on a terminal).
PROGRESS_BYTES = 256 * 1024

BOM_OPTION = click.option(
    "--bom", is_flag=True, help="Start the file with a byte-order mark (for Excel)."
)
OUTPUT_OPTION = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file (written beside it, renamed when complete). Default: stdout.",
)


def export_file(server: Server, path: str, params: dict[str, str], output: Path | None) -> None:
    """Download one of the server's CSV exports to `output` (stdout without) and say how many rows."""
    rows = server.download(path, params, output, progress=True)
    where = f" to {output}" if output else ""
    note(f"exported {plural(rows, 'row')}{where}")


@click.group(epilog=ENVIRONMENT_HELP)
def licenses() -> None:
    """Import or export the licenses file (SPEC 7)."""


@licenses.command("export", epilog=ENVIRONMENT_HELP)
@OUTPUT_OPTION
@BOM_OPTION
@server_options
def licenses_export(output: Path | None, bom: bool, server: Server, as_json: bool) -> None:
    """Export the licenses file: users holding a seat."""
    export_file(server, "/export/licenses.csv", {"bom": "1"} if bom else {}, output)


IMPORT_EPILOG = (
    "Exit codes: 0 applied, or a dry run of a file without errors; 1 the file has errors or "
    "the rules refused it (nothing was applied); 2 usage or connection. " + ENVIRONMENT_HELP
)


@licenses.command("import", epilog=IMPORT_EPILOG)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mode",
    type=click.Choice(["merge", "replace"], case_sensitive=False),
    default="merge",
    show_default=True,
    help="replace also releases the seats of users absent from the file.",
)
@click.option("--dry-run", is_flag=True, help="Report what would change; change nothing.")
@server_options
def licenses_import(file: Path, mode: str, dry_run: bool, server: Server, as_json: bool) -> None:
    """Import FILE (all or nothing); print the summary and every problem with its line."""
    try:
        raw = file.read_bytes()
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror or error}")
    decoded = decode_licenses_file(raw)
    if decoded.text is None:  # NOT_UTF8 or NOT_CSV, as the server would report it: not sent
        problem = decoded.problem
        assert problem is not None
        report = {
            "applied": False,
            "summary": dict.fromkeys(SUMMARY_FIELDS, 0),
            "problems": [
                {
                    "line": problem.line,
                    "code": str(problem.code),
                    "message": problem.message,
                    "severity": str(problem.severity),
                }
            ],
            "problemTotal": 1,
            "problemCounts": [],
            "userErrors": [],
        }
        if as_json:
            print_json(report)
        else:
            _print_import(file, report, dry_run=False)
        sys.exit(EXIT_REFUSED)
    text = decoded.text
    variables = {"input": {"csv": text, "mode": mode.upper(), "dryRun": dry_run}}
    progress = f"importing {file.name}" if len(raw) > PROGRESS_BYTES else ""
    report = server.call("ImportLicenses", variables, progress=progress)["importLicenses"]
    failed = bool(report["userErrors"]) or not (report["applied"] or dry_run)
    # A file with errors exits 1 even in a dry run; a clean dry run exits 0.
    if as_json:
        print_json(report)
        sys.exit(EXIT_REFUSED if failed else 0)
    _print_import(file, report, dry_run)
    if failed:
        sys.exit(EXIT_REFUSED)


SUMMARY_FIELDS = ("rows", "assigned", "unassigned", "disabled", "created", "unchanged")


def _print_import(file: Path, report: dict[str, Any], dry_run: bool) -> None:
    summary = report["summary"]
    errors = [p for p in report["problems"] if p["severity"] == "ERROR"]
    if report["applied"]:
        state = "applied"
    elif dry_run:
        state = "dry run, nothing applied"
    else:
        state = "NOT applied"
    click.echo(f"{file}: {state}")
    click.echo("  ".join(f"{name}={summary[name]}" for name in SUMMARY_FIELDS))
    verb = "would" if not report["applied"] else "did"
    changed = summary["assigned"] + summary["unassigned"] + summary["disabled"]
    note(
        f"{plural(summary['rows'], 'row')} read; {plural(changed, 'license change')} "
        f"and {plural(summary['created'], 'new user')} {'applied' if verb == 'did' else 'would apply'}"
        + (f"; {plural(len(errors), 'error')}" if errors else "")
    )
    if report["problems"]:
        table(
            ["line", "severity", "code", "message"],
            [
                ("-" if p["line"] is None else p["line"], p["severity"], p["code"], p["message"])
                for p in report["problems"]
            ],
            right=("line",),
        )
    unlisted = report.get("problemTotal", 0) - len(report["problems"])
    if unlisted > 0:
        counts = ", ".join(f"{c['code']} {c['count']:,}" for c in report.get("problemCounts", []))
        note(f"… and {plural(unlisted, 'more problem')} (all problems by code: {counts})")
    for error in report["userErrors"]:
        if error["code"] != "CSV_INVALID":
            click.echo(f"seatkeeper: {error['code']}: {error['message']}", err=True)


COMMANDS = [licenses]
