"""`seatkeeper serve` once its settings are whole: check the storage, settle the operator's
secret, print where everything is, and run uvicorn (one process, or `workers` processes).

Bad configuration ends with one line on stderr and exit code 2 (`fail`), never a stack trace.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import sys

import click
from seatkeeper.rules.engine import Engine
from seatkeeper.server.app import app_from_settings
from seatkeeper.server.client import fail
from seatkeeper.server.demo import Demo, ensure_demo
from seatkeeper.server.settings import SETTINGS_VARIABLE, Settings
from seatkeeper.server.startup import OperatorSecret, describe_storage, settle_operator_secret
from seatkeeper.server.transport import install_limits
from seatkeeper.storage import (
    SUPPORTED_PROTOCOL_VERSIONS,
    StorageConfigError,
    capabilities_of,
    load_storage,
)
from seatkeeper.storage.loader import redact

log = logging.getLogger("seatkeeper")


def check_port_free(host: str, port: int) -> None:
    """End the command with one line when `host:port` cannot be listened on."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        fail(f"cannot resolve host {host!r}: {error.strerror}")
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                fail(f"port {port} on {host} is already in use")
            fail(f"cannot listen on {host}:{port}: {error.strerror}")


def run(settings: Settings) -> None:
    """Serve as `settings` say; returns when uvicorn stops."""
    import uvicorn

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    storage = settings.storage
    try:
        backend = load_storage(storage)
    except StorageConfigError as error:
        fail(str(error))
    capabilities = capabilities_of(backend)
    if capabilities.protocol_version not in SUPPORTED_PROTOCOL_VERSIONS:
        fail(
            f"the storage plugin for {redact(storage)} implements protocol version "
            f"{capabilities.protocol_version}; this server supports versions "
            f"{SUPPORTED_PROTOCOL_VERSIONS.start}-{SUPPORTED_PROTOCOL_VERSIONS.stop - 1}"
        )
    workers = settings.workers
    if workers > 1 and not capabilities.shared_between_processes:
        fail(
            f"--workers {workers} needs a storage shared between processes; {redact(storage)} "
            f"({type(backend).__name__}) is not: each process would hold its own licenses"
        )
    check_port_free(settings.host, settings.port)
    if settings.metrics_address is not None:
        check_port_free(*settings.metrics_address)

    # Open the storage here, before uvicorn starts: an unreachable database (or a failing index
    # build) then ends the command with one line instead of a traceback from the lifespan.
    async def prepare() -> tuple[Demo | None, OperatorSecret]:
        await backend.open()
        created = await ensure_demo(Engine(backend)) if settings.demo else None
        operator = await settle_operator_secret(
            backend, rotate=settings.demo, configured=settings.operator_token is not None
        )
        if workers > 1:
            await backend.close()  # each worker process opens its own client
        return created, operator

    try:
        created, operator = asyncio.run(prepare())
    except Exception as error:  # any driver error: said in one line, the details in the log
        log.debug("storage start-up failed", exc_info=error)
        fail(f"cannot open the storage {redact(storage)}: {error}".splitlines()[0])
    click.echo(describe_storage(storage, backend))
    if not capabilities.durable:
        log.warning(
            "storage %s keeps nothing: everything is lost when the server stops", redact(storage)
        )
    _announce(settings, created, operator)

    install_limits(settings.transport)
    uvicorn_settings = settings.transport.uvicorn_settings()
    if workers > 1:
        # Each worker imports `worker_app` by name and reads the settings back from this one
        # variable (server/settings.py says why).
        os.environ[SETTINGS_VARIABLE] = settings.to_json()
        uvicorn.run(
            "seatkeeper.server.app:worker_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=workers,
            log_level=settings.log_level,
            access_log=settings.access_log,
            **uvicorn_settings,
        )
        return
    uvicorn.run(
        app_from_settings(settings, backend),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.access_log,
        **uvicorn_settings,
    )


def _announce(settings: Settings, created: Demo | None, operator: OperatorSecret) -> None:
    """The start-up lines: the operator's secret, the demo's tokens, where to point a browser."""
    if operator.printable:
        click.echo(f"Operator token (shown once): {operator.printable}")
    elif operator.token is not None:
        click.echo(
            "Operator token: kept in the storage (hash only) since "
            f"{operator.token.created_at:%Y-%m-%d %H:%M} UTC; "
            "`seatkeeper rotate-operator-token` prints a new one"
        )
    if created is not None:
        organization = created.organization
        state = "created" if created.created else "kept in the storage"
        click.echo(f"Demo organization ({state}): {organization.name} ({organization.id})")
        click.echo(f"  ADMIN token: {created.admin_token}")
        click.echo(f"  SYNC token:  {created.sync_token}")
    where = f"http://{settings.host}:{settings.port}"
    click.echo(f"Console: {where}/ (sign in with an ADMIN, READER or operator token)")
    click.echo(f"GraphiQL: {where}/graphql" if settings.graphiql else f"GraphQL: {where}/graphql")
    if settings.metrics_address is not None:
        metrics_host, metrics_port = settings.metrics_address
        click.echo(f"Metrics: http://{metrics_host}:{metrics_port}/metrics (no token)")
    sys.stdout.flush()
