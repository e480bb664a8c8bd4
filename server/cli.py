"""The `seatkeeper` command line: `serve`, and a client of a running server for CSV files.

Bad configuration ends with one line on stderr and a non-zero exit code, never a stack trace.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import socket
import sys

import click
from seatkeeper.server import cli_admin, cli_logs, cli_users, storage_commands
from seatkeeper.server.cli_config import OneLineErrors, completion, config_group, show_environment
from seatkeeper.server.client import fail
from seatkeeper.storage import StorageConfigError, load_storage
from seatkeeper.storage.loader import redact


@click.group(cls=OneLineErrors)
@click.version_option(package_name="seatkeeper")
def main() -> None:
    """Seatkeeper: a license server for the users of a mobile CRM app.

    `serve` runs the server; every other command is a client of a running server (SEATKEEPER_URL,
    SEATKEEPER_TOKEN, or a profile saved with `seatkeeper config save`). Exit codes: 0 done, 1
    refused by the rules or a file with errors, 2 usage, configuration or connection.
    """


def _check_port_free(host: str, port: int) -> None:
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


#: `serve`'s logging defaults (benchmarks/server_app.py --shipped measures B1 with them, B14).
DEFAULT_LOG_LEVEL = "info"
#: Off: uvicorn's access log through Python logging cost a quarter of sync throughput (issue 12).
DEFAULT_ACCESS_LOG = False


@main.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    envvar="SEATKEEPER_HOST",
    help="Interface to listen on.",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    envvar="SEATKEEPER_PORT",
)
@click.option(
    "--storage",
    default=None,
    envvar="SEATKEEPER_STORAGE",
    help="Storage URL. [default: a SQLite file seatkeeper.db in SEATKEEPER_DATA_DIR, else "
    "$XDG_DATA_HOME/seatkeeper, else ~/.local/share/seatkeeper]",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Create the demo organization (once) and print fresh operator, ADMIN and SYNC tokens.",
)
@click.option(
    "--no-graphiql", is_flag=True, envvar="SEATKEEPER_NO_GRAPHIQL", help="Do not serve GraphiQL."
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    envvar="SEATKEEPER_WORKERS",
)
@click.option(
    "--max-body-bytes",
    default=20 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(1024),
    envvar="SEATKEEPER_MAX_BODY_BYTES",
)
@click.option(
    "--sync-log-retention-days",
    default=90,
    show_default=True,
    type=click.IntRange(0, 36500),
    envvar="SEATKEEPER_SYNC_LOG_RETENTION_DAYS",
    help="Sync-log entries older than this are purged (SPEC 8); 0 keeps them.",
)
@click.option(
    "--max-connections",
    default=2_000,
    show_default=True,
    type=click.IntRange(1),
    envvar="SEATKEEPER_MAX_CONNECTIONS",
    help="Open connections per process; more are closed at once.",
)
@click.option(
    "--max-header-bytes",
    default=16 * 1024,
    show_default=True,
    type=click.IntRange(1024),
    envvar="SEATKEEPER_MAX_HEADER_BYTES",
    help="Request line and headers; larger is 431.",
)
@click.option(
    "--max-headers",
    default=100,
    show_default=True,
    type=click.IntRange(1),
    envvar="SEATKEEPER_MAX_HEADERS",
    help="Headers per request; more is 431.",
)
@click.option(
    "--header-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1),
    envvar="SEATKEEPER_HEADER_TIMEOUT",
    help="Seconds for a request's headers to arrive; else 408.",
)
@click.option(
    "--body-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1),
    envvar="SEATKEEPER_BODY_TIMEOUT",
    help="Seconds a request body may stay idle; else the connection is closed.",
)
@click.option(
    "--keep-alive",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.1),
    envvar="SEATKEEPER_KEEP_ALIVE",
    help="Seconds an idle connection is kept between requests.",
)
@click.option(
    "--auth-failures-burst",
    default=20,
    show_default=True,
    type=click.IntRange(1),
    envvar="SEATKEEPER_AUTH_FAILURES_BURST",
    help="Wrong tokens an address may send before 429.",
)
@click.option(
    "--auth-failures-per-minute",
    default=60.0,
    show_default=True,
    type=click.FloatRange(0.1),
    envvar="SEATKEEPER_AUTH_FAILURES_PER_MINUTE",
    help="How fast an address's allowance of wrong tokens refills.",
)
@click.option(
    "--token-requests-per-second",
    default=None,
    type=click.FloatRange(0.1),
    envvar="SEATKEEPER_TOKEN_REQUESTS_PER_SECOND",
    help="Requests per second per token (a token bucket); off by default.",
)
@click.option(
    "--trusted-proxies",
    default="",
    envvar="SEATKEEPER_TRUSTED_PROXIES",
    help="Comma-separated proxy addresses or networks whose X-Forwarded-For is believed.",
)
@click.option(
    "--log-level",
    default=DEFAULT_LOG_LEVEL,
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
@click.option(
    "--access-log/--no-access-log",
    default=DEFAULT_ACCESS_LOG,
    show_default=True,
    envvar="SEATKEEPER_ACCESS_LOG",
    help="Log every request (uvicorn's access log; it costs about a quarter of sync throughput).",
)
@click.option(
    "--cors-origin",
    "cors_origins",
    multiple=True,
    envvar="SEATKEEPER_CORS_ORIGINS",
    help="An origin browsers may call the API from (repeatable; the variable takes a comma-"
    "separated list; * for any, then without credentials). Default: CORS off.",
)
def serve(
    host: str,
    port: int,
    storage: str | None,
    demo: bool,
    no_graphiql: bool,
    workers: int,
    max_body_bytes: int,
    sync_log_retention_days: int,
    max_connections: int,
    max_header_bytes: int,
    max_headers: int,
    header_timeout: float,
    body_timeout: float,
    keep_alive: float,
    auth_failures_burst: int,
    auth_failures_per_minute: float,
    token_requests_per_second: float | None,
    trusted_proxies: str,
    log_level: str,
    access_log: bool,
    cors_origins: tuple[str, ...],
) -> None:
    """Serve the GraphQL API (POST /graphql, GraphiQL in a browser, /healthz, /readyz)."""
    import uvicorn
    from seatkeeper.rules.engine import Engine
    from seatkeeper.server.app import create_app
    from seatkeeper.server.cors import CorsConfigError, parse_origins

    try:
        origins = parse_origins(cors_origins)
    except CorsConfigError as error:
        fail(str(error))
    from seatkeeper.server.demo import Demo, ensure_demo
    from seatkeeper.server.startup import (
        OperatorSecret,
        default_storage_url,
        describe_storage,
        settle_operator_secret,
    )
    from seatkeeper.server.throttle import parse_networks
    from seatkeeper.server.transport import TransportLimits
    from seatkeeper.storage import SUPPORTED_PROTOCOL_VERSIONS, capabilities_of

    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    storage = storage or default_storage_url()
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
    if workers > 1 and not capabilities.shared_between_processes:
        fail(
            f"--workers {workers} needs a storage shared between processes; {redact(storage)} "
            f"({type(backend).__name__}) is not: each process would hold its own licenses"
        )
    _check_port_free(host, port)

    # Open the storage here, before uvicorn starts: an unreachable database (or a failing index
    # build) then ends the command with one line instead of a traceback from the lifespan.
    async def prepare() -> tuple[Demo | None, OperatorSecret]:
        await backend.open()
        created = await ensure_demo(Engine(backend)) if demo else None
        operator = await settle_operator_secret(backend, rotate=demo)
        if workers > 1:
            await backend.close()  # each worker process opens its own client
        return created, operator

    try:
        created, operator = asyncio.run(prepare())
    except Exception as error:  # any driver error: said in one line, the details in the log
        logging.getLogger("seatkeeper").debug("storage start-up failed", exc_info=error)
        fail(f"cannot open the storage {redact(storage)}: {error}".splitlines()[0])
    click.echo(describe_storage(storage, backend))
    if not capabilities.durable:
        logging.getLogger("seatkeeper").warning(
            "storage %s keeps nothing: everything is lost when the server stops", redact(storage)
        )
    operator_token = os.environ.get("SEATKEEPER_OPERATOR_TOKEN")
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
    click.echo(f"Console: http://{host}:{port}/ (sign in with an ADMIN, READER or operator token)")
    click.echo(
        f"GraphiQL: http://{host}:{port}/graphql"
        if not no_graphiql
        else f"GraphQL: http://{host}:{port}/graphql"
    )
    sys.stdout.flush()

    limits = TransportLimits(
        max_header_bytes=max_header_bytes,
        max_headers=max_headers,
        header_timeout=header_timeout,
        body_timeout=body_timeout,
        max_connections=max_connections,
        keep_alive=keep_alive,
    )
    os.environ.update(limits.to_environment())  # what each worker's protocol class reads
    try:
        parse_networks(trusted_proxies)
    except ValueError as error:
        fail(f"--trusted-proxies: {error}")
    # What each worker's app reads (server/app.py throttle_from_environment).
    os.environ["SEATKEEPER_AUTH_FAILURES_BURST"] = str(auth_failures_burst)
    os.environ["SEATKEEPER_AUTH_FAILURES_PER_MINUTE"] = str(auth_failures_per_minute)
    os.environ["SEATKEEPER_TRUSTED_PROXIES"] = trusted_proxies
    if token_requests_per_second:
        os.environ["SEATKEEPER_TOKEN_REQUESTS_PER_SECOND"] = str(token_requests_per_second)
    if workers > 1:
        os.environ["SEATKEEPER_STORAGE"] = storage  # the default resolved: every worker's file
        os.environ["SEATKEEPER_MAX_BODY_BYTES"] = str(max_body_bytes)
        os.environ["SEATKEEPER_SYNC_LOG_RETENTION_DAYS"] = str(sync_log_retention_days)
        if no_graphiql:
            os.environ["SEATKEEPER_NO_GRAPHIQL"] = "1"
        os.environ["SEATKEEPER_CORS_ORIGINS"] = ",".join(origins)
        uvicorn.run(
            "seatkeeper.server.app:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            access_log=access_log,
            **limits.uvicorn_settings(),
        )
        return
    app = create_app(
        backend,
        operator_token=operator_token,
        graphiql=not no_graphiql,
        max_body_bytes=max_body_bytes,
        sync_log_retention_days=sync_log_retention_days,
        cors_origins=origins,
    )
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=access_log,
        **limits.uvicorn_settings(),
    )


show_environment(
    serve,
    {
        "SEATKEEPER_OPERATOR_TOKEN": "the OPERATOR's secret as configuration (default: a "
        "token kept in the storage as a hash, printed once when created)",
        "SEATKEEPER_DATA_DIR": "where the default SQLite file lives",
    },
)
for command in [*cli_admin.COMMANDS, *cli_users.COMMANDS, *cli_logs.COMMANDS]:
    main.add_command(command)
main.add_command(config_group)
main.add_command(completion)
for _command in storage_commands.COMMANDS:  # server-side commands on the storage itself
    main.add_command(_command)

if __name__ == "__main__":
    main()
