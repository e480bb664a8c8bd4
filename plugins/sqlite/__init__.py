"""The SQLite storage plugin (`sqlite:///relative/file.db`, `sqlite:////absolute/file.db`):
the durable embedded default, one file on the server's disk, standard library `sqlite3` only.

    seatkeeper serve --storage sqlite:////var/lib/seatkeeper/seatkeeper.db --workers 2

## Durability

* **WAL journal** (`PRAGMA journal_mode=WAL`): readers never wait for the writer, and the writer
  never waits for readers.
* **`synchronous=NORMAL`** by default (`?synchronous=FULL` in the URL for more): a commit is in the
  WAL file, in the operating system's hands, before `apply_changes` or `write_sync` returns. A
  seat answered `ok` therefore survives a crash or SIGKILL of the server process, always. After
  a *power loss or kernel crash*, NORMAL keeps the file consistent (never half a change set) but
  may lose the last transactions committed since the WAL was last synced (at each checkpoint);
  `FULL` syncs the WAL on every commit, so that nothing answered is lost even then, at the cost
  of one fsync per write. (`EXTRA` is accepted too, as SQLite defines it.)
* **Every write is one `BEGIN IMMEDIATE` transaction**: it takes the file's write lock before
  reading what it checks, so the check and the write are one atomic step for every process that
  opens the file (invariants 1–5 hold across `--workers`). A write that finds the lock held
  waits up to `?timeout=` seconds (default 30) for it, then fails with a StorageError.

## Threads and the event loop

Writes and every read that may touch many rows run off the event loop: writes on one writer
thread per process (so that the process's own writers queue in Python instead of spinning on
SQLite's busy handler), lists, scans and range counts on a small pool of reader threads. Each
thread has its own connection to the file (a `sqlite3` connection belongs to the thread that uses
it). What runs on the event loop's own connection (`_point_read`) is a read of one row or a few
through an index — a user by key or e-mail, a token by hash, a seat counter, the organization,
project and subscription rows (`tests/plugins/test_sqlite_sync_commits.py` checks their query
plans) —: tens of microseconds, less than the thread hop it replaces. Such a read never waits:
in WAL mode readers do not wait for writers, and the connection has no busy timeout (a busy
answer sends the read to a reader thread).

A sync's writes (`write_sync`) are one transaction. Syncs that queue while the writer is busy
share one BEGIN IMMEDIATE … COMMIT, each in its own savepoint (`sync_writes.py`): a refusal rolls
back that sync alone, and nobody is answered before the COMMIT. Several processes share the file
safely: the plugin declares `shared_between_processes`.

## Schema

`schema.py`: tables, an index for every query the protocol makes, and `PRAGMA user_version`
migrations (a file from a newer Seatkeeper is refused at `open()` with a message saying so).

URL options: `synchronous` (NORMAL, FULL or EXTRA), `timeout` (seconds to wait for another
process's write lock, default 30), `readers` (reader threads, default 4), `cache_seconds` (how
long a process reuses an organization, project or subscription list it read, default 1, 0 turns
it off; its own writes invalidate at once, another process's are seen within that time).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit

import orjson
from seatkeeper.domain.records import (
    SEAT_TYPES,
    AdminLogEntry,
    AuditEntry,
    LicenseState,
    LicenseType,
    MobileUser,
    Organization,
    Project,
    Settings,
    Subscription,
    SyncLogEntry,
    Token,
)
from seatkeeper.plugins.sqlite import backup as copies
from seatkeeper.plugins.sqlite import rows, sync_writes
from seatkeeper.plugins.sqlite.schema import SchemaError, migrate
from seatkeeper.storage.base import BaseStorage
from seatkeeper.storage.protocol import (
    AlreadyExists,
    Applied,
    ApplyResult,
    Capabilities,
    ChangeSet,
    Conflict,
    EmailTaken,
    LogQuery,
    SeatShortage,
    SelectorChange,
    StorageError,
    SyncRecord,
    SyncWriteResult,
    SyncWrites,
    UserDeletion,
    UserQuery,
    fold,
    order_audit_entries,
    recorded_user,
)

T = TypeVar("T")
#: What the per-process cache is keyed by: the kind of record, the organization, the record's id.
CacheKey = tuple[str, ...]

SYNCHRONOUS_LEVELS = ("NORMAL", "FULL", "EXTRA")
DEFAULT_TIMEOUT_SECONDS = 30.0
DEFAULT_READERS = 4
DEFAULT_CACHE_SECONDS = 1.0
_OPTIONS = {"synchronous", "timeout", "readers", "cache_seconds"}

# Lists of keys travel as one JSON array parameter (`json_each`): any number of keys, one statement.
_KEYS = "SELECT value FROM json_each(?)"


def parse_url(url: str) -> tuple[Path, dict[str, str]]:
    """The file a `sqlite://` URL names, and its options. ValueError says what is wrong."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "sqlite":
        raise ValueError(f"not a sqlite:// URL: {url!r}")
    if parts.netloc:
        raise ValueError(
            "a sqlite URL has no host: write sqlite:///relative/file.db or "
            "sqlite:////absolute/file.db"
        )
    path = unquote(parts.path)[1:]  # sqlite:///x -> "x", sqlite:////x -> "/x" (as SQLAlchemy)
    if not path or path.endswith("/"):
        raise ValueError("the sqlite URL names no file, e.g. sqlite:///data/seatkeeper.db")
    if path == ":memory:" or path.startswith("file:"):
        raise ValueError("sqlite:// stores in a file; for storage that keeps nothing use memory://")
    if "\x00" in path:
        raise ValueError("the sqlite URL's path holds a NUL character")
    options = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise ValueError(
            f"sqlite:// has no option {', '.join(unknown)} (options: {', '.join(sorted(_OPTIONS))})"
        )
    single = {}
    for name, values in options.items():
        if len(values) > 1:
            raise ValueError(f"sqlite:// option {name} is given more than once")
        single[name] = values[0]
    return Path(path), single


