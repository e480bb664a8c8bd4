"""The end-to-end API tests once more, with the MongoDB plugin (on mongomock) behind `create_app`.

The test functions and fixtures of tests/api are taken as they are; only the `app` fixture
differs: the same app, on a MongoStorage whose client is an in-memory mongomock. Plus what only
this backend shows over HTTP: `/readyz` naming an unreachable database in one line.
"""

from __future__ import annotations

import secrets

import pytest
from seatkeeper.plugins.mongodb import MongoStorage
from seatkeeper.plugins.mongodb.testing import atomic_mongomock_client
from seatkeeper.server.app import create_app

from tests.api import test_auth, test_contract_operations, test_sync_http
from tests.api.api_support import Api, TestClient

# Every test and module fixture of the API suites, collected here under the fixtures below.
for _module in (test_sync_http, test_contract_operations, test_auth):
    for _name, _value in vars(_module).items():
        if (
            _name.startswith("test_")
            or hasattr(_value, "_fixture_function_marker")
            or hasattr(_value, "_pytestfixturefunction")
        ):
            globals()[_name] = _value

# The sync log's TTL reads the wall clock, the tests' FakeClock is in 2025: retention off.
URL = "mongodb://localhost/seatkeeper_api?syncLogRetentionDays=0"


@pytest.fixture
def operator_token() -> str:
    return "op_" + secrets.token_urlsafe(24)


@pytest.fixture
def app(clock, operator_token):
    return create_app(
        MongoStorage(URL, client=atomic_mongomock_client()),
        clock=clock,
        operator_token=operator_token,
    )


@pytest.fixture
def client(app):
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def api(client, operator_token, clock) -> Api:
    return Api(client, operator_token, clock)


@pytest.fixture
def gql(api):
    return api.gql


@pytest.fixture
def org(api):
    return api.create_org("Acme")


@pytest.fixture
def org_b(api):
    return api.create_org("Beta")


def test_readyz_names_an_unreachable_database_in_one_line(clock, caplog):
    """Issue 4, operations: 503, the reason in one log line, no stack trace (the app is not
    started, so its lifespan does not fail first). Issue 9: the answer names no host."""
    app = create_app(
        "mongodb://127.0.0.1:1/seatkeeper?serverSelectionTimeoutMS=200&connectTimeoutMS=200",
        clock=clock,
    )
    response = TestClient(app).get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body == {"status": "unavailable", "reason": "the storage does not answer"}
    assert "Traceback" not in response.text
    (logged,) = [r.getMessage() for r in caplog.records if "readiness" in r.getMessage()]
    assert "MongoDB at 127.0.0.1:1 is unreachable: ServerSelectionTimeoutError" in logged
    assert "\n" not in logged


def test_readyz_is_ready_on_a_reachable_database(client):
    assert client.get("/readyz").json() == {"status": "ready"}
