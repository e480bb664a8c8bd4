"""The `seatkeeper` command line: `serve`, and a client of a running server for CSV files.

Bad configuration ends with one line on stderr and a non-zero exit code, never a stack trace.
"""

from __future__ import annotations

import os

import click
from seatkeeper.server import (
    cli_admin,
    cli_licenses,
    cli_logs,
    cli_tokens,
    cli_users,
    storage_commands,
)
from seatkeeper.server.cli_config import OneLineErrors, completion, config_group, show_environment
from seatkeeper.server.client import fail


@click.group(cls=OneLineErrors)
@click.version_option(package_name="seatkeeper")
def main() -> None:
    """Seatkeeper: a license server for the users of a mobile CRM app.

    `serve` runs the server; every other command is a client of a running server (SEATKEEPER_URL,
    SEATKEEPER_TOKEN, or a profile saved with `seatkeeper config save`). Exit codes: 0 done, 1
    refused by the rules or a file with errors, 2 usage, configuration or connection.
    """


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
@click.option(
    "--metrics-port",
    default=None,
    type=click.IntRange(1, 65535),
    envvar="SEATKEEPER_METRICS_PORT",
    help="Also serve GET /metrics on this port, without a token (for a scraper on a private "
    "interface); /metrics on --port always needs the operator's token. Default: off.",
)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    envvar="SEATKEEPER_METRICS_HOST",
    help="Interface of --metrics-port.",
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
    metrics_port: int | None,
    metrics_host: str,
) -> None:
    """Serve the GraphQL API (POST /graphql, GraphiQL in a browser, /healthz, /readyz)."""
    from seatkeeper.server.cors import CorsConfigError, parse_origins
    from seatkeeper.server.serving import run
    from seatkeeper.server.settings import (
        Settings,
        SettingsError,
        default_storage_url,
        operator_token_from,
    )

    # The settings, whole and checked, before anything starts (server/settings.py).
    try:
        settings = Settings(
            storage=storage or default_storage_url(os.environ),
            host=host,
            port=port,
            demo=demo,
            no_graphiql=no_graphiql,
            workers=workers,
            max_body_bytes=max_body_bytes,
            sync_log_retention_days=sync_log_retention_days,
            max_connections=max_connections,
            max_header_bytes=max_header_bytes,
            max_headers=max_headers,
            header_timeout=header_timeout,
            body_timeout=body_timeout,
            keep_alive=keep_alive,
            auth_failures_burst=auth_failures_burst,
            auth_failures_per_minute=auth_failures_per_minute,
            token_requests_per_second=token_requests_per_second,
            trusted_proxies=trusted_proxies,
            log_level=log_level,
            access_log=access_log,
            cors_origins=tuple(parse_origins(cors_origins)),
            metrics_host=metrics_host,
            metrics_port=metrics_port,
            operator_token=operator_token_from(os.environ),
        )
    except (SettingsError, CorsConfigError) as error:
        fail(str(error))
    run(settings)


show_environment(
    serve,
    {
        "SEATKEEPER_OPERATOR_TOKEN": "the OPERATOR's secret as configuration (default: a "
        "token kept in the storage as a hash, printed once when created)",
        "SEATKEEPER_DATA_DIR": "where the default SQLite file lives",
    },
)
for command in [
    *cli_admin.COMMANDS,
    *cli_tokens.COMMANDS,
    *cli_users.COMMANDS,
    *cli_licenses.COMMANDS,
    *cli_logs.COMMANDS,
]:
    main.add_command(command)
main.add_command(config_group)
main.add_command(completion)
for _command in storage_commands.COMMANDS:  # server-side commands on the storage itself
    main.add_command(_command)

if __name__ == "__main__":
    main()
