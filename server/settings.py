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

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final, Protocol

import orjson
from seatkeeper.server.cors import CorsConfigError, parse_origins
from seatkeeper.server.retention import DEFAULT_RETENTION_DAYS
from seatkeeper.server.throttle import Throttle, parse_networks
from seatkeeper.server.transport import TransportLimits

#: The variable through which `serve` hands its settings to its worker processes (see above).
SETTINGS_VARIABLE: Final = "SEATKEEPER_SETTINGS_JSON"
OPERATOR_TOKEN_VARIABLE: Final = "SEATKEEPER_OPERATOR_TOKEN"
DATA_DIR_VARIABLE: Final = "SEATKEEPER_DATA_DIR"
DATABASE_FILE: Final = "seatkeeper.db"
LOG_LEVELS: Final = ("debug", "info", "warning", "error")
DEFAULT_MAX_BODY_BYTES: Final = 20 * 1024 * 1024
_DEFAULT_LIMITS: Final = TransportLimits()

#: Each setting's flag and variable, as error messages name them (None: there is none).
OPTIONS: Final[Mapping[str, tuple[str | None, str | None]]] = {
    "host": ("--host", "SEATKEEPER_HOST"),
    "port": ("--port", "SEATKEEPER_PORT"),
    "storage": ("--storage", "SEATKEEPER_STORAGE"),
    "demo": ("--demo", None),
    "no_graphiql": ("--no-graphiql", "SEATKEEPER_NO_GRAPHIQL"),
    "workers": ("--workers", "SEATKEEPER_WORKERS"),
    "max_body_bytes": ("--max-body-bytes", "SEATKEEPER_MAX_BODY_BYTES"),
    "sync_log_retention_days": (
        "--sync-log-retention-days",
        "SEATKEEPER_SYNC_LOG_RETENTION_DAYS",
    ),
    "max_connections": ("--max-connections", "SEATKEEPER_MAX_CONNECTIONS"),
    "max_header_bytes": ("--max-header-bytes", "SEATKEEPER_MAX_HEADER_BYTES"),
    "max_headers": ("--max-headers", "SEATKEEPER_MAX_HEADERS"),
    "header_timeout": ("--header-timeout", "SEATKEEPER_HEADER_TIMEOUT"),
    "body_timeout": ("--body-timeout", "SEATKEEPER_BODY_TIMEOUT"),
    "keep_alive": ("--keep-alive", "SEATKEEPER_KEEP_ALIVE"),
    "auth_failures_burst": ("--auth-failures-burst", "SEATKEEPER_AUTH_FAILURES_BURST"),
    "auth_failures_per_minute": (
        "--auth-failures-per-minute",
        "SEATKEEPER_AUTH_FAILURES_PER_MINUTE",
    ),
    "token_requests_per_second": (
        "--token-requests-per-second",
        "SEATKEEPER_TOKEN_REQUESTS_PER_SECOND",
    ),
    "trusted_proxies": ("--trusted-proxies", "SEATKEEPER_TRUSTED_PROXIES"),
    "log_level": ("--log-level", None),
    "access_log": ("--access-log", "SEATKEEPER_ACCESS_LOG"),
    "cors_origins": ("--cors-origin", "SEATKEEPER_CORS_ORIGINS"),
    "metrics_host": ("--metrics-host", "SEATKEEPER_METRICS_HOST"),
    "metrics_port": ("--metrics-port", "SEATKEEPER_METRICS_PORT"),
    "operator_token": (None, OPERATOR_TOKEN_VARIABLE),
}


class SettingsError(ValueError):
    """A wrong setting: the message names its flag and variable and says what is expected."""


