"""What only the SQLite plugin promises: its URL, its file (WAL, synchronous level, schema
versions), its indexes, and an event loop that never waits for the database."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from seatkeeper.domain.records import LicenseState, LicenseType, Organization
from seatkeeper.plugins.sqlite import SQLiteStorage, parse_url
from seatkeeper.plugins.sqlite.schema import APPLICATION_ID, SCHEMA_VERSION
from seatkeeper.storage import (
    LogQuery,
    StorageConfigError,
    StorageError,
    UserQuery,
    load_storage,
)
from seatkeeper.storage.contract import (
    NO_LIMIT,
    ORG,
    A,
    U,
    add_users,
    at,
    change_set,
    make_org,
    make_user,
)


def _url(path: Path, options: str = "") -> str:
    return f"sqlite:///{path}" + (f"?{options}" if options else "")


# -- URL ---------------------------------------------------------------------------------------


def test_url_relative_and_absolute_as_sqlalchemy_writes_them():
    assert parse_url("sqlite:///data/seatkeeper.db") == (Path("data/seatkeeper.db"), {})
    assert parse_url("sqlite:////var/lib/sk.db") == (Path("/var/lib/sk.db"), {})
    assert parse_url("sqlite:///my%20data/sk.db?synchronous=full") == (
        Path("my data/sk.db"),
        {"synchronous": "full"},
    )
    storage = load_storage("sqlite:///relative/file.db?synchronous=FULL&timeout=5")
    assert isinstance(storage, SQLiteStorage)
    assert storage.path == Path("relative/file.db") and storage.synchronous == "FULL"
    assert storage.timeout == 5


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite://", "names no file"),
        ("sqlite:///", "names no file"),
        ("sqlite:///data/", "names no file"),
        ("sqlite://host/file.db", "no host"),
        ("sqlite:///:memory:", "memory://"),
        ("sqlite:///x.db?synchronous=OFF", "synchronous must be one of"),
        ("sqlite:///x.db?synchronous=", "synchronous must be one of"),
        ("sqlite:///x.db?timeout=soon", "must be numbers"),
        ("sqlite:///x.db?timeout=-1", "timeout must be between"),
        ("sqlite:///x.db?readers=0", "readers must be between"),
        ("sqlite:///x.db?readers=10000", "readers must be between"),
        ("sqlite:///x.db?cache_seconds=-1", "cache_seconds must be between"),
        ("sqlite:///x.db?cache_seconds=soon", "cache_seconds must be a number"),
        ("sqlite:///x.db?journal=delete", "no option journal"),
        ("sqlite:///x.db?timeout=1&timeout=2", "more than once"),
        ("sqlite:///x%00y.db", "NUL"),
    ],
)
def test_bad_urls_are_clear_configuration_errors(url, says):
    with pytest.raises(StorageConfigError) as caught:
        load_storage(url)
    assert says in str(caught.value)


# -- the file ----------------------------------------------------------------------------------


def test_open_creates_the_folder_and_a_wal_file_with_the_chosen_synchronous_level(tmp_path):
    path = tmp_path / "deep" / "er" / "sk.db"

    async def scenario():
        storage = load_storage(_url(path, "synchronous=FULL"))
        await storage.open()
        await make_org(storage)
        levels = await storage._read(
            lambda c: (
                c.execute("PRAGMA journal_mode").fetchone()[0],
                c.execute("PRAGMA synchronous").fetchone()[0],
            )
        )
        await storage.close()
        return levels

    assert asyncio.run(scenario()) == ("wal", 2)  # 2 is FULL
    plain = sqlite3.connect(path)
    assert plain.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert plain.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    plain.close()


def test_default_synchronous_is_normal(tmp_path):
    async def scenario():
        storage = load_storage(_url(tmp_path / "sk.db"))
        level = await storage._read(lambda c: c.execute("PRAGMA synchronous").fetchone()[0])
        await storage.close()
        return level

    assert asyncio.run(scenario()) == 1  # NORMAL: survives a process crash (module docstring)


def test_everything_written_is_there_after_reopening(tmp_path):
    path = tmp_path / "sk.db"

    async def write():
        storage = load_storage(_url(path))
        await storage.open()
        await make_org(storage)
        await add_users(storage, [make_user("u1"), make_user("u2", A)])
        await storage.record_sync(ORG, "u3", "u3@example.com", "Three", LicenseType.STANDARD, at(1))
        await storage.close()

    async def read():
        storage = load_storage(_url(path))
        await storage.open()
        users = await storage.list_users(ORG, UserQuery(), 10, None)
        holders = await storage.count_holders(ORG, LicenseType.STANDARD)
        await storage.close()
        return [u.id for u in users], holders

    asyncio.run(write())
    assert asyncio.run(read()) == (["u3", "u1", "u2"], 1)  # "Three" sorts before "User u1"


def test_a_file_from_a_newer_seatkeeper_is_refused_untouched(tmp_path):
    path = tmp_path / "newer.db"
    asyncio.run(_open_and_close(path))
    plain = sqlite3.connect(path)
    plain.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    plain.commit()
    plain.close()
    with pytest.raises(StorageError) as caught:
        asyncio.run(_open_and_close(path))
    message = str(caught.value)
    assert f"schema version {SCHEMA_VERSION + 1}" in message and "newer Seatkeeper" in message
    plain = sqlite3.connect(path)
    assert plain.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    plain.close()


def test_another_programs_database_is_refused(tmp_path):
    path = tmp_path / "theirs.db"
    plain = sqlite3.connect(path)
    plain.execute("CREATE TABLE invoices (id INTEGER)")
    plain.commit()
    plain.close()
    with pytest.raises(StorageError, match="another program"):
        asyncio.run(_open_and_close(path))


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database" * 100)
    with pytest.raises(StorageError, match="not a database"):
        asyncio.run(_open_and_close(path))
    assert path.read_bytes().startswith(b"these are my notes")


def test_reopening_a_current_file_migrates_nothing(tmp_path):
    path = tmp_path / "sk.db"
    asyncio.run(_open_and_close(path))
    asyncio.run(_open_and_close(path))
    plain = sqlite3.connect(path)
    assert plain.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    plain.close()


async def _open_and_close(path: Path) -> None:
    storage = load_storage(_url(path))
    try:
        await storage.open()
    finally:
        await storage.close()


# -- lifecycle ---------------------------------------------------------------------------------


def test_used_before_open_it_opens_itself_with_its_unique_indexes(tmp_path):
    """Issue 11, lifecycle: an app served without its lifespan still keeps invariant 3."""

    async def scenario():
        storage = load_storage(_url(tmp_path / "sk.db"))
        await make_org(storage)  # no open() first
        await storage.record_sync(ORG, "u1", "same@example.com", None, LicenseType.STANDARD, at(1))
        with pytest.raises(Exception) as caught:
            await storage.record_sync(
                ORG, "u2", "SAME@example.com", None, LicenseType.STANDARD, at(1)
            )
        await storage.close()
        return caught.value

    assert type(asyncio.run(scenario())).__name__ == "EmailTaken"


def test_used_after_close_it_refuses_clearly(tmp_path):
    async def scenario():
        storage = load_storage(_url(tmp_path / "sk.db"))
        await storage.open()
        await storage.close()
        await storage.get_organization(ORG)

    with pytest.raises(StorageError, match="closed"):
        asyncio.run(scenario())


# -- the event loop ----------------------------------------------------------------------------


def test_the_event_loop_runs_while_a_write_waits_for_the_file(tmp_path):
    """Another process holds the write lock: the write waits in its thread, the loop goes on."""
    path = tmp_path / "sk.db"

    async def scenario():
        storage = load_storage(_url(path))
        await storage.open()
        await make_org(storage)
        other = sqlite3.connect(path, isolation_level=None)  # "another process" holding the lock
        other.execute("BEGIN IMMEDIATE")
        write = asyncio.ensure_future(
            storage.record_sync(ORG, "u1", "u1@example.com", None, LicenseType.STANDARD, at(1))
        )
        ticks = 0
        while ticks < 200:  # the loop turns 200 times while the write cannot finish
            await asyncio.sleep(0)
            ticks += 1
        assert not write.done(), "the write finished while another connection held the lock"
        # Reads are not blocked by a writer (WAL).
        assert (await storage.get_organization(ORG)).id == ORG
        other.execute("COMMIT")
        other.close()
        user = await write
        await storage.close()
        return user

    assert asyncio.run(scenario()).id == "u1"


def test_a_lock_held_past_the_timeout_is_a_storage_error(tmp_path):
    path = tmp_path / "sk.db"

    async def scenario():
        storage = load_storage(_url(path, "timeout=0.2"))
        await make_org(storage)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            await storage.record_sync(
                ORG, "u1", "u1@example.com", None, LicenseType.STANDARD, at(1)
            )
        finally:
            other.execute("ROLLBACK")
            other.close()
            await storage.close()

    with pytest.raises(StorageError, match="locked"):
        asyncio.run(scenario())


# -- indexes -----------------------------------------------------------------------------------


def test_every_query_the_protocol_makes_uses_an_index(tmp_path):
    """B2's flat pages rest on this: no protocol query but a filtered count scans a table."""
    statements: list[str] = []

    async def scenario():
        storage = load_storage(_url(tmp_path / "sk.db"))
        await storage.open()
        connect = storage._connect

        def traced():
            connection = connect()
            connection.set_trace_callback(statements.append)
            return connection

        storage._connect = traced
        await make_org(storage)
        users = [make_user(f"u{i}", A if i < 3 else U, last_sync_at=at(i)) for i in range(10)]
        await add_users(storage, users)
        waiting = await storage.get_user(ORG, "u5")
        await storage.apply_changes(change_set([(waiting, (A, U))], NO_LIMIT))
        await storage.record_sync(ORG, "u1", "u1@example.com", None, LicenseType.STANDARD, at(9))
        await storage.start_grace_period(ORG, "u1", at(9))
        await storage.get_users(ORG, ["u1", "u2"])
        await storage.find_user_by_email(ORG, "U1@example.com")
        await storage.count_holders(ORG, LicenseType.STANDARD)
        await storage.holders_ranked_before(ORG, LicenseType.STANDARD, at(0), "u1")
        await storage.find_longest_inactive_holder(ORG, LicenseType.STANDARD, at(5))
        await storage.list_users(ORG, UserQuery(), 3, None)
        await storage.list_users(ORG, UserQuery(), 3, ("user u3", "u3"))
        await storage.list_sync_log(ORG, LogQuery(), 3, None)
        await storage.list_sync_log(ORG, LogQuery(user_key="u1", since=at(1)), 3, (at(5), "x"))
        await storage.list_audit_log(ORG, LogQuery(), 3, None)
        await storage.list_audit_log(ORG, LogQuery(user_key="u1"), 3, None)
        await storage.purge_sync_log(at(1))
        await storage.list_subscriptions(ORG)
        await storage.list_tokens(ORG)
        await storage.find_token("hash")
        await storage.get_project(ORG, "default")
        for license_type in (LicenseType.STANDARD, LicenseType.INSPECTIONS):  # SPEC 6 pending
            await storage.count_users(ORG, UserQuery(pending_for=license_type))
            await storage.count_users(ORG, UserQuery(pending_for=license_type, grace_since=at(1)))
        plans = {}
        for sql in {s for s in statements if s.lstrip().upper().startswith(("SELECT", "DELETE"))}:
            plans[sql] = await storage._read(
                lambda c, sql=sql: [r[3] for r in c.execute("EXPLAIN QUERY PLAN " + sql)]
            )
        await storage.close()
        return plans

    plans = asyncio.run(scenario())
    assert len(plans) > 15
    for sql, plan in plans.items():
        scans = [step for step in plan if step.startswith("SCAN") and "json_each" not in step]
        assert not scans, f"{sql}\n  scans: {scans}"


