"""The storage URL, and the one MongoClient per process that every MongoStorage of a URL shares.

`mongodb://host1,host2/seatkeeper?replicaSet=rs0&serverSelectionTimeoutMS=3000` or
`mongodb+srv://cluster.example.net/seatkeeper`: the database is the URL's path (default
`seatkeeper`); every query option pymongo knows is passed to it, with these defaults when the URL
does not set them:

| option | default | why |
| --- | --- | --- |
| `serverSelectionTimeoutMS` | 5000 | start-up and `/readyz` fail in seconds, not pymongo's 30 s |
| `connectTimeoutMS` | 5000 | a dead host is given up quickly |
| `socketTimeoutMS` | 30000 | no request hangs forever on a stalled connection |
| `w` | `majority` | an acknowledged seat survives a primary's failover (invariant 1); any other value is refused |
| `wTimeoutMS` | 10000 | a write that no majority acknowledges fails in seconds instead of hanging (then repair decides) |
| `retryWrites` | `true` | a failover retries a write once, exactly once on the server |
| `appname` | `seatkeeper` | visible in the server's logs and `currentOp` |

Options of the plugin itself, taken out of the URL before pymongo sees it:

* `syncLogRetentionDays` (default 90; 0 keeps entries forever): the TTL of the sync log (SPEC 8).
* `workerThreads` (default 32): the threads that run the blocking driver off the event loop.
* `journalStaleSeconds` (default 120): how old (by the server's clock) an unfinished change set
  must be before `repair` (and an operation that runs into it) finishes or rolls it back. Refused
  below `2 x socketTimeoutMS` (and below 30): the owner gives up at half this age, and a write it
  sent just before may take up to `socketTimeoutMS` to be applied, so repair must never start
  before that. `socketTimeoutMS=0` (no timeout) is refused for the same reason.
* `cacheSeconds` (default 1; 0 turns it off): how long a process reuses an organization, a project
  or a subscription list it read (`cache.py`). Writes through the same process forget them at once.
  Refused above 30: a changed setting must reach every process within seconds.
* `repairSeconds` (default `journalStaleSeconds / 4`): how often a running process looks for
  stale change sets and repairs them (no restart needed after a failover or a crash).

Each refusal is one line, at start-up (the loader turns the ValueError into StorageConfigError).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:  # imported when first used (acquire_client): building a storage stays cheap
    from pymongo import MongoClient

DEFAULT_DATABASE = "seatkeeper"
DEFAULT_CLIENT_OPTIONS = {
    "serverSelectionTimeoutMS": "5000",
    "connectTimeoutMS": "5000",
    "socketTimeoutMS": "30000",
    "w": "majority",
    "wTimeoutMS": "10000",
    "retryWrites": "true",
    "appname": "seatkeeper",
}
PLUGIN_OPTIONS = {
    "syncLogRetentionDays": 90,
    "workerThreads": 32,
    "journalStaleSeconds": 120,
    "cacheSeconds": 1,
    "repairSeconds": 0,
}
MAX_CACHE_SECONDS = 30
MIN_JOURNAL_STALE_SECONDS = 30


@dataclass(frozen=True)
class MongoSettings:
    """What a storage URL says, split into what pymongo gets and what the plugin keeps."""

    client_uri: str  # the URL with the plugin's own options removed and the defaults added
    database: str
    sync_log_retention_days: int = 90
    worker_threads: int = 32
    journal_stale_seconds: int = 120
    cache_seconds: int = 1
    repair_seconds: float = 30
    hosts: str = field(default="", compare=False)  # for messages: host list, never credentials


def parse_url(url: str) -> MongoSettings:
    """Read a `mongodb://` or `mongodb+srv://` URL. Raises ValueError with a one-line reason."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("mongodb", "mongodb+srv"):
        raise ValueError(
            f"expected a mongodb:// or mongodb+srv:// URL, got scheme {parts.scheme!r}"
        )
    hosts = parts.netloc.rsplit("@", 1)[-1]
    if not hosts:
        raise ValueError("the MongoDB URL names no host, e.g. mongodb://localhost:27017/seatkeeper")
    database = parts.path.lstrip("/") or DEFAULT_DATABASE
    if any(ch in database for ch in '/\\. "$') or len(database) > 63:
        raise ValueError(f"{database!r} is not a valid MongoDB database name")
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    own = {name.lower(): name for name in PLUGIN_OPTIONS}
    values = dict(PLUGIN_OPTIONS)
    passed = []
    for name, value in pairs:
        if name.lower() in own:
            canonical = own[name.lower()]
            try:
                values[canonical] = int(value)
            except ValueError:
                raise ValueError(
                    f"URL option {canonical} must be a whole number, got {value!r}"
                ) from None
        else:
            passed.append((name, value))
    if (
        min(values["syncLogRetentionDays"], values["journalStaleSeconds"], values["cacheSeconds"])
        < 0
    ):
        raise ValueError("syncLogRetentionDays, journalStaleSeconds and cacheSeconds must be >= 0")
    if values["workerThreads"] < 1:
        raise ValueError("workerThreads must be >= 1")
    options = {name.lower(): value for name, value in passed}
    write_concern = options.get("w", "majority")
    if write_concern != "majority":
        raise ValueError(
            f"w={write_concern} is refused: an acknowledged seat must survive a failover (w=majority)"
        )
    try:
        socket_ms = int(options.get("sockettimeoutms", DEFAULT_CLIENT_OPTIONS["socketTimeoutMS"]))
    except ValueError:
        raise ValueError("socketTimeoutMS must be a whole number of milliseconds") from None
    if socket_ms <= 0:
        raise ValueError("socketTimeoutMS must be set (> 0): it bounds journalStaleSeconds")
    stale_floor = max(MIN_JOURNAL_STALE_SECONDS, 2 * socket_ms // 1000)
    if values["journalStaleSeconds"] < stale_floor:
        raise ValueError(
            f"journalStaleSeconds={values['journalStaleSeconds']} is below {stale_floor} "
            f"(2 x socketTimeoutMS): repair could take over a change set still being written"
        )
    if values["cacheSeconds"] > MAX_CACHE_SECONDS:
        raise ValueError(
            f"cacheSeconds={values['cacheSeconds']} is above {MAX_CACHE_SECONDS}: "
            "other processes would serve old settings that long"
        )
    present = {name.lower() for name, _ in passed}
    passed += [(k, v) for k, v in DEFAULT_CLIENT_OPTIONS.items() if k.lower() not in present]
    client_uri = urlunsplit((parts.scheme, parts.netloc, "/" + database, urlencode(passed), ""))
    return MongoSettings(
        client_uri=client_uri,
        database=database,
        sync_log_retention_days=values["syncLogRetentionDays"],
        worker_threads=values["workerThreads"],
        journal_stale_seconds=values["journalStaleSeconds"],
        cache_seconds=values["cacheSeconds"],
        repair_seconds=values["repairSeconds"] or values["journalStaleSeconds"] / 4,
        hosts=hosts,
    )


# ------------------------------------------------------------------ one client per process


@dataclass
class _Shared:
    """A process's client for one URL, and how many storages use it."""

    client: MongoClient[dict[str, Any]]
    users: int = 0


_clients: dict[tuple[int, str], _Shared] = {}  # by (pid, uri)
_clients_lock = threading.Lock()


def acquire_client(settings: MongoSettings) -> MongoClient[dict[str, Any]]:
    """The process's MongoClient for this URL, created on first use (it connects lazily).

    Keyed by the process id too: a client must never be used across a fork (pymongo's rule).
    """
    from pymongo import MongoClient  # imported here so that building a MongoStorage stays cheap

    key = (os.getpid(), settings.client_uri)
    with _clients_lock:
        entry = _clients.get(key)
        if entry is None:
            entry = _clients[key] = _Shared(
                MongoClient(settings.client_uri, tz_aware=True, connect=False)
            )
        entry.users += 1
        return entry.client


def release_client(settings: MongoSettings) -> None:
    """Give back a client from `acquire_client`; the last user closes it."""
    key = (os.getpid(), settings.client_uri)
    with _clients_lock:
        entry = _clients.get(key)
        if entry is None:
            return
        entry.users -= 1
        if entry.users <= 0:
            del _clients[key]
            entry.client.close()
