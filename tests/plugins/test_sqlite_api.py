"""The end-to-end API tests once more, with the SQLite plugin (a real file) behind `create_app`.

The test functions and fixtures of tests/api are taken as they are; only the `app` fixture
differs: the same app, on a fresh SQLite file per test.
"""

from __future__ import annotations

import secrets

import pytest
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


@pytest.fixture
def operator_token() -> str:
    return "op_" + secrets.token_urlsafe(24)


@pytest.fixture
def app(clock, operator_token, tmp_path):
    return create_app(f"sqlite:///{tmp_path}/api.db", clock=clock, operator_token=operator_token)


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


def test_readyz_is_ready_on_a_sqlite_file(client):
    assert client.get("/readyz").json() == {"status": "ready"}


def test_readyz_names_an_unusable_file_in_one_line(tmp_path, clock, caplog):
    """A file that is not a database: 503, the reason in one log line (issue 9: the answer names
    no host, path or credential), no stack trace."""
    path = tmp_path / "notes.db"
    path.write_bytes(b"not a database" * 100)
    response = TestClient(create_app(f"sqlite:///{path}", clock=clock)).get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "the storage does not answer"}
    assert "Traceback" not in response.text
    (logged,) = [r.getMessage() for r in caplog.records if "readiness" in r.getMessage()]
    assert "not a database" in logged and "\n" not in logged