def label(name: str) -> str:
    """`--port / SEATKEEPER_PORT`: how a message names the setting `name`."""
    return " / ".join(part for part in OPTIONS[name] if part)


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
        _text("host", self.host, limit=253)
        _text("storage", self.storage, limit=4096, shown=False)  # a URL may carry a password
        _whole("port", self.port, 1, 65535)
        _whole("workers", self.workers, 1, 64)
        _whole("max_body_bytes", self.max_body_bytes, 1024)
        _whole("sync_log_retention_days", self.sync_log_retention_days, 0, 36500)
        _whole("max_connections", self.max_connections, 1)
        _whole("max_header_bytes", self.max_header_bytes, 1024)
        _whole("max_headers", self.max_headers, 1)
        _whole("auth_failures_burst", self.auth_failures_burst, 1)
        _real("header_timeout", self.header_timeout, 0.1)
        _real("body_timeout", self.body_timeout, 0.1)
        _real("keep_alive", self.keep_alive, 0.1)
        _real("auth_failures_per_minute", self.auth_failures_per_minute, 0.1)
        if self.token_requests_per_second is not None:
            _real("token_requests_per_second", self.token_requests_per_second, 0.1)
        _text("metrics_host", self.metrics_host, limit=253)
        if self.metrics_port is not None:
            _whole("metrics_port", self.metrics_port, 1, 65535)
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
            _text("operator_token", self.operator_token, limit=1024, shown=False)
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
        return _build(_Environment(environ), default_storage_url(environ))

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
        return _build(_Json(document), "")

    def to_json(self) -> str:
        return orjson.dumps(asdict(self)).decode()


def operator_token_from(environ: Mapping[str, str]) -> str | None:
    """SEATKEEPER_OPERATOR_TOKEN (None when unset or empty)."""
    return environ.get(OPERATOR_TOKEN_VARIABLE) or None


def data_dir(environ: Mapping[str, str]) -> Path:
    """The folder of the default SQLite file: SEATKEEPER_DATA_DIR, else $XDG_DATA_HOME/seatkeeper,
    else ~/.local/share/seatkeeper."""
    configured = environ.get(DATA_DIR_VARIABLE)
    if configured:
        return Path(configured).expanduser()
    xdg = environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "seatkeeper"


def default_storage_url(environ: Mapping[str, str]) -> str:
    """`sqlite:///` and the absolute path of the default file."""
    return f"sqlite:///{(data_dir(environ) / DATABASE_FILE).absolute()}"


# ---------------------------------------------------------------- checks


def _text(name: str, value: str, *, limit: int, shown: bool = True) -> None:
    if not value.strip():
        raise SettingsError(f"{label(name)}: empty")
    if len(value) > limit:
        raise SettingsError(f"{label(name)}: longer than {limit} characters")
    if not value.isprintable():
        raise SettingsError(f"{label(name)}: holds a control character")
    if shown and value != value.strip():
        raise SettingsError(f"{label(name)}: {value!r} starts or ends with whitespace")


def _whole(name: str, value: int, low: int, high: int | None = None) -> None:
    if low <= value and (high is None or value <= high):
        return
    expected = f"{low} to {high}" if high is not None else f"at least {low}"
    raise SettingsError(f"{label(name)}: {value} is not {expected}")


def _real(name: str, value: float, low: float) -> None:
    if not math.isfinite(value) or value < low:
        raise SettingsError(f"{label(name)}: {value} is not a finite number of at least {low}")


# ---------------------------------------------------------------- sources


class _Source(Protocol):
    """Typed values by setting name; `default` when the source leaves the setting out."""

    def text(self, name: str, default: str) -> str: ...
    def optional_text(self, name: str) -> str | None: ...
    def whole(self, name: str, default: int) -> int: ...
    def optional_whole(self, name: str) -> int | None: ...
    def real(self, name: str, default: float) -> float: ...
    def optional_real(self, name: str) -> float | None: ...
    def flag(self, name: str, default: bool) -> bool: ...
    def origins(self, name: str) -> tuple[str, ...]: ...


def _build(source: _Source, default_storage: str) -> Settings:
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