# -- the per-process cache ---------------------------------------------------------------------


def test_cached_reads_see_this_process_writes_at_once_and_another_process_within_the_time(
    tmp_path,
):
    from seatkeeper.domain.records import Settings

    path = tmp_path / "sk.db"
    ticks = [1000.0]

    async def scenario():
        mine = load_storage(_url(path, "cache_seconds=1"))
        mine._monotonic = lambda: ticks[0]
        other = load_storage(_url(path))  # another process's view of the same file
        await make_org(mine)
        assert (await mine.get_organization(ORG)).settings == Settings()
        changed = Settings(auto_assign_licenses=True)
        await mine.update_settings(ORG, changed)
        assert (await mine.get_organization(ORG)).settings == changed  # own write: at once
        later = Settings(inactivity_days=5)
        await other.update_settings(ORG, later)
        assert (await mine.get_organization(ORG)).settings == changed  # within the second
        ticks[0] += 1.01
        assert (await mine.get_organization(ORG)).settings == later  # after it
        uncached = load_storage(_url(path, "cache_seconds=0"))
        await other.update_settings(ORG, changed)
        assert (await uncached.get_organization(ORG)).settings == changed
        fetched = await mine.get_organization(ORG)
        fetched.settings.grace_period_days = 99  # a snapshot: the cache is not changed
        assert (await mine.get_organization(ORG)).settings.grace_period_days != 99
        for storage in (mine, other, uncached):
            await storage.close()

    asyncio.run(scenario())


