"""The MongoDB plugin's own promises beyond the contract kit: URL and client, indexes, retention,
keyset pages, errors on an unreachable server, and an event loop that never waits for the driver.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from seatkeeper.domain.records import (
    DEFAULT_PROJECT_ID,
    Client,
    LicenseType,
    Organization,
    Project,
    ProjectKind,
    SyncLogEntry,
)
from seatkeeper.plugins.mongodb import MongoStorage
from seatkeeper.plugins.mongodb.config import acquire_client, parse_url, release_client
from seatkeeper.plugins.mongodb.indexes import INDEXES, SYNC_LOG_TTL_INDEX
from seatkeeper.plugins.mongodb.testing import atomic_mongomock_client
from seatkeeper.storage import StorageError, load_storage
from seatkeeper.storage.protocol import LogQuery, UserQuery

T0 = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
ORG = "org-m"


def mongomock_storage(
    url: str = "mongodb://localhost/seatkeeper_test", client=None
) -> MongoStorage:
    return MongoStorage(url, client=client or atomic_mongomock_client())


async def with_org(storage: MongoStorage) -> None:
    await storage.open()
    await storage.create_organization(
        Organization(ORG, "Org", T0),
        Project(ORG, DEFAULT_PROJECT_ID, "Default", ProjectKind.STANDARD),
    )


# ----------------------------------------------------------------------------- URL and client


def test_loader_builds_the_plugin_from_mongodb_urls_without_connecting():
    for url in (
        "mongodb://db.invalid:27017/seatkeeper",
        "mongodb+srv://cluster.invalid/seatkeeper",
    ):
        storage = load_storage(url)
        assert isinstance(storage, MongoStorage)
        assert (
            storage._client is None and storage._store is None
        )  # nothing built, nothing connected


def test_url_gives_database_defaults_and_lets_the_url_override_them():
    settings = parse_url(
        "mongodb://a:1,b:2/?replicaSet=rs0&serverSelectionTimeoutMS=1500&w=majority&wTimeoutMS=3000&syncLogRetentionDays=30"
    )
    assert settings.database == "seatkeeper"
    assert settings.hosts == "a:1,b:2"
    assert settings.sync_log_retention_days == 30
    query = settings.client_uri.split("?", 1)[1]
    assert "serverSelectionTimeoutMS=1500" in query and "serverSelectionTimeoutMS=5000" not in query
    assert "w=majority" in query and "wTimeoutMS=3000" in query and "wTimeoutMS=10000" not in query
    assert (
        "connectTimeoutMS=5000" in query
        and "socketTimeoutMS=30000" in query
        and "replicaSet=rs0" in query
    )
    assert "syncLogRetentionDays" not in query  # the plugin's own options never reach pymongo
    majority = parse_url("mongodb://user:secret@h/crm")
    assert majority.database == "crm" and "w=majority" in majority.client_uri
    assert "wTimeoutMS=10000" in majority.client_uri  # a majority that never comes fails in 10 s
    assert "secret" not in majority.hosts  # messages name hosts, never credentials


@pytest.mark.parametrize(
    "url, reason",
    [
        ("mongodb:///db", "no host"),
        ("mongodb://h/bad.name", "not a valid MongoDB database name"),
        ("mongodb://h/db?workerThreads=many", "whole number"),
        ("mongodb://h/db?workerThreads=0", ">= 1"),
        # Issue 15: unsafe settings are refused at start-up, one line each.
        ("mongodb://h/db?w=1", "w=1 is refused"),
        ("mongodb://h/db?w=0", "w=0 is refused"),
        ("mongodb://h/db?journalStaleSeconds=0", "journalStaleSeconds=0 is below 60"),
        ("mongodb://h/db?journalStaleSeconds=59", "below 60 .2 x socketTimeoutMS"),
        ("mongodb://h/db?socketTimeoutMS=60000&journalStaleSeconds=119", "below 120"),
        ("mongodb://h/db?socketTimeoutMS=0", "socketTimeoutMS must be set"),
        ("mongodb://h/db?cacheSeconds=31", "cacheSeconds=31 is above 30"),
    ],
)
def test_bad_urls_are_refused_with_a_reason(url, reason):
    with pytest.raises(ValueError, match=reason):
        parse_url(url)
    from seatkeeper.storage import StorageConfigError

    with pytest.raises(StorageConfigError, match=reason):
        load_storage(url)


def test_one_client_per_process_and_url_closed_by_its_last_user():
    settings = parse_url("mongodb://db.invalid:27017/seatkeeper?serverSelectionTimeoutMS=100")
    first, second = acquire_client(settings), acquire_client(settings)
    assert first is second
    release_client(settings)
    third = acquire_client(settings)
    assert third is first  # still one user left: kept
    release_client(settings)
    release_client(settings)
    assert acquire_client(settings) is not first  # the last user closed it; a new one is made
    release_client(settings)


# ----------------------------------------------------------------------- unreachable server


def test_ping_and_open_fail_with_one_clear_line_when_the_server_is_unreachable():
    # Port 1 on the loopback: refused at once; the selection timeout bounds the wait.
    storage = MongoStorage(
        "mongodb://127.0.0.1:1/seatkeeper?serverSelectionTimeoutMS=200&connectTimeoutMS=200"
    )

    async def check():
        for operation in (storage.ping, storage.open):
            with pytest.raises(StorageError) as caught:
                await operation()
            message = str(caught.value)
            assert "\n" not in message and "Topology Description" not in message
            assert message.startswith("MongoDB at 127.0.0.1:1 ")
            assert "ServerSelectionTimeoutError" in message
        await storage.close()

    asyncio.run(check())


def test_ping_answers_on_a_reachable_server():
    storage = mongomock_storage()

    async def check():
        await storage.ping()
        await storage.close()

    asyncio.run(check())


# ---------------------------------------------------------------------------------- indexes


def test_open_creates_every_index_idempotently_with_the_retention_ttl():
    client = atomic_mongomock_client()

    async def check():
        storage = mongomock_storage(
            "mongodb://localhost/seatkeeper_test?syncLogRetentionDays=30", client
        )
        await storage.open()
        await storage.open()  # idempotent
        db = client["seatkeeper_test"]
        for collection, specs in INDEXES.items():
            info = db[collection].index_information()
            for keys, options in specs:
                assert options["name"] in info, (collection, options["name"])
                assert list(info[options["name"]]["key"]) == keys
                assert bool(info[options["name"]].get("unique")) == bool(options.get("unique"))
        assert (
            db["sync_log"].index_information()[SYNC_LOG_TTL_INDEX]["expireAfterSeconds"]
            == 30 * 86_400
        )
        # A new deployment with another retention changes the TTL in place of failing.
        again = mongomock_storage(
            "mongodb://localhost/seatkeeper_test?syncLogRetentionDays=7", client
        )
        await again.open()
        assert (
            db["sync_log"].index_information()[SYNC_LOG_TTL_INDEX]["expireAfterSeconds"]
            == 7 * 86_400
        )
        # Retention 0 keeps entries forever: no TTL index.
        forever = mongomock_storage(
            "mongodb://localhost/seatkeeper_test?syncLogRetentionDays=0", client
        )
        await forever.open()
        assert SYNC_LOG_TTL_INDEX not in db["sync_log"].index_information()

    asyncio.run(check())


def test_spec_6_issue_14_the_pending_count_filter_leads_an_index():
    """B15a: SPEC 6's pending count (every subscriptions view) filters on org and last_required
    (equal) and grace_started_at (a range); no index led with those, so a server scanned the
    organization's users. An index must begin with exactly those fields, equalities first."""
    from seatkeeper.plugins.mongodb.queries import user_filter

    for license_type in (LicenseType.STANDARD, LicenseType.INSPECTIONS):
        query = UserQuery(pending_for=license_type, grace_since=T0)
        found = user_filter(ORG, query)
        assert found is not None
        clauses = found["$and"]
        equal = [k for c in clauses for k, v in c.items() if k in ("org", "last_required")]
        assert equal == ["org", "last_required"]
        assert any("$gt" in c.get("grace_started_at", {}) for c in clauses)
    leading = [[field for field, _ in keys[:3]] for keys, _ in INDEXES["users"]]
    assert ["org", "last_required", "grace_started_at"] in leading


