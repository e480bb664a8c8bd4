"""Console fixtures: the app in-process for the route tests; the browser suite has its own."""

from __future__ import annotations

import secrets
import sys
import warnings
from pathlib import Path

import pytest
from seatkeeper.server.app import create_app

# console_support.py and console_server.py sit beside the tests that use them.
sys.path.insert(0, str(Path(__file__).resolve().parent))

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
