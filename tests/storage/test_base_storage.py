"""`BaseStorage` derives what can be derived: a plugin that writes only the primitives passes the
whole contract kit (issue 11). The primitives here are the memory plugin's, called through."""

from __future__ import annotations

import pytest
from seatkeeper.plugins.memory import MemoryStorage
from seatkeeper.storage import Capabilities, Storage
from seatkeeper.storage.base import BaseStorage
from seatkeeper.storage.contract import StorageContract

PRIMITIVES = [
    "create_organization",
    "get_organization",
    "list_organizations",
    "update_settings",
    "upsert_project",
    "get_project",
    "list_projects",
    "add_subscription",
    "list_subscriptions",
    "add_token",
    "find_token",
    "list_tokens",
    "revoke_token",
    "get_users",
    "record_sync",
    "start_grace_period",
    "apply_changes",
    "list_users",
    "append_sync_log",
    "list_sync_log",
    "purge_sync_log",
    "list_audit_log",
    "list_admin_log",
    "touch_token",
    "set_token_budget",
]


def _forward(name: str):
    async def call(self, *args, **kwargs):
        return await getattr(self.inner, name)(*args, **kwargs)

    call.__name__ = name
    return call


class PrimitivesOnly(BaseStorage):
    """A plugin that writes the primitives and nothing else."""

    capabilities = Capabilities(shared_between_processes=False, thread_safe=True, durable=False)

    def __init__(self) -> None:
        self.inner = MemoryStorage()
        self.calls: list[str] = []


for _name in PRIMITIVES:
    setattr(PrimitivesOnly, _name, _forward(_name))
PrimitivesOnly.__abstractmethods__ = frozenset()


def test_the_primitives_are_the_abstract_methods():
    assert BaseStorage.__abstractmethods__ == frozenset(PRIMITIVES)
    derived = {"get_user", "find_user_by_email", "count_users", "count_holders"}
    derived |= {"holders_ranked_before", "find_longest_inactive_holder", "open", "close", "ping"}
    assert derived.isdisjoint(BaseStorage.__abstractmethods__)
    assert isinstance(PrimitivesOnly(), Storage)


class TestPrimitivesOnlyPluginPassesTheKit(StorageContract):
    supports_threads = True

    @pytest.fixture
    def storage_factory(self):
        async def build():
            storage = PrimitivesOnly()
            await storage.open()
            return storage

        return build