def test_spec_5_issue_9_finding_7_ranking_a_holder_counts_on_the_ranking_index():
    """Finding 7: after capacity fell every holder's sync ranked itself by scanning all holders.
    On MongoDB the rank is one count whose filter is led by the index (org, held, assigned_at,
    key): org and held equal, then a range on assigned_at (key breaking ties), never a scan."""
    filters: list[dict] = []

    class Spy:
        def __init__(self, collection) -> None:
            self.collection = collection

        def __getattr__(self, name: str):
            return getattr(self.collection, name)

        def count_documents(self, query: dict, *args, **kwargs) -> int:
            filters.append(query)
            return self.collection.count_documents(query, *args, **kwargs)

    async def rank() -> int:
        storage = mongomock_storage()
        await with_org(storage)
        storage.store.users = Spy(storage.store.users)
        return await storage.holders_ranked_before(ORG, LicenseType.STANDARD, T0, "u1")

    assert asyncio.run(rank()) == 0
    (query,) = filters
    assert (query["org"], query["held"]) == (ORG, LicenseType.STANDARD.value)
    ranged, tied = query["$or"]
    assert list(ranged) == ["assigned_at"] and list(ranged["assigned_at"]) == ["$lt"]
    assert list(tied) == ["assigned_at", "key"] and list(tied["key"]) == ["$lt"]
    leading = [[field for field, _ in keys] for keys, _ in INDEXES["users"]]
    assert ["org", "held", "assigned_at", "key"] in leading


