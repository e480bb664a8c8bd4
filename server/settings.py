"""The server's settings: one frozen object, built and checked once, then passed down.

**Where values come from.** `seatkeeper serve` builds `Settings` from its flags; click gives each
flag its SEATKEEPER_* variable (README "Configuration"), a flag given on the command line wins.
Two variables have no flag: SEATKEEPER_OPERATOR_TOKEN (a secret, kept off the command line, where
`ps` would show it) and SEATKEEPER_DATA_DIR (the folder of the default SQLite file, see
server/startup.py). `Settings.from_environment()` reads the same variables without click, with the
same defaults, for `uvicorn --factory seatkeeper.server.app:app_from_environment` and other
embedders. Nothing else in the server reads the environment for its configuration: `create_app`
takes arguments, and `app_from_settings` hands it the values of a `Settings`.

**Checked once.** Constructing a `Settings` refuses a wrong, empty or hostile value with a
`SettingsError` whose message names the flag and the variable and says what is expected: a number
out of its range, not a number, not finite (click's FloatRange lets `nan` through), a host or
storage URL that is empty or holds control characters, a malformed CORS origin or proxy network,
an operator token with whitespace in it. Nothing is started before the settings are whole.

**Workers.** With `--workers N` uvicorn starts N processes, and each imports the app factory by
name (`seatkeeper.server.app:worker_app`): the settings cannot travel as an object. `serve`
serialises them once, as one JSON object in one variable, SEATKEEPER_SETTINGS_JSON, which the
worker processes inherit; each worker parses it back with `Settings.from_json`, which checks every
key's type and then the values as above, so the workers run on exactly what `serve` checked and
printed. One variable rather than a temporary file: nothing to delete when the server is killed,
nothing left on disk; the one secret it may hold, the operator's token, reached the server through
the environment in the first place. The variable is for the workers, not for users (an unknown or
missing key is an error).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Final

import orjson
from seatkeeper.server.cors import CorsConfigError, parse_origins
from seatkeeper.server.retention import DEFAULT_RETENTION_DAYS
from seatkeeper.server.settings_sources import (
    OPTIONS,
    SETTINGS_VARIABLE,
    EnvironmentSource,
    JsonSource,
    SettingsError,
    Source,
    check_real,
    check_text,
    check_whole,
    default_storage_url,
    label,
    operator_token_from,
)
from seatkeeper.server.throttle import Throttle, parse_networks
from seatkeeper.server.transport import TransportLimits

# Where values come from and how wrong ones are named: server/settings_sources.py. Importers of
# this module find the names they need of it here too.
__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "LOG_LEVELS",
    "SETTINGS_VARIABLE",
    "Settings",
    "SettingsError",
    "default_storage_url",
    "operator_token_from",
]

LOG_LEVELS: Final = ("debug", "info", "warning", "error")
DEFAULT_MAX_BODY_BYTES: Final = 20 * 1024 * 1024
_DEFAULT_LIMITS: Final = TransportLimits()


@dataclass(frozen=True)
class Settings:
    """Everything `seatkeeper serve` is configured with; the field names are the flags'."""

    storage: str
    host: str = "127.0.0.1"
    port: int = 8000
    demo: bool = False
    no_graphiql: bool = False
    workers: int = 1
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    sync_log_retention_days: int = DEFAULT_RETENTION_DAYS
    max_connections: int = _DEFAULT_LIMITS.max_connections
    max_header_bytes: int = _DEFAULT_LIMITS.max_header_bytes
    max_headers: int = _DEFAULT_LIMITS.max_headers
    header_timeout: float = _DEFAULT_LIMITS.header_timeout
    body_timeout: float = _DEFAULT_LIMITS.body_timeout
    keep_alive: float = _DEFAULT_LIMITS.keep_alive
    auth_failures_burst: int = 20
    auth_failures_per_minute: float = 60.0
    token_requests_per_second: float | None = None
    trusted_proxies: str = ""
    log_level: str = "info"
    access_log: bool = False
    cors_origins: tuple[str, ...] = ()
    #: `GET /metrics` also on this address, without a token (server/metrics_server.py); off
    #: without a port.
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = None
    #: The OPERATOR's secret when configured (never printed: kept out of the repr).
    operator_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        check_text("host", self.host, limit=253)
        check_text("storage", self.storage, limit=4096, shown=False)  # a URL may carry a password
        check_whole("port", self.port, 1, 65535)
        check_whole("workers", self.workers, 1, 64)
        check_whole("max_body_bytes", self.max_body_bytes, 1024)
        check_whole("sync_log_retention_days", self.sync_log_retention_days, 0, 36500)
        check_whole("max_connections", self.max_connections, 1)
        check_whole("max_header_bytes", self.max_header_bytes, 1024)
        check_whole("max_headers", self.max_headers, 1)
        check_whole("auth_failures_burst", self.auth_failures_burst, 1)
        check_real("header_timeout", self.header_timeout, 0.1)
        check_real("body_timeout", self.body_timeout, 0.1)
        check_real("keep_alive", self.keep_alive, 0.1)
        check_real("auth_failures_per_minute", self.auth_failures_per_minute, 0.1)
        if self.token_requests_per_second is not None:
            check_real("token_requests_per_second", self.token_requests_per_second, 0.1)
        check_text("metrics_host", self.metrics_host, limit=253)
        if self.metrics_port is not None:
            check_whole("metrics_port", self.metrics_port, 1, 65535)
            if self.workers > 1:
                raise SettingsError(
                    f"{label('metrics_port')}: serves one process; with {label('workers')} "
                    f"{self.workers} each worker counts for itself: scrape /metrics on "
                    f"{label('port')} with the operator's token"
                )
            if self.metrics_port == self.port and self.metrics_host == self.host:
                raise SettingsError(f"{label('metrics_port')}: is {label('port')}")
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"{label('log_level')}: one of {', '.join(LOG_LEVELS)}")
        try:
            parse_networks(self.trusted_proxies)
        except ValueError as error:
            raise SettingsError(f"{label('trusted_proxies')}: {error}") from None
        try:
            normalised = tuple(parse_origins(self.cors_origins))
        except CorsConfigError as error:
            raise SettingsError(f"{label('cors_origins')}: {error}") from None
        if normalised != self.cors_origins:  # `parse_origins` strips, deduplicates
            raise SettingsError(f"{label('cors_origins')}: {self.cors_origins} is not normalised")
        if self.operator_token is not None:
            check_text("operator_token", self.operator_token, limit=1024, shown=False)
            if any(character.isspace() for character in self.operator_token):
                raise SettingsError(f"{label('operator_token')}: holds whitespace")

    # ------------------------------------------------------------ what the parts are built from

    @property
    def graphiql(self) -> bool:
        return not self.no_graphiql

    @property
    def metrics_address(self) -> tuple[str, int] | None:
        """Where `GET /metrics` is also served without a token, or None."""
        return None if self.metrics_port is None else (self.metrics_host, self.metrics_port)

    @property
    def transport(self) -> TransportLimits:
        """The limits of server/transport.py."""
        return TransportLimits(
            max_header_bytes=self.max_header_bytes,
            max_headers=self.max_headers,
            header_timeout=self.header_timeout,
            body_timeout=self.body_timeout,
            max_connections=self.max_connections,
            keep_alive=self.keep_alive,
        )

    def throttle(self) -> Throttle:
        """A new `Throttle` (server/throttle.py): each app keeps its own buckets."""
        return Throttle.default(
            failures_burst=self.auth_failures_burst,
            failures_per_minute=self.auth_failures_per_minute,
            token_requests_per_second=self.token_requests_per_second,
            trusted_proxies=self.trusted_proxies,
        )

    # ------------------------------------------------------------ from and to their sources

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> Settings:
        """The documented SEATKEEPER_* variables (an empty one counts as unset, as for click)."""
        return _build(EnvironmentSource(environ), default_storage_url(environ))

    @classmethod
    def from_json(cls, text: str) -> Settings:
        """The settings `to_json` wrote (for the worker processes; see the module docstring)."""
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise SettingsError(f"{SETTINGS_VARIABLE}: not JSON") from None
        if not isinstance(document, dict):
            raise SettingsError(f"{SETTINGS_VARIABLE}: not a JSON object")
        unknown = sorted(set(document) - set(OPTIONS))
        if unknown:
            raise SettingsError(f"{SETTINGS_VARIABLE}: unknown keys {', '.join(unknown)}")
        return _build(JsonSource(document), "")

    def to_json(self) -> str:
        return orjson.dumps(asdict(self)).decode()


