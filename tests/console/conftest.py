"""Console fixtures: the app in-process for the route tests; the browser suite has its own."""

from __future__ import annotations

import secrets
import warnings

import pytest
from seatkeeper.server.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def operator_token() -> str:
    return "op_" + secrets.token_urlsafe(24)


@pytest.fixture
def client(clock, operator_token):
    with TestClient(create_app("memory://", clock=clock, operator_token=operator_token)) as c:
        yield c
