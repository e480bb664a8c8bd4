"""Issue 9 finding 8: 300 wrong-token guesses in 0.2 s met no 429 (server/throttle.py).

Time is injected: the buckets read a fake monotonic clock, so refills are tested without waiting.
"""

from __future__ import annotations

import pytest
from seatkeeper.server.app import create_app
from seatkeeper.server.throttle import Throttle, client_address, parse_networks

from tests.api.api_support import TestClient, assert_unauthenticated

USERS = {"query": "{ users { totalCount } }"}


class Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


def _app(clock, ticks, **options):
    throttle = Throttle.default(clock=ticks, **options)
    return create_app("memory://", clock=clock, operator_token="op", throttle=throttle)


def _guess(client, secret="sk_wrong", **headers):
    return client.post(
        "/graphql", json=USERS, headers={"Authorization": f"Bearer {secret}", **headers}
    )


def test_finding_8_wrong_tokens_from_one_address_are_429_with_retry_after(clock, ticks):
    with TestClient(_app(clock, ticks, failures_burst=5, failures_per_minute=60)) as client:
        for _ in range(5):
            assert_unauthenticated(_guess(client))
        refused = _guess(client)
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_REQUESTS"
        ticks.now += 1  # one failure refilled per second (60 a minute)
        assert_unauthenticated(_guess(client))
        assert _guess(client).status_code == 429


def test_finding_8_a_valid_token_is_never_slowed_from_a_throttled_address(clock, ticks):
    with TestClient(_app(clock, ticks, failures_burst=3)) as client:
        for _ in range(10):
            _guess(client)
        assert _guess(client).status_code == 429
        response = client.post(
            "/graphql",
            json={"query": "{ organizations { id } }"},
            headers={"Authorization": "Bearer op"},
        )
        assert response.json() == {"data": {"organizations": []}}


def test_finding_8_x_forwarded_for_counts_only_behind_a_trusted_proxy(clock, ticks):
    # The test client's peer is "testclient": not an address, never a trusted proxy.
    with TestClient(_app(clock, ticks, failures_burst=2)) as client:
        for hop in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
            last = _guess(client, **{"x-forwarded-for": hop})
        assert last.status_code == 429  # one address (the peer), whatever the header says
    scope = {
        "client": ("192.168.1.10", 5),
        "headers": [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.7")],
    }
    assert client_address(scope, ()) == "192.168.1.10"
    proxies = parse_networks("192.168.1.0/24")
    assert client_address(scope, proxies) == "203.0.113.7"
    chained = {
        "client": ("192.168.1.10", 5),
        "headers": [(b"x-forwarded-for", b"203.0.113.7, 192.168.1.3")],
    }
    assert client_address(chained, proxies) == "203.0.113.7"
    hostile = {"client": ("192.168.1.10", 5), "headers": [(b"x-forwarded-for", b"not-an-ip")]}
    assert client_address(hostile, proxies) == "not-an-ip"  # a key of its own, nothing more


def test_per_token_budget_is_off_by_default_and_429_when_on(clock, ticks):
    with TestClient(_app(clock, ticks)) as client:
        for _ in range(50):
            ok = client.post(
                "/graphql",
                json={"query": "{ organizations { id } }"},
                headers={"Authorization": "Bearer op"},
            )
            assert ok.status_code == 200
    with TestClient(_app(clock, ticks, token_requests_per_second=2)) as client:
        statuses = [
            client.post(
                "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "Bearer op"}
            ).status_code
            for _ in range(3)
        ]
        assert statuses == [200, 200, 429]
        ticks.now += 1
        assert (
            client.post(
                "/graphql", json={"query": "{ __typename }"}, headers={"Authorization": "Bearer op"}
            ).status_code
            == 200
        )


def test_buckets_are_bounded_in_number(ticks):
    throttle = Throttle.default(clock=ticks)
    throttle.failures.max_keys = 100
    for i in range(1_000):
        throttle.failures.take(f"10.0.{i // 256}.{i % 256}")
    assert len(throttle.failures._buckets) == 100