def _build(source: Source, default_storage: str) -> Settings:
    defaults = Settings(storage="memory://")
    return Settings(
        storage=source.text("storage", default_storage),
        host=source.text("host", defaults.host),
        port=source.whole("port", defaults.port),
        demo=source.flag("demo", defaults.demo),
        no_graphiql=source.flag("no_graphiql", defaults.no_graphiql),
        workers=source.whole("workers", defaults.workers),
        max_body_bytes=source.whole("max_body_bytes", defaults.max_body_bytes),
        sync_log_retention_days=source.whole(
            "sync_log_retention_days", defaults.sync_log_retention_days
        ),
        max_connections=source.whole("max_connections", defaults.max_connections),
        max_header_bytes=source.whole("max_header_bytes", defaults.max_header_bytes),
        max_headers=source.whole("max_headers", defaults.max_headers),
        header_timeout=source.real("header_timeout", defaults.header_timeout),
        body_timeout=source.real("body_timeout", defaults.body_timeout),
        keep_alive=source.real("keep_alive", defaults.keep_alive),
        auth_failures_burst=source.whole("auth_failures_burst", defaults.auth_failures_burst),
        auth_failures_per_minute=source.real(
            "auth_failures_per_minute", defaults.auth_failures_per_minute
        ),
        token_requests_per_second=source.optional_real("token_requests_per_second"),
        trusted_proxies=source.text("trusted_proxies", defaults.trusted_proxies),
        log_level=source.text("log_level", defaults.log_level),
        access_log=source.flag("access_log", defaults.access_log),
        cors_origins=source.origins("cors_origins"),
        metrics_host=source.text("metrics_host", defaults.metrics_host),
        metrics_port=source.optional_whole("metrics_port"),
        operator_token=source.optional_text("operator_token"),
    )
