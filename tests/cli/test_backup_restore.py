"""`seatkeeper backup --to FILE` while the server runs, `seatkeeper restore FILE` with it stopped
(issue 11): real processes, a real SQLite file, integrity checked at both ends; bad inputs end
with one line and change nothing."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_serve_storage import SEATKEEPER, Server

ADA = {"userId": "ada", "email": "ada@example.com", "fullName": "Ada"}
BOB = {"userId": "bob", "email": "bob@example.com", "fullName": "Bob"}


def _command(data: Path, *arguments: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SEATKEEPER_")}
    environment["SEATKEEPER_DATA_DIR"] = str(data)
    return subprocess.run(
        [SEATKEEPER, *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
        check=False,
    )


def _one_line_failure(result: subprocess.CompletedProcess) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _user_ids(path: Path) -> list[str]:
    connection = sqlite3.connect(path)  # closed at once: an open connection is a user of the file
    try:
        return sorted(r[0] for r in connection.execute("SELECT id FROM users"))
    finally:
        connection.close()


def test_backup_while_serving_then_restore_with_the_server_stopped(tmp_path):
    data, copy = tmp_path / "data", tmp_path / "backups" / "monday.db"
    with Server(tmp_path, "first", data, "--demo") as server:
        sync = server.printed(r"SYNC token:\s+(\S+)$")
        assert server.call(sync, "Sync", {"input": ADA})["sync"]["ok"]
        made = _command(data, "backup", "--to", str(copy))  # the server keeps running
        assert made.returncode == 0, made.stderr
        assert "integrity ok" in made.stdout
        assert server.call(sync, "Sync", {"input": BOB})["sync"]["ok"]  # still serving
        refused = _command(data, "restore", str(copy))
        assert "stop every Seatkeeper server" in _one_line_failure(refused)
    assert "ada" in _user_ids(copy) and "bob" not in _user_ids(copy)
    assert "bob" in _user_ids(data / "seatkeeper.db")

    restored = _command(data, "restore", str(copy))
    assert restored.returncode == 0, restored.stderr
    assert "integrity ok" in restored.stdout and "before-restore" in restored.stdout
    kept = [p for p in data.iterdir() if ".before-restore-" in p.name]
    assert len(kept) == 1 and "bob" in _user_ids(kept[0])
    with Server(tmp_path, "second", data, "--demo") as server:
        admin = server.printed(r"ADMIN token:\s+(\S+)$")
        assert server.call(admin, "User", {"id": "ada"})["user"]["fullName"] == "Ada"
        assert server.call(admin, "User", {"id": "bob"})["user"] is None


def test_backup_never_overwrites_and_refuses_stores_it_cannot_copy(tmp_path):
    data = tmp_path / "data"
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"keep me")
    assert _command(data, "backup", "--to", str(tmp_path / "first.db")).returncode != 0  # no store
    assert _command(data, "rotate-operator-token").returncode == 0  # makes the store
    line = _one_line_failure(_command(data, "backup", "--to", str(existing)))
    assert "exists" in line and existing.read_bytes() == b"keep me"
    line = _one_line_failure(
        _command(data, "backup", "--to", str(tmp_path / "m.db"), "--storage", "memory://")
    )
    assert "no backup" in line and not (tmp_path / "m.db").exists()
    line = _one_line_failure(
        _command(data, "backup", "--to", str(tmp_path / "m.db"), "--storage", "mongodb://x/y")
    )
    assert "mongodump" in line
    missing_target = _command(data, "backup")
    assert missing_target.returncode != 0 and "--to" in missing_target.stderr


def test_restore_refuses_files_that_are_not_whole_seatkeeper_backups(tmp_path):
    data = tmp_path / "data"
    assert _command(data, "rotate-operator-token").returncode == 0  # makes the store
    database = data / "seatkeeper.db"
    before = database.read_bytes()
    notes = tmp_path / "notes.db"
    notes.write_bytes(b"not a database at all" * 200)
    theirs = tmp_path / "theirs.db"
    connection = sqlite3.connect(theirs)
    connection.execute("CREATE TABLE invoices (id INTEGER)")
    connection.close()
    newer = tmp_path / "newer.db"
    assert _command(data, "backup", "--to", str(newer)).returncode == 0
    connection = sqlite3.connect(newer)
    connection.execute("PRAGMA user_version = 999")
    connection.close()
    for bad, says in [
        (tmp_path / "missing.db", "not a file"),
        (notes, "not"),
        (theirs, "not a Seatkeeper database"),
        (newer, "newer"),
    ]:
        line = _one_line_failure(_command(data, "restore", str(bad)))
        assert says in line, line
    assert database.read_bytes() == before
    assert not [p for p in data.iterdir() if ".before-restore-" in p.name]


def test_the_commands_are_listed(tmp_path):
    listing = subprocess.run(
        [SEATKEEPER, "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    for name in ("backup", "restore", "rotate-operator-token", "serve"):
        assert name in listing.stdout


def test_restore_refuses_clearly_where_it_cannot_see_open_files(tmp_path, monkeypatch):
    """The open-file check uses POSIX locks; without them (Windows) restore refuses, saying
    why and what to do, and replaces nothing."""
    from seatkeeper.plugins.sqlite import backup as copies

    target = tmp_path / "seatkeeper.db"
    target.write_bytes(b"the current store")
    monkeypatch.setattr(copies.sys, "platform", "win32")
    with pytest.raises(copies.BackupError, match="Windows") as refused:
        copies.in_use(target)
    assert "by hand" in str(refused.value) and "\n" not in str(refused.value)
    assert target.read_bytes() == b"the current store"
