"""The whole storage contract kit against the SQLite plugin: a fresh file per test, real files."""

from __future__ import annotations

import pytest
from seatkeeper.plugins.sqlite import SQLiteStorage
from seatkeeper.storage import load_storage
from seatkeeper.storage.contract import StorageContract


class TestSQLiteStorageContract(StorageContract):
    """Every promise of the Storage protocol, on `sqlite:///` (a connection per thread)."""

    supports_threads = True

    @pytest.fixture
    def storage_factory(self, tmp_path):
        async def build():
            storage = load_storage(f"sqlite:///{tmp_path}/contract.db")
            assert isinstance(storage, SQLiteStorage)
            await storage.open()
            return storage

        return build
