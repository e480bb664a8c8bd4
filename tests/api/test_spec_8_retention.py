"""SPEC 8: sync-log entries are purged after the retention period on every backend; the server
purges what a backend does not expire by itself (issue 11). Through the real app and lifespan,
on the memory plugin and on a SQLite file, with the injected clock."""

from __future__ import annotations

import asyncio
import secrets

import pytest
from seatkeeper.plugins.memory import MemoryStorage
from seatkeeper.rules.engine import Engine
from seatkeeper.server.app import create_app
from seatkeeper.server.retention import needs_purging, purge_on_schedule
from seatkeeper.storage import Capabilities, load_storage

from tests.api.api_support import Api, TestClient


def _log(api: Api, admin: str) -> list[str]:
    edges = api.data("SyncLog", {"first": 50}, admin)["syncLog"]["edges"]
    return [e["node"]["userId"] for e in edges]


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_spec_8_sync_log_purged_after_the_retention_period_on_every_backend(
    backend, clock, tmp_path
):
    operator = "op_" + secrets.token_urlsafe(24)
    shared = MemoryStorage()

    def app():
        storage = shared if backend == "memory" else load_storage(f"sqlite:///{tmp_path}/r.db")
        return create_app(storage, clock=clock, operator_token=operator, sync_log_retention_days=90)

    with TestClient(app()) as client:
        api = Api(client, operator, clock)
        org = api.create_org("Acme")
        api.sync(org.sync, "old-user")
        clock.advance(days=50)
        api.sync(org.sync, "recent-user")
        assert _log(api, org.admin) == ["recent-user", "old-user"]
    clock.advance(days=41)  # old-user's entry is now 91 days old, recent-user's 41
    with TestClient(app()) as client:  # the schedule's first purge runs at start-up
        api = Api(client, operator, clock)
        assert _log(api, org.admin) == ["recent-user"]


def test_spec_8_retention_zero_keeps_everything(clock):
    operator = "op_" + secrets.token_urlsafe(24)
    shared = MemoryStorage()
    with TestClient(create_app(shared, clock=clock, operator_token=operator)) as client:
        api = Api(client, operator, clock)
        org = api.create_org("Acme")
        api.sync(org.sync, "old-user")
    clock.advance(days=1000)
    app = create_app(shared, clock=clock, operator_token=operator, sync_log_retention_days=0)
    with TestClient(app) as client:
        assert _log(Api(client, operator, clock), org.admin) == ["old-user"]


def test_spec_8_a_backend_that_expires_its_own_log_is_not_purged_by_the_server(clock):
    class Expiring(MemoryStorage):
        capabilities = Capabilities(
            shared_between_processes=False, thread_safe=True, durable=False, expires_sync_log=True
        )

    assert not needs_purging(Engine(Expiring(), clock), 90)
    assert needs_purging(Engine(MemoryStorage(), clock), 90)
    assert not needs_purging(Engine(MemoryStorage(), clock), 0)


def test_the_schedule_purges_every_interval_and_survives_a_failed_purge(clock):
    calls: list[int] = []

    class Flaky:
        async def purge_sync_log(self, retention_days: int) -> int:
            calls.append(retention_days)
            if len(calls) == 1:
                raise RuntimeError("disk busy")
            return 3

    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(purge_on_schedule(Flaky(), 30, interval=600, sleep=sleep))  # type: ignore[arg-type]  # a stand-in engine with purge only
    assert calls == [30, 30] and slept == [600, 600, 600]  # the first purge failed, logged