def test_a_version_1_file_is_migrated_to_the_current_schema_keeping_its_users(tmp_path):
    """PRAGMA user_version migrations: a file as schema version 1 left it (no user counts) is
    brought up to date at open, in one transaction, and counts the users it already holds."""
    from seatkeeper.plugins.sqlite import rows, schema

    path = tmp_path / "v1.db"
    plain = sqlite3.connect(path, isolation_level=None)
    for statement in schema._statements(schema.MIGRATIONS[0]):
        plain.execute(statement)
    plain.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    plain.execute("PRAGMA user_version = 1")
    organization = Organization(ORG, "Old", at(0))
    plain.execute(
        f"INSERT INTO organizations ({rows.ORGANIZATION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
        rows.organization_row(organization),
    )
    plain.executemany(
        "INSERT INTO seat_holders (org, license_type, holders) VALUES (?, ?, 0)",
        [(ORG, "STANDARD"), (ORG, "INSPECTIONS")],
    )
    plain.executemany(
        f"INSERT INTO users ({rows.USER_COLUMNS}) VALUES ({', '.join('?' * 16)})",
        [rows.user_row(make_user(f"u{i}")) for i in range(3)],
    )
    plain.close()

    async def upgrade():
        storage = load_storage(_url(path))
        await storage.open()
        version = await storage._read(lambda c: c.execute("PRAGMA user_version").fetchone()[0])
        before = await storage.count_users(ORG, UserQuery())
        await add_users(storage, [make_user("u9")])
        after = await storage.count_users(ORG, UserQuery())
        await storage.close()
        return version, before, after

    assert asyncio.run(upgrade()) == (SCHEMA_VERSION, 3, 4)