class SQLiteStorage(BaseStorage):
    """Storage in one SQLite file. See the module docstring for what each promise rests on."""

    #: One file on one machine's disk, shared by every process that opens it (BEGIN IMMEDIATE
    #: transactions); no TTL of its own: the server purges the sync log.
    capabilities = Capabilities(shared_between_processes=True, thread_safe=True, durable=True)

    def __init__(self, url: str) -> None:
        self.path, options = parse_url(url)
        self.synchronous = options.get("synchronous", "NORMAL").upper()
        if self.synchronous not in SYNCHRONOUS_LEVELS:
            raise ValueError(
                f"sqlite:// option synchronous must be one of {', '.join(SYNCHRONOUS_LEVELS)}"
            )
        try:
            self.timeout = float(options.get("timeout", DEFAULT_TIMEOUT_SECONDS))
            readers = int(options.get("readers", DEFAULT_READERS))
        except ValueError:
            raise ValueError("sqlite:// options timeout and readers must be numbers") from None
        if not 0 <= self.timeout <= 3600:
            raise ValueError("sqlite:// option timeout must be between 0 and 3600 seconds")
        if not 1 <= readers <= 64:
            raise ValueError("sqlite:// option readers must be between 1 and 64")
        self.readers = readers
        self._lock = threading.Lock()
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._writer: ThreadPoolExecutor | None = None
        self._reader: ThreadPoolExecutor | None = None
        self._closed = False
        self._opened = False
        try:
            self.cache_seconds = float(options.get("cache_seconds", DEFAULT_CACHE_SECONDS))
        except ValueError:
            raise ValueError("sqlite:// option cache_seconds must be a number") from None
        if not 0 <= self.cache_seconds <= 60:
            raise ValueError("sqlite:// option cache_seconds must be between 0 and 60")
        self._cache: dict[CacheKey, tuple[float, Any]] = {}
        # The sync-log queue (append_sync_log): entries, how many were ever queued and written.
        self._log_queue: list[SyncLogEntry] = []
        self._log_appended = 0
        self._log_flushed = 0
        self._log_flush: Future[None] | None = None
        self._monotonic: Callable[[], float] = time.monotonic  # tests move their own
        self._generations: dict[str, int] = {}
        # Syncs waiting for the writer thread (write_sync), and whether a batch is submitted.
        self._sync_queue: list[sync_writes.Job] = []
        self._sync_batch_queued = False

    def __repr__(self) -> str:
        return f"SQLiteStorage({str(self.path)!r})"

    # -- connections and threads -----------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection (made on first use; `sqlite3` connections are per thread)."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = sqlite3.connect(
                self.path,
                timeout=self.timeout,
                isolation_level=None,  # transactions are ours: BEGIN IMMEDIATE … COMMIT
                check_same_thread=False,  # used by its thread only; closed by close()
                cached_statements=256,
            )
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute(f"PRAGMA synchronous = {self.synchronous}")
            connection.execute("PRAGMA foreign_keys = OFF")
            # Pages read through the OS's memory map, not a copy per read; a larger page cache
            # per connection: list pages of a 100,000-user organization stay flat (B2).
            connection.execute("PRAGMA mmap_size = 268435456")
            connection.execute("PRAGMA cache_size = -16384")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def _begin_immediate(self, connection: sqlite3.Connection) -> None:
        """Take the file's write lock, waiting up to `timeout` for another process to let go.

        Polled here in short steps rather than by SQLite's busy handler, which sleeps 25 to 100
        ms at a time once a wait lasts a few milliseconds: two worker processes writing in turn
        (each transaction holds the lock well under a millisecond) would spend most of their
        time asleep. The writer thread's connection has no busy timeout of its own.
        """
        deadline = time.monotonic() + self.timeout
        pause = 0.0002
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
                if time.monotonic() >= deadline:
                    raise sqlite3.OperationalError(
                        f"database is locked by another process for more than {self.timeout} s"
                    ) from error
            time.sleep(pause)
            pause = min(pause * 2, 0.004)

    def _start(self) -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
        with self._lock:
            if self._closed:
                raise StorageError(f"the SQLite storage {self.path} is closed")
            if self._writer is None or self._reader is None:
                self._writer = ThreadPoolExecutor(1, thread_name_prefix="seatkeeper-sqlite-write")
                self._reader = ThreadPoolExecutor(
                    self.readers, thread_name_prefix="seatkeeper-sqlite-read"
                )
                self._opened = False
            return self._writer, self._reader

    async def _call(self, pool: ThreadPoolExecutor, work: Callable[[], T]) -> T:
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, work)
        except sqlite3.Error as error:
            raise StorageError(f"SQLite file {self.path}: {_one_line(error)}") from error

    async def _read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` on a reader thread (one statement reads a consistent snapshot)."""
        _, reader = await self._ready()
        return await self._call(reader, lambda: work(self._connect()))

    async def _point_read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` on the calling thread: one short indexed read (issue 11, B1s).

        For reads that find at most a few rows through an index (a user by key, a token by
        hash, a counter row): tens of microseconds of SQLite, where the hop to a reader thread
        and back costs more CPU than the read. In WAL mode a reader never waits for a writer;
        the connection has no busy timeout, and in the rare moment SQLite answers busy (another
        process recovering the WAL) the read goes to a reader thread instead of waiting here.
        Scans, lists, counts over ranges and every write stay off the event loop.
        """
        if self._closed or not self._opened:
            await self._ready()  # opens the file, or refuses after close()
        try:
            return work(self._point_connection())
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise StorageError(f"SQLite file {self.path}: {_one_line(error)}") from error
        except sqlite3.Error as error:
            raise StorageError(f"SQLite file {self.path}: {_one_line(error)}") from error
        return await self._read(work)

    def _point_connection(self) -> sqlite3.Connection:
        connection = self._connect()
        if not getattr(self._local, "never_waits", False):
            connection.execute("PRAGMA busy_timeout = 0")
            self._local.never_waits = True
        return connection

    async def _write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` in one BEGIN IMMEDIATE transaction on the writer thread.

        The write lock is taken before `work` reads anything, so what it checks still holds
        when it writes, for every process sharing the file. An exception rolls back everything.
        """
        writer, _ = await self._ready()

        def transaction() -> T:
            connection = self._connect()
            if not getattr(self._local, "polls_for_lock", False):
                # The writer waits for the lock in `_begin_immediate`, not in SQLite.
                connection.execute("PRAGMA busy_timeout = 0")
                self._local.polls_for_lock = True
            self._begin_immediate(connection)
            try:
                result = work(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return result

        return await self._call(writer, transaction)

    # -- lifecycle -------------------------------------------------------------------------

    async def _ready(self) -> tuple[ThreadPoolExecutor, ThreadPoolExecutor]:
        """The threads, the file opened first if it was not: a backend used before `open()`
        (an app served without its lifespan) opens itself; one used after `close()` refuses."""
        pools = self._start()
        if not self._opened:
            await self.open()
        return pools

    async def open(self) -> None:
        """Create the file and its folder if absent, migrate its schema; idempotent.

        Raises StorageError for a file that is not usable: another program's, one written by a
        newer Seatkeeper, not a database at all, or a folder that cannot be written.
        """
        writer, _ = self._start()
        if self._opened:
            return

        def prepare() -> None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            migrate(self._connect(), str(self.path))

        try:
            await self._call(writer, prepare)
        except (SchemaError, OSError) as error:
            raise StorageError(f"SQLite file {self.path}: {_one_line(error)}") from error
        self._opened = True

    async def close(self) -> None:
        """Finish queued work, stop the threads and close every connection."""
        if self._writer is not None:
            await self._sync_log_written()
        with self._lock:
            writer, reader = self._writer, self._reader
            self._writer = self._reader = None
            self._closed = True
        for pool in (writer, reader):
            if pool is not None:
                pool.shutdown(wait=True)
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()

    async def ping(self) -> None:
        await self._read(lambda c: c.execute("SELECT count(*) FROM organizations").fetchone())

    # -- backup and restore (the `seatkeeper backup` / `restore` commands; backup.py) ----------

    def backup(self, target: str) -> str:
        """Copy the file while servers use it (SQLite's online backup), checked."""
        try:
            size = copies.backup(self.path, Path(target))
        except copies.BackupError as error:
            raise StorageError(str(error)) from error
        return f"backed up {self.path} to {target} ({size:,} bytes, integrity ok)"

    def restore(self, source: str) -> str:
        """Replace the file with the backup `source` (every server stopped), checked."""
        try:
            kept = copies.restore(Path(source), self.path)
        except copies.BackupError as error:
            raise StorageError(str(error)) from error
        before = f"; the replaced file is kept as {kept}" if kept else ""
        return f"restored {source} into {self.path} (integrity ok){before}"

    # -- the per-process cache of organizations, projects and subscriptions -----------------

    async def _cached(self, key: CacheKey, load: Callable[[], Awaitable[T]]) -> T:
        """`load()`, reused for `cache_seconds` (a sync reads these three on every request).

        A write of this process to the organization invalidates at once (a generation count
        per organization: a read that overlapped a write is not kept); another process's write
        is seen within `cache_seconds`, as with the MongoDB plugin's `cacheSeconds`.
        """
        if self.cache_seconds <= 0:
            return await load()
        now = self._monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            value: T = hit[1]  # stored by this method for this key, from the same `load`
            return value
        generation = self._generations.get(key[1], 0)
        value = await load()
        if self._generations.get(key[1], 0) == generation:
            self._cache[key] = (now + self.cache_seconds, value)
        return value

    async def _changing(self, organization_id: str, write: Awaitable[T]) -> T:
        """Run a write of the organization's cached records, invalidating them around it."""
        self._forget(organization_id)
        try:
            return await write
        finally:
            self._forget(organization_id)

    def _forget(self, organization_id: str) -> None:
        self._generations[organization_id] = self._generations.get(organization_id, 0) + 1
        for key in [k for k in self._cache if k[1] == organization_id]:
            self._cache.pop(key, None)

    async def get_organization(self, organization_id: str) -> Organization | None:
        found = await self._cached(
            ("organization", organization_id), lambda: self._load_organization(organization_id)
        )
        return None if found is None else _copy(found, settings=_copy(found.settings))

    async def get_project(self, organization_id: str, project_id: str) -> Project | None:
        found = await self._cached(
            ("project", organization_id, project_id),
            lambda: self._load_project(organization_id, project_id),
        )
        return None if found is None else _copy(found)

    async def list_subscriptions(self, organization_id: str) -> list[Subscription]:
        found = await self._cached(
            ("subscriptions", organization_id), lambda: self._load_subscriptions(organization_id)
        )
        return [_copy(s) for s in found]

    # -- organizations, projects, settings ------------------------------------------------

    async def create_organization(
        self,
        organization: Organization,
        default_project: Project,
        *,
        log: AdminLogEntry | None = None,
    ) -> None:
        def work(c: sqlite3.Connection) -> None:
            if c.execute("SELECT 1 FROM organizations WHERE id = ?", (organization.id,)).fetchone():
                raise ValueError(f"organization {organization.id!r} exists")
            c.execute(
                f"INSERT INTO organizations ({rows.ORGANIZATION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
                rows.organization_row(organization),
            )
            c.executemany(
                "INSERT INTO seat_holders (org, license_type, holders) VALUES (?, ?, 0)",
                [(organization.id, t.value) for t in SEAT_TYPES],
            )
            c.execute("INSERT INTO user_counts (org, users) VALUES (?, 0)", (organization.id,))
            _upsert_project(c, default_project)
            _log(c, log)

        await self._changing(organization.id, self._write(work))

    async def _load_organization(self, organization_id: str) -> Organization | None:
        def work(c: sqlite3.Connection) -> Organization | None:
            row = c.execute(
                f"SELECT {rows.ORGANIZATION_COLUMNS} FROM organizations WHERE id = ?",
                (organization_id,),
            ).fetchone()
            return rows.organization_of(row) if row else None

        return await self._point_read(work)

    async def list_organizations(self) -> list[Organization]:
        def work(c: sqlite3.Connection) -> list[Organization]:
            return [
                rows.organization_of(r)
                for r in c.execute(
                    f"SELECT {rows.ORGANIZATION_COLUMNS} FROM organizations ORDER BY created_at, id"
                )
            ]

        return await self._read(work)

    async def update_settings(
        self, organization_id: str, settings: Settings, *, log: AdminLogEntry | None = None
    ) -> Organization | None:
        def work(c: sqlite3.Connection) -> Organization | None:
            c.execute(
                "UPDATE organizations SET auto_assign_licenses = ?, auto_free_up_licenses = ?, "
                "inactivity_days = ?, grace_period_days = ? WHERE id = ?",
                (
                    int(settings.auto_assign_licenses),
                    int(settings.auto_free_up_licenses),
                    settings.inactivity_days,
                    settings.grace_period_days,
                    organization_id,
                ),
            )
            row = c.execute(
                f"SELECT {rows.ORGANIZATION_COLUMNS} FROM organizations WHERE id = ?",
                (organization_id,),
            ).fetchone()
            if row is None:
                return None
            _log(c, log)
            return rows.organization_of(row)

        return await self._changing(organization_id, self._write(work))

    async def upsert_project(self, project: Project, *, log: AdminLogEntry | None = None) -> None:
        def work(c: sqlite3.Connection) -> None:
            if _organization_exists(c, project.organization_id):
                _upsert_project(c, project)
                _log(c, log)

        await self._changing(project.organization_id, self._write(work))

    async def _load_project(self, organization_id: str, project_id: str) -> Project | None:
        def work(c: sqlite3.Connection) -> Project | None:
            row = c.execute(
                "SELECT org, id, name, kind FROM projects WHERE org = ? AND id = ?",
                (organization_id, project_id),
            ).fetchone()
            return rows.project_of(row) if row else None

        return await self._point_read(work)

    async def list_projects(self, organization_id: str) -> list[Project]:
        def work(c: sqlite3.Connection) -> list[Project]:
            return [
                rows.project_of(r)
                for r in c.execute(
                    "SELECT org, id, name, kind FROM projects WHERE org = ? ORDER BY id",
                    (organization_id,),
                )
            ]

        return await self._read(work)

    # -- subscriptions ---------------------------------------------------------------------

    async def add_subscription(
        self, subscription: Subscription, *, log: AdminLogEntry | None = None
    ) -> None:
        def work(c: sqlite3.Connection) -> None:
            if _organization_exists(c, subscription.organization_id):
                c.execute(
                    f"INSERT INTO subscriptions ({rows.SUBSCRIPTION_COLUMNS}) VALUES (?,?,?,?,?,?)",
                    rows.subscription_row(subscription),
                )
                _log(c, log)

        await self._changing(subscription.organization_id, self._write(work))

    async def _load_subscriptions(self, organization_id: str) -> list[Subscription]:
        def work(c: sqlite3.Connection) -> list[Subscription]:
            return [
                rows.subscription_of(r)
                for r in c.execute(
                    f"SELECT {rows.SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE org = ? "
                    "ORDER BY valid_from, id",
                    (organization_id,),
                )
            ]

        return await self._point_read(work)

    # -- tokens ----------------------------------------------------------------------------

    async def add_token(self, token: Token, *, log: AdminLogEntry | None = None) -> None:
        def work(c: sqlite3.Connection) -> None:
            if c.execute(
                "SELECT 1 FROM tokens WHERE id = ? OR secret_hash = ?",
                (token.id, token.secret_hash),
            ).fetchone():
                raise ValueError("token exists")
            c.execute(
                f"INSERT INTO tokens ({rows.TOKEN_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
                rows.token_row(token),
            )
            _log(c, log)

        await self._write(work)

    async def find_token(self, secret_hash: str) -> Token | None:
        def work(c: sqlite3.Connection) -> Token | None:
            row = c.execute(
                f"SELECT {rows.TOKEN_COLUMNS} FROM tokens WHERE secret_hash = ?", (secret_hash,)
            ).fetchone()
            return rows.token_of(row) if row else None

        return await self._point_read(work)

    async def list_tokens(self, organization_id: str | None) -> list[Token]:
        def work(c: sqlite3.Connection) -> list[Token]:
            if organization_id is None:
                cursor = c.execute(
                    f"SELECT {rows.TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id"
                )
            else:
                cursor = c.execute(
                    f"SELECT {rows.TOKEN_COLUMNS} FROM tokens WHERE org = ? ORDER BY created_at, id",
                    (organization_id,),
                )
            return [rows.token_of(r) for r in cursor]

        return await self._read(work)

    async def set_token_budget(
        self,
        token_id: str,
        organization_id: str | None,
        requests_per_second: float | None,
        *,
        log: AdminLogEntry | None = None,
    ) -> Token | None:
        def work(c: sqlite3.Connection) -> Token | None:
            where = "id = ?" if organization_id is None else "id = ? AND org = ?"
            params: tuple[str, ...] = (
                (token_id,) if organization_id is None else (token_id, organization_id)
            )
            if not c.execute(
                f"UPDATE tokens SET requests_per_second = ? WHERE {where}",
                (requests_per_second, *params),
            ).rowcount:
                return None
            _log(c, log)
            row = c.execute(f"SELECT {rows.TOKEN_COLUMNS} FROM tokens WHERE {where}", params)
            return rows.token_of(row.fetchone())

        return await self._write(work)

    async def touch_token(self, token_id: str, at: datetime) -> None:
        def work(c: sqlite3.Connection) -> None:
            c.execute(
                "UPDATE tokens SET last_used_at = ? "
                "WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
                (rows.to_time(at), token_id, rows.to_time(at)),
            )

        await self._write(work)

    async def revoke_token(
        self,
        token_id: str,
        organization_id: str | None,
        at: datetime,
        *,
        log: AdminLogEntry | None = None,
    ) -> Token | None:
        def work(c: sqlite3.Connection) -> Token | None:
            where = "id = ?" if organization_id is None else "id = ? AND org = ?"
            params: tuple[str, ...] = (
                (token_id,) if organization_id is None else (token_id, organization_id)
            )
            revoked = c.execute(
                f"UPDATE tokens SET revoked_at = ? WHERE {where} AND revoked_at IS NULL",
                (rows.to_time(at), *params),
            ).rowcount
            if revoked:
                _log(c, log)
            row = c.execute(f"SELECT {rows.TOKEN_COLUMNS} FROM tokens WHERE {where}", params)
            found = row.fetchone()
            return rows.token_of(found) if found else None

        return await self._write(work)

    # -- users -----------------------------------------------------------------------------

    async def get_user(self, organization_id: str, key: str) -> MobileUser | None:
        def work(c: sqlite3.Connection) -> MobileUser | None:
            return _get_user(c, organization_id, key)

        return await self._point_read(work)

    async def get_users(self, organization_id: str, keys: list[str]) -> dict[str, MobileUser]:
        if not keys:
            return {}

        def work(c: sqlite3.Connection) -> dict[str, MobileUser]:
            return _users_by_key(c, organization_id, keys)

        return await self._read(work)

    async def find_user_by_email(self, organization_id: str, email: str) -> MobileUser | None:
        def work(c: sqlite3.Connection) -> MobileUser | None:
            row = c.execute(
                f"SELECT {rows.USER_READ} FROM users WHERE org = ? AND email_key = ?",
                (organization_id, fold(email)),
            ).fetchone()
            return rows.user_of(row) if row else None

        return await self._point_read(work)

    async def record_sync(
        self,
        organization_id: str,
        user_id: str,
        email: str,
        full_name: str | None,
        required: LicenseType,
        now: datetime,
    ) -> MobileUser:
        record = SyncRecord(organization_id, user_id, email, full_name, required, now)

        def work(c: sqlite3.Connection) -> MobileUser:
            _check_email(c, record)
            return _record(c, record, _get_user(c, organization_id, record.key))

        return await self._write(work)

    async def write_sync(self, writes: SyncWrites) -> SyncWriteResult:
        """One BEGIN IMMEDIATE transaction: check, record, seat change, grace, entry.

        Queued for the writer thread, which runs the syncs queued meanwhile in one transaction,
        each in its own savepoint (`sync_writes.write_batch`): a refusal rolls back that sync
        only, and every answer waits for the COMMIT. A sync alone commits once; under load,
        several share one commit.
        """
        writer, _ = await self._ready()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[SyncWriteResult] = loop.create_future()
        with self._lock:
            self._sync_queue.append((writes, loop, future))
            if not self._sync_batch_queued:
                self._sync_batch_queued = True
                writer.submit(self._write_sync_batch)
        return await future

    def _write_sync_batch(self) -> None:
        """On the writer thread: every queued sync, one transaction (see `write_sync`)."""
        with self._lock:
            jobs, self._sync_queue = self._sync_queue, []
            self._sync_batch_queued = False
        if not jobs:
            return
        try:
            connection = self._connect()
            if not getattr(self._local, "polls_for_lock", False):
                connection.execute("PRAGMA busy_timeout = 0")
                self._local.polls_for_lock = True
            self._begin_immediate(connection)
            try:
                settled = sync_writes.write_batch(connection, jobs)
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise
        except Exception as error:  # noqa: BLE001 (each caller gets it as its own failure)
            failure = StorageError(f"SQLite file {self.path}: {_one_line(error)}")
            settled = [(job, failure) for job in jobs]
        sync_writes.settle([(job, _storage_error(self.path, outcome)) for job, outcome in settled])

    async def start_grace_period(
        self, organization_id: str, key: str, now: datetime
    ) -> MobileUser | None:
        def work(c: sqlite3.Connection) -> MobileUser | None:
            c.execute(
                "UPDATE users SET grace_started_at = ? "
                "WHERE org = ? AND key = ? AND grace_started_at IS NULL",
                (rows.to_time(now), organization_id, key),
            )
            return _get_user(c, organization_id, key)

        return await self._write(work)

    async def apply_changes(self, change_set: ChangeSet) -> ApplyResult:
        def work(c: sqlite3.Connection) -> ApplyResult:
            return _apply(c, change_set)

        return await self._write(work)

    async def count_holders(self, organization_id: str, license_type: LicenseType) -> int:
        def work(c: sqlite3.Connection) -> int:
            return _holders(c, organization_id, license_type)

        return await self._point_read(work)

    async def holders_ranked_before(
        self, organization_id: str, license_type: LicenseType, assigned_at: datetime, key: str
    ) -> int:
        def work(c: sqlite3.Connection) -> int:
            return _one_int(
                c,
                "SELECT count(*) FROM users WHERE org = ? AND held = ? "
                "AND (assigned_at, key) < (?, ?)",
                (organization_id, license_type.value, rows.to_time(assigned_at), key),
            )

        return await self._read(work)

    async def find_longest_inactive_holder(
        self, organization_id: str, license_type: LicenseType, cutoff: datetime
    ) -> MobileUser | None:
        def work(c: sqlite3.Connection) -> MobileUser | None:
            row = c.execute(
                f"SELECT {rows.USER_READ} FROM users WHERE org = ? AND held = ? "
                "AND seat_activity <= ? ORDER BY seat_activity, assigned_at, key LIMIT 1",
                (organization_id, license_type.value, rows.to_time(cutoff)),
            ).fetchone()
            return rows.user_of(row) if row else None

        return await self._read(work)

    async def list_users(
        self, organization_id: str, query: UserQuery, first: int, after: tuple[str, str] | None
    ) -> list[MobileUser]:
        if query.matches_nobody or first < 1:
            return []

        def work(c: sqlite3.Connection) -> list[MobileUser]:
            where, params = _user_filter(organization_id, query)
            if after is not None:
                where += " AND (name_key, id) > (?, ?)"
                params += [after[0], after[1]]
            return [
                rows.user_of(r)
                for r in c.execute(
                    f"SELECT {rows.USER_READ} FROM users WHERE {where} "
                    "ORDER BY name_key, id LIMIT ?",
                    (*params, first),
                )
            ]

        return await self._read(work)

    async def count_users(self, organization_id: str, query: UserQuery) -> int:
        if query.matches_nobody:
            return 0
        if query == UserQuery():

            def counted(c: sqlite3.Connection) -> int:
                row = c.execute(
                    "SELECT users FROM user_counts WHERE org = ?", (organization_id,)
                ).fetchone()
                return row[0] if row else 0

            return await self._read(counted)
        if query.selector and query == UserQuery(selector=query.selector):
            license_type, state = query.selector
            if state is LicenseState.ASSIGNED:  # a holder, by invariant 2: the kept counter
                return await self.count_holders(organization_id, license_type)

        def work(c: sqlite3.Connection) -> int:
            where, params = _user_filter(organization_id, query)
            return _one_int(c, f"SELECT count(*) FROM users WHERE {where}", params)

        return await self._read(work)

    # -- logs ------------------------------------------------------------------------------

    async def append_sync_log(self, entry: SyncLogEntry) -> None:
        """Queue the entry; the writer thread appends queued entries in one transaction.

        Used for syncs that write nothing else (refused input, an e-mail taken); the others
        write their entry in their own transaction (`write_sync`). The issue allows it: a crash
        may lose the last few such entries, never a seat change (committed before the answer).
        This process's reads of the sync log (and `purge_sync_log`, `close`) wait for the queue
        first, so that it reads its own entries; other processes see them within milliseconds.
        """
        writer, _ = await self._ready()
        with self._lock:
            self._log_queue.append(entry)
            self._log_appended += 1
            if self._log_flush is None:
                self._log_flush = writer.submit(self._flush_sync_log)

    def _flush_sync_log(self) -> None:
        """On the writer thread: append every queued entry in one transaction."""
        with self._lock:
            entries, self._log_queue = self._log_queue, []
            upto = self._log_appended
        try:
            if entries:
                connection = self._connect()
                self._begin_immediate(connection)
                try:
                    for entry in entries:
                        _append_sync_log(connection, entry)
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
        except Exception as error:  # noqa: BLE001 (the answers went out; say it, keep serving)
            logging.getLogger("seatkeeper").error(
                "SQLite %s: %d sync-log entries not written: %s",
                self.path,
                len(entries),
                _one_line(error),
            )
        finally:
            with self._lock:
                self._log_flushed = upto
                writer = self._writer
                if self._log_queue and writer is not None:
                    self._log_flush = writer.submit(self._flush_sync_log)
                else:
                    self._log_flush = None

    async def _sync_log_written(self) -> None:
        """Wait until every entry this process queued before now is written."""
        target = self._log_appended
        while self._log_flushed < target:
            pending = self._log_flush
            if pending is None:
                await asyncio.sleep(0)
                continue
            await asyncio.wrap_future(pending)

    async def list_sync_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[SyncLogEntry]:
        await self._sync_log_written()

        def work(c: sqlite3.Connection) -> list[SyncLogEntry]:
            extra = " AND ok = 0" if query.errors_only else ""
            return [
                rows.sync_log_of(r)
                for r in _log_page(
                    c,
                    "sync_log",
                    rows.SYNC_LOG_COLUMNS,
                    organization_id,
                    query,
                    first,
                    after,
                    extra,
                )
            ]

        return await self._read(work)

    async def purge_sync_log(self, before: datetime) -> int:
        """Delete in batches, one short transaction each, so that syncs wait for none long."""
        await self._sync_log_written()
        cut = rows.to_time(before)
        total = 0
        while True:

            def work(c: sqlite3.Connection) -> int:
                return c.execute(
                    "DELETE FROM sync_log WHERE rowid IN "
                    "(SELECT rowid FROM sync_log WHERE at < ? LIMIT 5000)",
                    (cut,),
                ).rowcount

            deleted = await self._write(work)
            total += deleted
            if deleted < 5000:
                return total

    async def list_audit_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[AuditEntry]:
        def work(c: sqlite3.Connection) -> list[AuditEntry]:
            return [
                rows.audit_of(r)
                for r in _log_page(
                    c, "audit_log", rows.AUDIT_COLUMNS, organization_id, query, first, after, ""
                )
            ]

        return await self._read(work)

    async def list_admin_log(
        self, organization_id: str, query: LogQuery, first: int, after: tuple[datetime, str] | None
    ) -> list[AdminLogEntry]:
        in_range = LogQuery(since=query.since, until=query.until)

        def work(c: sqlite3.Connection) -> list[AdminLogEntry]:
            return [
                rows.admin_log_of(r)
                for r in _log_page(
                    c,
                    "admin_log",
                    rows.ADMIN_LOG_COLUMNS,
                    organization_id,
                    in_range,
                    first,
                    after,
                    "",
                )
            ]

        return await self._read(work)


# ------------------------------------------------------------------ statements (one thread)


def _log(c: sqlite3.Connection, log: AdminLogEntry | None) -> None:
    """Append an administration-log entry, in the transaction of the write it records."""
    if log is not None:
        c.execute(
            f"INSERT INTO admin_log ({rows.ADMIN_LOG_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
            rows.admin_log_row(log),
        )


R = TypeVar("R")

# The cached records' copies (a sync takes three): `dataclasses.replace` re-validated every field
# through keyword arguments and was a tenth of a SQLite sync's event-loop time (issue 11, B1s).
_FIELD_VALUES: dict[type, attrgetter[Any]] = {}


def _copy(record: R, **changes: Any) -> R:
    """A shallow copy of a record (a dataclass of domain/records.py), with `changes` applied."""
    cls = type(record)
    getter = _FIELD_VALUES.get(cls)
    if getter is None:
        names = list(vars(cls)["__dataclass_fields__"])  # the fields, in declaration order
        getter = _FIELD_VALUES[cls] = attrgetter(*names)
    copied = cls(*getter(record))
    for name, value in changes.items():
        setattr(copied, name, value)
    return copied


def _storage_error(path: Path, outcome: object) -> object:
    """A sqlite3 error as the StorageError callers expect; anything else as it is."""
    if isinstance(outcome, sqlite3.Error):
        error = StorageError(f"SQLite file {path}: {_one_line(outcome)}")
        error.__cause__ = outcome
        return error
    return outcome


def _one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".splitlines()[0]


def _organization_exists(c: sqlite3.Connection, organization_id: str) -> bool:
    return (
        c.execute("SELECT 1 FROM organizations WHERE id = ?", (organization_id,)).fetchone()
        is not None
    )


def _upsert_project(c: sqlite3.Connection, project: Project) -> None:
    c.execute(
        "INSERT INTO projects (org, id, name, kind) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (org, id) DO UPDATE SET name = excluded.name, kind = excluded.kind",
        (project.organization_id, project.id, project.name, project.kind.value),
    )


def _get_user(c: sqlite3.Connection, organization_id: str, key: str) -> MobileUser | None:
    row = c.execute(
        f"SELECT {rows.USER_READ} FROM users WHERE org = ? AND key = ?", (organization_id, key)
    ).fetchone()
    return rows.user_of(row) if row else None


def _users_by_key(
    c: sqlite3.Connection, organization_id: str, keys: Iterable[str]
) -> dict[str, MobileUser]:
    found = {}
    for row in c.execute(
        f"SELECT {rows.USER_READ}, key FROM users WHERE org = ? AND key IN ({_KEYS})",
        (organization_id, orjson.dumps(list(keys)).decode()),
    ):
        found[row[-1]] = rows.user_of(row)
    return found


def _insert_users(c: sqlite3.Connection, users: list[MobileUser]) -> None:
    c.executemany(
        f"INSERT INTO users ({rows.USER_COLUMNS}) VALUES ({', '.join('?' * 16)})",
        (rows.user_row(u) for u in users),
    )


def _count_users(c: sqlite3.Connection, organization_id: str, change: int) -> None:
    c.execute("UPDATE user_counts SET users = users + ? WHERE org = ?", (change, organization_id))


def _holders(c: sqlite3.Connection, organization_id: str, license_type: LicenseType) -> int:
    row = c.execute(
        "SELECT holders FROM seat_holders WHERE org = ? AND license_type = ?",
        (organization_id, license_type.value),
    ).fetchone()
    return row[0] if row else 0


def _check_email(c: sqlite3.Connection, record: SyncRecord) -> None:
    """Raise EmailTaken, before anything is written, if another user holds the e-mail."""
    owner = c.execute(
        "SELECT key, id FROM users WHERE org = ? AND email_key = ?",
        (record.organization_id, fold(record.email)),
    ).fetchone()
    if owner is not None and owner[0] != record.key:
        raise EmailTaken(record.email, owner[1])


def _record(c: sqlite3.Connection, record: SyncRecord, user: MobileUser | None) -> MobileUser:
    """Write `recorded_user(user, record)` over the stored `user` (None: absent); return it."""
    organization_id, now = record.organization_id, record.now
    after = recorded_user(user, record)
    if user is None:
        if not _organization_exists(c, organization_id):
            raise KeyError(organization_id)
        _insert_users(c, [after])
        _count_users(c, organization_id, 1)
        return after
    # Only what changed is written: an unchanged e-mail or name would still cost its index
    # entries a rewrite (most syncs change neither).
    assignments = "first_sync_at = ?, last_sync_at = ?, last_required = ?"
    values: list[Any] = [rows.to_time(after.first_sync_at), rows.to_time(now)]
    values.append(record.required.value)
    if user.email != after.email:
        assignments += ", email = ?, email_key = ?"
        values += [after.email, fold(after.email)]
    if user.full_name != after.full_name:
        assignments += ", full_name = ?, name_key = ?"
        values += [after.full_name, fold(after.full_name)]
    c.execute(
        f"UPDATE users SET {assignments} WHERE org = ? AND key = ?",
        (*values, organization_id, record.key),
    )
    return after


def _one_int(c: sqlite3.Connection, sql: str, params: Sequence[object]) -> int:
    """The one integer a query answers (a count)."""
    value: int = c.execute(sql, params).fetchone()[0]
    return value


def _apply(c: sqlite3.Connection, change_set: ChangeSet) -> ApplyResult:
    """`apply_changes` inside the caller's write transaction: check everything, then write."""
    org = change_set.organization_id
    if not _organization_exists(c, org):
        raise KeyError(org)
    touched = [ch.user_key for ch in change_set.changes] + [d.user_key for d in change_set.deletes]
    current = _users_by_key(c, org, touched) if touched else {}
    expectations: list[SelectorChange | UserDeletion] = [*change_set.changes, *change_set.deletes]
    conflicts = tuple(
        ch.user_key
        for ch in expectations
        if ch.user_key not in current or current[ch.user_key].selectors != ch.expected
    )
    if conflicts or len(set(touched)) != len(touched):
        return Conflict(conflicts or tuple(touched))
    if change_set.creates:
        deleted = {d.user_key for d in change_set.deletes}
        keys = [u.key for u in change_set.creates]
        emails = [u.email_key for u in change_set.creates]
        existing_keys = {
            r[0]
            for r in c.execute(
                f"SELECT key FROM users WHERE org = ? AND key IN ({_KEYS})",
                (org, orjson.dumps(keys).decode()),
            )
        }
        email_owners = dict(
            c.execute(
                f"SELECT email_key, key FROM users WHERE org = ? AND email_key IN ({_KEYS})",
                (org, orjson.dumps(emails).decode()),
            ).fetchall()
        )
        taken_keys, taken_emails = [], []
        seen_keys: set[str] = set()
        seen_emails: set[str] = set()
        for user in change_set.creates:
            if (user.key in existing_keys and user.key not in deleted) or user.key in seen_keys:
                taken_keys.append(user.key)
            owner = email_owners.get(user.email_key)
            if (owner is not None and owner not in deleted) or user.email_key in seen_emails:
                taken_emails.append(user.email_key)
            seen_keys.add(user.key)
            seen_emails.add(user.email_key)
        if taken_keys or taken_emails:
            return AlreadyExists(tuple(taken_keys), tuple(taken_emails))
    delta = change_set.holder_delta(current)
    for license_type, gained in delta.items():
        if gained > 0:
            holders = _holders(c, org, license_type)
            if holders + gained > change_set.seat_limits.get(license_type, 0):
                return SeatShortage(license_type, holders, gained)
    # Every check passed: write. Deletions first, so that a user deleted and created again in
    # one change set frees its id and e-mail for the create.
    if change_set.deletes:
        c.executemany(
            "DELETE FROM users WHERE org = ? AND key = ?",
            ((org, d.user_key) for d in change_set.deletes),
        )
    if change_set.changes:
        c.executemany(
            "UPDATE users SET standard = ?, inspections = ?, assigned_at = ? "
            "WHERE org = ? AND key = ?",
            (
                (
                    ch.standard.value,
                    ch.inspections.value,
                    rows.to_time(ch.assigned_at),
                    org,
                    ch.user_key,
                )
                # In key order: consecutive rows share index pages (issue 11, B3a on SQLite:
                # 10,000 users in the order given touched a different page at every row).
                for ch in sorted(change_set.changes, key=_change_key)
            ),
        )
    if change_set.creates:
        _insert_users(c, change_set.creates)
    if len(change_set.creates) != len(change_set.deletes):
        _count_users(c, org, len(change_set.creates) - len(change_set.deletes))
    for license_type, moved in delta.items():
        if moved:
            c.execute(
                "UPDATE seat_holders SET holders = holders + ? WHERE org = ? AND license_type = ?",
                (moved, org, license_type.value),
            )
    audit = change_set.audit
    if audit and change_set.order_audit:  # inside the transaction: the commit order
        newest = c.execute(
            "SELECT at, id FROM audit_log WHERE org = ? ORDER BY at DESC, id DESC LIMIT 1", (org,)
        ).fetchone()
        newest_at = rows.from_time(newest[0]) if newest else None
        audit = order_audit_entries(audit, (newest_at, newest[1]) if newest_at else None)
    if audit:
        c.executemany(
            f"INSERT INTO audit_log ({rows.AUDIT_COLUMNS.replace('user_id,', 'user_id, user_key,')}) "
            f"VALUES ({', '.join('?' * 12)})",
            (rows.audit_row(e) for e in audit),
        )
    return Applied()


def _change_key(change: SelectorChange) -> str:
    return change.user_key


def _append_sync_log(c: sqlite3.Connection, entry: SyncLogEntry) -> None:
    """Append the entry, unless its organization is unknown (then nothing, as the protocol says)."""
    c.execute(
        f"INSERT INTO sync_log ({rows.SYNC_LOG_COLUMNS.replace('user_id,', 'user_id, user_key,')}) "
        f"SELECT {', '.join('?' * 14)} WHERE EXISTS (SELECT 1 FROM organizations WHERE id = ?)",
        (*rows.sync_log_row(entry), entry.organization_id),
    )


def _user_filter(organization_id: str, query: UserQuery) -> tuple[str, list[Any]]:
    """SQL selecting exactly the users `query.matches` selects (the reference meaning)."""
    clauses: list[str] = ["org = ?"]
    params: list[Any] = [organization_id]
    if query.search:
        needle = fold(query.search)
        clauses.append(
            "(instr(id_fold, ?) > 0 OR instr(name_key, ?) > 0 OR instr(email_key, ?) > 0)"
        )
        params += [needle, needle, needle]
    if query.selector is not None:
        license_type, state = query.selector
        column = "standard" if license_type is LicenseType.STANDARD else "inspections"
        clauses.append(f"{column} = ?")
        params.append(state.value)
    if query.any_state is not None:
        clauses.append("(standard = ? OR inspections = ?)")
        params += [query.any_state.value, query.any_state.value]
    if query.active_before is not None:
        clauses.append("activity <= ?")
        params.append(rows.to_time(query.active_before))
    if query.active_since is not None:
        clauses.append("activity > ?")
        params.append(rows.to_time(query.active_since))
    if query.pending_for is not None:
        pending = query.pending_for
        column = "standard" if pending is LicenseType.STANDARD else "inspections"
        clauses.append(
            f"last_required = ? AND {column} != 'DISABLED' AND grace_started_at IS NOT NULL"
        )
        params.append(pending.value)
        if pending is LicenseType.INSPECTIONS:
            clauses.append("(held IS NULL OR held != 'INSPECTIONS')")
        else:
            clauses.append("held IS NULL")
        if query.grace_since is not None:
            clauses.append("grace_started_at > ?")
            params.append(rows.to_time(query.grace_since))
    return " AND ".join(clauses), params


def _log_page(
    c: sqlite3.Connection,
    table: str,
    columns: str,
    organization_id: str,
    query: LogQuery,
    first: int,
    after: tuple[datetime, str] | None,
    extra: str,
) -> list[rows.Row]:
    clauses: list[str] = ["org = ?"]
    params: list[object] = [organization_id]
    if query.user_key is not None:
        clauses.append("user_key = ?")
        params.append(query.user_key)
    if query.since is not None:
        clauses.append("at >= ?")
        params.append(rows.to_time(query.since))
    if query.until is not None:
        clauses.append("at < ?")
        params.append(rows.to_time(query.until))
    if after is not None:
        clauses.append("(at, id) < (?, ?)")
        params += [rows.to_time(after[0]), after[1]]
    return c.execute(
        f"SELECT {columns} FROM {table} WHERE {' AND '.join(clauses)}{extra} "
        "ORDER BY at DESC, id DESC LIMIT ?",
        (*params, first),
    ).fetchall()