def _entry(at: datetime, entry_id: str) -> SyncLogEntry:
    return SyncLogEntry(
        ORG, at, "u1", "u1@example.com", "default", Client.MOBILE, True, id=entry_id
    )


def test_spec_8_sync_log_entries_past_retention_expire_through_the_ttl_index():
    """SPEC 8: entries expire after the retention. mongomock applies a TTL index when it reads,
    against the wall clock: an entry from 2000 is past any retention, one from 2999 is not."""
    storage = mongomock_storage("mongodb://localhost/seatkeeper_test?syncLogRetentionDays=90")

    async def check():
        await with_org(storage)
        await storage.append_sync_log(_entry(datetime(2000, 1, 1, tzinfo=UTC), "old"))
        await storage.append_sync_log(_entry(datetime(2999, 1, 1, tzinfo=UTC), "new"))
        entries = await storage.list_sync_log(ORG, LogQuery(), 10, None)
        assert [e.id for e in entries] == ["new"]

    asyncio.run(check())


def test_times_keep_milliseconds_and_come_back_aware_utc():
    storage = mongomock_storage("mongodb://localhost/seatkeeper_test?syncLogRetentionDays=0")
    moment = datetime(2025, 1, 6, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))

    async def check():
        await with_org(storage)
        await storage.append_sync_log(_entry(moment, "e1"))
        (entry,) = await storage.list_sync_log(ORG, LogQuery(), 10, None)
        assert entry.at == moment.replace(microsecond=123000)
        assert entry.at.utcoffset() == timedelta(0)

    asyncio.run(check())


# --------------------------------------------------------------------------- keyset pages


def test_spec_6a_user_pages_are_keyset_queries_on_the_order_index_never_skip():
    storage = mongomock_storage()
    sent: list[tuple[dict, dict]] = []

    async def check():
        await with_org(storage)
        for n in range(7):
            await storage.record_sync(
                ORG, f"u{n}", f"u{n}@example.com", f"Name {n % 3}", LicenseType.STANDARD, T0
            )
        users = storage.store.users

        class Recording:
            def __getattr__(self, name):
                method = getattr(users, name)

                def call(*args, **kwargs):
                    if name == "find":
                        sent.append((args[0], kwargs))
                    return method(*args, **kwargs)

                return call

        storage.store.users = Recording()
        seen, after = [], None
        while True:
            page = await storage.list_users(ORG, UserQuery(), 3, after)
            if not page:
                break
            seen += [u.id for u in page]
            after = (page[-1].full_name.casefold(), page[-1].id)
        return seen

    seen = asyncio.run(check())
    assert seen == ["u0", "u3", "u6", "u1", "u4", "u2", "u5"]  # by name, then id
    assert len(sent) == 4
    for condition, options in sent:
        assert "skip" not in options
        assert options["sort"] == [("name_key", 1), ("id", 1)] and options["limit"] == 3
    assert "$and" in sent[1][0]  # a keyset condition from the second page on


# --------------------------------------------------------------------- the event loop is free


def test_the_event_loop_runs_while_a_database_call_is_waiting():
    """A driver call that blocks (here until the loop itself releases it) runs in a worker
    thread: if it ran on the loop, the loop could never release it and the test would fail."""
    storage = mongomock_storage()
    release = threading.Event()

    async def check():
        await with_org(storage)
        organizations = storage.store.organizations

        class Blocking:
            def __getattr__(self, name):
                method = getattr(organizations, name)

                def call(*args, **kwargs):
                    assert release.wait(timeout=10), (
                        "the event loop never ran while the call waited"
                    )
                    return method(*args, **kwargs)

                return call

        storage.store.organizations = Blocking()
        pending = asyncio.ensure_future(storage.get_organization(ORG))
        await asyncio.sleep(0)  # the call is now blocked in its worker thread
        assert not pending.done()
        release.set()  # done by the loop: proof that it was not blocked
        organization = await pending
        assert organization is not None and organization.id == ORG
        assert threading.current_thread() is threading.main_thread()

    asyncio.run(check())