#: Plain decimal numbers only (Python's int() and float() take `1_000`, `١٢`, `nan`, `inf`).
_WHOLE = re.compile(r"[+-]?[0-9]{1,18}")
_REAL = re.compile(r"[+-]?(?:[0-9]{1,18}(?:\.[0-9]{0,18})?|\.[0-9]{1,18})(?:[eE][+-]?[0-9]{1,3})?")

#: click's spellings of a boolean variable (`click.BOOL`).
_TRUE = frozenset({"1", "true", "t", "yes", "y", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "off"})


class _Environment:
    """SEATKEEPER_* variables, as click reads them: an empty variable counts as unset."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def _raw(self, name: str) -> str | None:
        variable = OPTIONS[name][1]
        raw = self.environ.get(variable) if variable else None
        return raw if raw else None

    def text(self, name: str, default: str) -> str:
        raw = self._raw(name)
        return default if raw is None else raw

    def optional_text(self, name: str) -> str | None:
        return self._raw(name)

    def whole(self, name: str, default: int) -> int:
        value = self.optional_whole(name)
        return default if value is None else value

    def optional_whole(self, name: str) -> int | None:
        raw = self._raw(name)
        if raw is None:
            return None
        if not _WHOLE.fullmatch(raw.strip()):
            raise SettingsError(f"{label(name)}: {raw[:40]!r} is not a whole number")
        return int(raw)

    def real(self, name: str, default: float) -> float:
        value = self.optional_real(name)
        return default if value is None else value

    def optional_real(self, name: str) -> float | None:
        raw = self._raw(name)
        if raw is None:
            return None
        if not _REAL.fullmatch(raw.strip()):  # no nan, inf, 1_000 or non-ASCII digits
            raise SettingsError(f"{label(name)}: {raw[:40]!r} is not a number")
        return float(raw)

    def flag(self, name: str, default: bool) -> bool:
        raw = self._raw(name)
        if raw is None:
            return default
        spelled = raw.strip().lower()
        if spelled in _TRUE or spelled in _FALSE:
            return spelled in _TRUE
        raise SettingsError(f"{label(name)}: {raw[:40]!r} is not one of 1, 0, true, false, …")

    def origins(self, name: str) -> tuple[str, ...]:
        try:
            return tuple(parse_origins([self._raw(name) or ""]))
        except CorsConfigError as error:
            raise SettingsError(f"{label(name)}: {error}") from None


class _Json:
    """The JSON object `Settings.to_json` wrote: every key present, every value of its type."""

    def __init__(self, document: dict[str, object]) -> None:
        self.document = document

    def _get(self, name: str) -> object:
        if name not in self.document:
            raise SettingsError(f"{SETTINGS_VARIABLE}: no {name!r}")
        return self.document[name]

    def _wrong(self, name: str, kind: str) -> SettingsError:
        return SettingsError(f"{SETTINGS_VARIABLE}: {name!r} is not {kind}")

    def text(self, name: str, default: str) -> str:
        value = self._get(name)
        if not isinstance(value, str):
            raise self._wrong(name, "a string")
        return value

    def optional_text(self, name: str) -> str | None:
        value = self._get(name)
        return None if value is None else self.text(name, "")

    def whole(self, name: str, default: int) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(name, "a whole number")
        return value

    def optional_whole(self, name: str) -> int | None:
        return None if self._get(name) is None else self.whole(name, 0)

    def real(self, name: str, default: float) -> float:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._wrong(name, "a number")
        return float(value)

    def optional_real(self, name: str) -> float | None:
        return None if self._get(name) is None else self.real(name, 0.0)

    def flag(self, name: str, default: bool) -> bool:
        value = self._get(name)
        if not isinstance(value, bool):
            raise self._wrong(name, "true or false")
        return value

    def origins(self, name: str) -> tuple[str, ...]:
        value = self._get(name)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._wrong(name, "a list of strings")
        return tuple(str(v) for v in value)
