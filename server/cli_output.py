"""How the command line prints: rich tables for people, `--json` for scripts, progress on stderr.

Colour and progress bars only on a terminal (rich decides, and honours NO_COLOR); piped output is
plain text at its natural width, one row per line, so `grep` and `awk` work on it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import click
import orjson
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.table import Table

#: Wide enough that rich never wraps or cuts a cell when the output is not a terminal.
PIPE_WIDTH = 100_000


def console(stderr: bool = False) -> Console:
    """A console on the current stdout (or stderr): styled on a terminal, plain otherwise."""
    stream = sys.stderr if stderr else sys.stdout
    terminal = stream.isatty()
    return Console(
        file=stream,
        width=None if terminal else PIPE_WIDTH,
        highlight=False,
        soft_wrap=not terminal,
        emoji=False,
    )


def print_json(value: Any) -> None:
    """`--json`: one JSON document on stdout, keys as the GraphQL API names them."""
    click.echo(orjson.dumps(value, option=orjson.OPT_INDENT_2).decode("utf-8"))


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _print(renderable: Any) -> None:
    """On a terminal as rich renders it; piped, without the padding at the end of each line."""
    out = console()
    if out.is_terminal:
        out.print(renderable)
        return
    with out.capture() as captured:
        out.print(renderable)
    click.echo("\n".join(line.rstrip() for line in captured.get().splitlines()))


def table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    title: str | None = None,
    right: Sequence[str] = (),
) -> None:
    """Print an aligned table; `None` shows as `-`, booleans as yes/no; `right`: number columns."""
    grid = Table(
        title=title,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        header_style="bold",
        title_justify="left",
    )
    for column in columns:
        grid.add_column(column, justify="right" if column in right else "left")
    for row in rows:
        grid.add_row(*(cell(value) for value in row))
    _print(grid)


def fields(pairs: Sequence[tuple[str, Any]]) -> None:
    """Print `name  value` lines, aligned: one record (whoami, a user, an organization)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    for name, value in pairs:
        grid.add_row(name, cell(value))
    _print(grid)


def note(message: str) -> None:
    """A line for people on stderr (counts, hints), so stdout stays data."""
    console(stderr=True).print(message, markup=False, highlight=False)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`1 user`, `2 users`: counts in sentences."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


@contextlib.contextmanager
def transfer_progress(what: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A progress bar of bytes on stderr (only when stderr is a terminal); yields `advance(n)`.

    With a `total` (an upload), the bar turns into "waiting for the server" once it is full."""
    err = console(stderr=True)
    if not err.is_terminal:
        yield lambda _: None
        return
    columns = [
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task(what, total=total)

        def advance(n: int) -> None:
            progress.advance(task, n)
            if total is not None and progress.tasks[0].completed >= total:
                progress.update(task, description=f"{what}: waiting for the server")

        yield advance


def exit_on_user_errors(payload: dict[str, Any], as_json: bool, shown: int = 20) -> None:
    """A payload the rules refused: its userErrors on stderr (JSON: the payload too), exit 1."""
    errors = payload.get("userErrors") or []
    if not errors:
        return
    if as_json:
        print_json(payload)
    for error in errors[:shown]:
        user_id = error.get("userId")
        who = f" (user {user_id})" if user_id and str(user_id) not in error["message"] else ""
        click.echo(f"seatkeeper: {error['code']}: {error['message']}{who}", err=True)
    if len(errors) > shown:
        click.echo(f"seatkeeper: … and {len(errors) - shown} more (--json lists them)", err=True)
    sys.exit(1)