def test_two_processes_sharing_one_database_see_each_others_writes():
    """Two MongoStorage objects on one database, as two server processes on one MongoDB."""
    client = atomic_mongomock_client()
    first, second = mongomock_storage(client=client), mongomock_storage(client=client)

    async def check():
        await with_org(first)
        await second.open()
        await first.record_sync(ORG, "u1", "u1@example.com", "One", LicenseType.STANDARD, T0)
        user = await second.get_user(ORG, "u1")
        assert user is not None and user.full_name == "One"

    asyncio.run(check())


# ------------------------------------------------------------------------------ read cache


def test_read_cache_forgets_local_writes_at_once_and_others_after_cache_seconds(monkeypatch):
    """Organizations, projects and subscriptions are reused for `cacheSeconds` (cache.py): this
    process's own writes are seen at once, another process's within `cacheSeconds`."""
    from seatkeeper.domain.records import Settings
    from seatkeeper.plugins.mongodb import cache

    client = atomic_mongomock_client()
    mine, other = mongomock_storage(client=client), mongomock_storage(client=client)
    now = [1000.0]
    monkeypatch.setattr(cache.time, "monotonic", lambda: now[0])

    async def check():
        await with_org(mine)
        assert (await mine.get_organization(ORG)).settings.auto_assign_licenses is False
        await other.update_settings(ORG, Settings(auto_assign_licenses=True))
        stale = await mine.get_organization(ORG)
        assert stale.settings.auto_assign_licenses is False  # another process's write: not yet
        stale.name = "changed by a caller"  # callers get copies: the cache is not touched
        now[0] += 1.5  # past cacheSeconds=1
        fresh = await mine.get_organization(ORG)
        assert fresh.settings.auto_assign_licenses is True and fresh.name == "Org"
        await mine.update_settings(ORG, Settings(grace_period_days=3))
        assert (
            await mine.get_organization(ORG)
        ).settings.grace_period_days == 3  # own write: at once

    asyncio.run(check())


def test_the_client_benchmark_runs_both_clients_against_its_wire_protocol_stub(capsys):
    """The evidence behind the threads-or-async choice stays runnable (a few operations only)."""
    from benchmarks import mongodb_clients

    mongodb_clients.main(["20", "4"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    assert {line.split()[2] for line in lines} == {"threads", "async"}


def test_spec_2_1_two_processes_racing_for_seats_never_over_allocate():
    """Invariant 1 across processes: two MongoStorage objects (each its own client side, thread
    pool and event loops) share one database; 60 users race for 10 seats through both."""
    from seatkeeper.storage.contract import (
        A,
        U,
        add_users,
        change_set,
        make_org,
        make_user,
        run_in_threads,
    )
    from seatkeeper.storage.protocol import Applied, SeatShortage

    client = atomic_mongomock_client()
    processes = [mongomock_storage(client=client), mongomock_storage(client=client)]
    limits = {LicenseType.STANDARD: 10, LicenseType.INSPECTIONS: 0}

    async def seed():
        await processes[0].open()
        await make_org(processes[0])
        await add_users(processes[0], [make_user(f"w{i:02d}") for i in range(60)])
        return await processes[0].get_users("org-a", [f"w{i:02d}" for i in range(60)])

    users = asyncio.run(seed())

    def worker(storage, keys):
        async def go():
            return await asyncio.gather(
                *(storage.apply_changes(change_set([(users[k], (A, U))], limits)) for k in keys)
            )

        return go

    keys = sorted(users)
    results = run_in_threads([worker(processes[n % 2], keys[n::6]) for n in range(6)])
    flat = [r for chunk in results for r in chunk]
    assert sum(isinstance(r, Applied) for r in flat) == 10
    assert sum(isinstance(r, SeatShortage) for r in flat) == 50

    async def check():
        for storage in processes:
            assert await storage.count_holders("org-a", LicenseType.STANDARD) == 10
        holders = await processes[1].list_users(
            "org-a", UserQuery(selector=(LicenseType.STANDARD, A)), 100, None
        )
        assert len(holders) == 10

    asyncio.run(check())