def _pending_population() -> list:
    """Users of every pending situation: required STANDARD or INSPECTIONS, grace or not,
    holding a seat or disabled for the type, grace started early or late."""
    users = []
    for n in range(40):
        standard = (A, U, U, LicenseState.DISABLED)[n % 4]
        user = make_user(f"u{n:02d}", standard, assigned_at=at(0) if standard is A else None)
        user.last_required = (LicenseType.STANDARD, LicenseType.INSPECTIONS, None)[n % 3]
        user.grace_started_at = None if n % 5 == 0 else at(n)
        users.append(user)
    return users


_PENDING_QUERIES = [
    UserQuery(pending_for=license_type, grace_since=since)
    for license_type in (LicenseType.STANDARD, LicenseType.INSPECTIONS)
    for since in (None, at(10), at(30))
]


def test_spec_6_issue_14_the_pending_count_searches_its_own_index(tmp_path):
    """B15a: SPEC 6's pending count (every subscriptions view) went through `held` or the
    primary key and read every user of the organization (37 -> 872 ms at 100 -> 100,000).
    Its plan now searches `users_pending` on (org, last_required, grace_started_at) and counts
    exactly what `UserQuery.matches` selects."""
    statements: list[str] = []

    async def scenario():
        storage = load_storage(_url(tmp_path / "sk.db"))
        await storage.open()
        await make_org(storage)
        users = _pending_population()
        await add_users(storage, users)
        connect = storage._connect

        def traced():
            connection = connect()
            connection.set_trace_callback(statements.append)
            return connection

        storage._connect = traced
        counts = []
        for query in _PENDING_QUERIES:
            counted = await storage.count_users(ORG, query)
            counts.append((counted, sum(1 for u in users if query.matches(u))))
        counting = [s for s in statements if "count(*)" in s]
        plans = [
            await storage._read(
                lambda c, sql=sql: [r[3] for r in c.execute("EXPLAIN QUERY PLAN " + sql)]
            )
            for sql in counting
        ]
        await storage.close()
        return counts, plans

    counts, plans = asyncio.run(scenario())
    assert all(counted == expected for counted, expected in counts), counts
    assert any(expected > 0 for _, expected in counts)
    assert len(plans) == len(_PENDING_QUERIES)
    for plan in plans:
        assert len(plan) == 1 and plan[0].startswith("SEARCH users USING INDEX users_pending ("), (
            plan
        )


