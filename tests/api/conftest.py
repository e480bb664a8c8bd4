"""API fixtures: the real app (memory storage, fake clock) behind Starlette's test client.

Nothing is mocked: the resolvers call the real engine on the real memory storage. The `clock`
fixture (a FakeClock: aware UTC, `advance(days=...)`) comes from tests/conftest.py; the app reads
it, so every day count of the SPEC is tested at exact instants without sleeping.
"""

from __future__ import annotations

import secrets

import pytest
from seatkeeper.server.app import create_app

from tests.api.api_support import Api, Org, TestClient


@pytest.fixture
def operator_token() -> str:
    return "op_" + secrets.token_urlsafe(24)


@pytest.fixture
def app(clock, operator_token):
    return create_app("memory://", clock=clock, operator_token=operator_token)


@pytest.fixture
def client(app):
    """The test client as a context manager, so the app's lifespan (storage open/close) runs."""
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def api(client, operator_token, clock) -> Api:
    return Api(client, operator_token, clock)


@pytest.fixture
def gql(api):
    """`gql(operation_name, variables, token)` -> (status, json): the whole contract, one operation."""
    return api.gql


@pytest.fixture
def org(api) -> Org:
    """An organization made through the contract's CreateOrganization (no trial)."""
    return api.create_org("Acme")


@pytest.fixture
def org_b(api) -> Org:
    """A second organization, for isolation tests."""
    return api.create_org("Beta")
