"""Server-side commands that work on the storage itself, not through a running server:
`seatkeeper rotate-operator-token` (and, for SQLite files, backup and restore).

Each opens the storage the server would use (`--storage`, `SEATKEEPER_STORAGE`, else the default
SQLite file) and ends with one line on stderr and a non-zero code when it cannot.
"""

from __future__ import annotations

import asyncio

import click
from seatkeeper.server.client import fail
from seatkeeper.server.startup import OperatorSecret, default_storage_url, settle_operator_secret
from seatkeeper.storage import StorageConfigError, load_storage
from seatkeeper.storage.loader import redact

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
    url = storage or default_storage_url()
    try:
        backend = load_storage(url)
    except StorageConfigError as error:
        fail(str(error))

    async def rotate() -> OperatorSecret:
        await backend.open()
        try:
            return await settle_operator_secret(backend, rotate=True)
        finally:
            await backend.close()

    try:
        settled = asyncio.run(rotate())
    except Exception as error:  # noqa: BLE001 (any driver error: said in one line)
        fail(f"cannot open the storage {redact(url)}: {error}".splitlines()[0])
    if settled.configured:
        fail("SEATKEEPER_OPERATOR_TOKEN is set: the operator's secret is configuration, not stored")
    click.echo(f"Operator token (shown once): {settled.printable}")


COMMANDS = [rotate_operator_token]
