"""Backup and restore of a SQLite file, with integrity checks of both ends.

* **Backup** runs while servers use the file: SQLite's online backup API copies every page in one
  read transaction (`pages=-1`), which in WAL mode never blocks a writer, so the copy is one
  consistent instant of the store. It is written to a temporary file beside the target, checked
  (`PRAGMA integrity_check`, our application id and schema version), then renamed into place: a
  failed or interrupted backup leaves no half-written file under the target's name.
* **Restore** needs the servers stopped: it refuses while any process has the file open (it
  tests the lock every SQLite connection holds on the `-shm` file's "dead man switch" byte). The
  file to restore is checked first; the current file is kept beside it as
  `<name>.before-restore-<time>`, then the backup's pages are copied in through the same API.
  That lock test needs POSIX locks (Linux, macOS, the BSDs): on Windows restore refuses, saying
  so, rather than replace a file a server may have open.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import time
from pathlib import Path

if sys.platform != "win32":  # POSIX byte-range locks: how restore sees a server's connection
    import fcntl

from seatkeeper.plugins.sqlite.schema import APPLICATION_ID, SCHEMA_VERSION

# The byte of the -shm file on which each open connection of any process holds a shared lock
# (SQLite's unix VFS: UNIX_SHM_DMS = (22 + 8) * 4 + 8).
_SHM_DEAD_MAN_SWITCH = 128


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why in one line."""


def check_file(path: Path) -> int:
    """Check that `path` is a whole Seatkeeper database this version can read; its version."""
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupError(f"{path} cannot be opened: {error}") from error
    try:
        application = connection.execute("PRAGMA application_id").fetchone()[0]
        version: int = connection.execute("PRAGMA user_version").fetchone()[0]
        if application != APPLICATION_ID:
            raise BackupError(f"{path} is not a Seatkeeper database")
        if version > SCHEMA_VERSION:
            raise BackupError(
                f"{path} has schema version {version}, newer than this Seatkeeper's "
                f"{SCHEMA_VERSION}: restore it with the version that wrote it"
            )
        problems = [r[0] for r in connection.execute("PRAGMA integrity_check").fetchall()]
        if problems != ["ok"]:
            raise BackupError(f"{path} fails its integrity check: {problems[0]}")
        return version
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a usable database: {error}") from error
    finally:
        connection.close()


def backup(source: Path, target: Path) -> int:
    """Copy the live file `source` to the new file `target`, checked; return its size in bytes."""
    if target.exists():
        raise BackupError(f"{target} exists: choose a new file name (a backup never overwrites)")
    if not source.is_file():
        raise BackupError(f"{source} does not exist: nothing to back up")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        live = sqlite3.connect(source, timeout=30)
        copy = sqlite3.connect(partial)
        try:
            live.backup(copy, pages=-1)  # one read transaction: one instant, writers never wait
            copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal
        finally:
            copy.close()
            live.close()
        check_file(partial)
        os.replace(partial, target)
    except sqlite3.Error as error:
        raise BackupError(f"backup of {source} failed: {error}") from error
    finally:
        for leftover in (partial, *(partial.with_name(partial.name + s) for s in ("-wal", "-shm"))):
            leftover.unlink(missing_ok=True)
    return target.stat().st_size


def in_use(path: Path) -> bool:
    """Whether any process has the SQLite file open (its connections lock the -shm file).

    Raises BackupError where that cannot be known (no POSIX locks: Windows)."""
    if sys.platform == "win32":
        raise BackupError(
            "seatkeeper restore checks that no server has the file open with POSIX file locks, "
            "which Windows does not have: restore on Linux or macOS, or stop every server and "
            f"replace {path} with the backup by hand (removing its -wal and -shm files)"
        )
    shm = path.with_name(path.name + "-shm")
    if not shm.exists():
        return False
    with open(shm, "rb+") as handle:
        try:
            fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DEAD_MAN_SWITCH)
        except OSError:
            return True
        fcntl.lockf(handle, fcntl.LOCK_UN, 1, _SHM_DEAD_MAN_SWITCH)
    return False


def restore(source: Path, target: Path) -> Path | None:
    """Replace the store `target` with the backup `source` (servers stopped); return where the
    replaced file was kept (None if there was none)."""
    check_file(source)
    if in_use(target):
        raise BackupError(
            f"{target} is open in another process: stop every Seatkeeper server using it first"
        )
    kept = None
    if target.exists():
        kept = target.with_name(f"{target.name}.before-restore-{time.strftime('%Y%m%dT%H%M%S')}")
        backup(target, kept)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        backup_file = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        store = sqlite3.connect(target)
        try:
            backup_file.backup(store, pages=-1)
            store.execute("PRAGMA journal_mode = WAL")
        finally:
            store.close()
            backup_file.close()
        check_file(target)
    except sqlite3.Error as error:
        raise BackupError(f"restore into {target} failed: {error}") from error
    return kept
