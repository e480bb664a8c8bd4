"""The multi-process contract kit on the SQLite plugin: OS processes racing on one file."""

from __future__ import annotations

import pytest
from seatkeeper.storage.contract_processes import MultiProcessContract


class TestSQLiteAcrossProcesses(MultiProcessContract):
    @pytest.fixture(scope="class")
    @classmethod
    def storage_url(cls, tmp_path_factory):
        return f"sqlite:///{tmp_path_factory.mktemp('race')}/race.db"
