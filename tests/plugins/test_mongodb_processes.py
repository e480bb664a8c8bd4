"""The multi-process contract kit on MongoDB, when a real server is given
(SEATKEEPER_TEST_MONGODB_URI, e.g. `mongodb://localhost:27017/?replicaSet=rs0`): mongomock lives
in one process, so without a server this class is reported as skipped."""

from __future__ import annotations

import os
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest
from seatkeeper.storage.contract_processes import MultiProcessContract

REAL_SERVER_URI = os.environ.get("SEATKEEPER_TEST_MONGODB_URI")


@pytest.mark.skipif(
    not REAL_SERVER_URI, reason="SEATKEEPER_TEST_MONGODB_URI is not set: no MongoDB server"
)
class TestMongoDBAcrossProcesses(MultiProcessContract):
    @pytest.fixture(scope="class")
    @classmethod
    def storage_url(cls):
        import pymongo

        parts = urlsplit(REAL_SERVER_URI)
        database = "race_" + uuid.uuid4().hex[:12]
        yield urlunsplit(parts._replace(path="/" + database))
        pymongo.MongoClient(REAL_SERVER_URI).drop_database(database)