def test_a_version_2_file_gets_the_pending_index_and_counts_its_pending_users(tmp_path):
    """PRAGMA user_version 2 -> 3: a file without `users_pending` gets it at open, in the
    migration's transaction, and its existing users are counted through it."""
    from seatkeeper.plugins.sqlite import rows, schema

    path = tmp_path / "v2.db"
    plain = sqlite3.connect(path, isolation_level=None)
    for script in schema.MIGRATIONS[:2]:
        for statement in schema._statements(script):
            plain.execute(statement)
    plain.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    plain.execute("PRAGMA user_version = 2")
    organization = Organization(ORG, "Old", at(0))
    plain.execute(
        f"INSERT INTO organizations ({rows.ORGANIZATION_COLUMNS}) VALUES (?,?,?,?,?,?,?,?)",
        rows.organization_row(organization),
    )
    users = _pending_population()
    holders = sum(1 for u in users if u.standard is A)
    plain.executemany(
        "INSERT INTO seat_holders (org, license_type, holders) VALUES (?, ?, ?)",
        [(ORG, "STANDARD", holders), (ORG, "INSPECTIONS", 0)],
    )
    plain.execute("INSERT INTO user_counts (org, users) VALUES (?, ?)", (ORG, len(users)))
    plain.executemany(
        f"INSERT INTO users ({rows.USER_COLUMNS}) VALUES ({', '.join('?' * 16)})",
        [rows.user_row(u) for u in users],
    )
    assert plain.execute(
        "SELECT count(*) FROM sqlite_schema WHERE name = 'users_pending'"
    ).fetchone() == (0,)
    plain.close()

    async def upgrade():
        storage = load_storage(_url(path))
        await storage.open()
        version = await storage._read(lambda c: c.execute("PRAGMA user_version").fetchone()[0])
        indexed = await storage._read(
            lambda c: c.execute(
                "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = 'users_pending'"
            ).fetchone()[0]
        )
        counts = [await storage.count_users(ORG, query) for query in _PENDING_QUERIES]
        await storage.close()
        return version, indexed, counts

    expected = [sum(1 for u in users if q.matches(u)) for q in _PENDING_QUERIES]
    assert asyncio.run(upgrade()) == (SCHEMA_VERSION, 1, expected)
    assert SCHEMA_VERSION >= 3  # later versions (4: the administration log) migrate on from it
