"""Server-side commands that work on the storage itself, not through a running server:
`seatkeeper rotate-operator-token`, and for stores that offer it (the SQLite file)
`seatkeeper backup --to FILE` (while servers run) and `seatkeeper restore FILE` (servers stopped).

Each opens the storage the server would use (`--storage`, `SEATKEEPER_STORAGE`, else the default
SQLite file) and ends with one line on stderr and a non-zero code when it cannot.
"""

from __future__ import annotations

import asyncio
import os

import click
from seatkeeper.server.client import fail
from seatkeeper.server.settings import default_storage_url, operator_token_from
from seatkeeper.server.startup import OperatorSecret, settle_operator_secret
from seatkeeper.storage import StorageConfigError, StorageError, load_storage
from seatkeeper.storage.loader import redact
from seatkeeper.storage.protocol import Backup

STORAGE_OPTION = click.option(
    "--storage",
    default=None,
    envvar="SEATKEEPER_STORAGE",
    help="Storage URL [default: the SQLite file `seatkeeper serve` uses].",
)


@click.command("rotate-operator-token")
@STORAGE_OPTION
def rotate_operator_token(storage: str | None) -> None:
    """Revoke the operator token kept in the storage and print a new one (shown once).

    Running servers accept the new secret at once (they look tokens up in the storage).
    """
    url = storage or default_storage_url(os.environ)
    try:
        backend = load_storage(url)
    except StorageConfigError as error:
        fail(str(error))

    async def rotate() -> OperatorSecret:
        await backend.open()
        try:
            return await settle_operator_secret(
                backend, rotate=True, configured=operator_token_from(os.environ) is not None
            )
        finally:
            await backend.close()

    try:
        settled = asyncio.run(rotate())
    except Exception as error:  # noqa: BLE001 (any driver error: said in one line)
        fail(f"cannot open the storage {redact(url)}: {error}".splitlines()[0])
    if settled.configured:
        fail("SEATKEEPER_OPERATOR_TOKEN is set: the operator's secret is configuration, not stored")
    click.echo(f"Operator token (shown once): {settled.printable}")


def _backup_capable(url: str) -> Backup:
    try:
        backend = load_storage(url)
    except StorageConfigError as error:
        fail(str(error))
    if not isinstance(backend, Backup):
        fail(
            f"the storage {redact(url)} has no backup here: this command copies SQLite files "
            "(for MongoDB use mongodump / mongorestore)"
        )
    return backend


@click.command("backup")
@click.option("--to", "target", required=True, type=click.Path(dir_okay=False), help="New file.")
@STORAGE_OPTION
def backup(target: str, storage: str | None) -> None:
    """Copy the SQLite store to a new file while servers keep serving, and check the copy."""
    backend = _backup_capable(storage or default_storage_url(os.environ))
    try:
        click.echo(backend.backup(target))
    except StorageError as error:
        fail(str(error).splitlines()[0])


@click.command("restore")
@click.argument("source", type=click.Path(dir_okay=False))
@STORAGE_OPTION
def restore(source: str, storage: str | None) -> None:
    """Replace the SQLite store with a backup (stop every server first); both are checked."""
    backend = _backup_capable(storage or default_storage_url(os.environ))
    try:
        click.echo(backend.restore(source))
    except StorageError as error:
        fail(str(error).splitlines()[0])


COMMANDS = [rotate_operator_token, backup, restore]
