"""Throttling (issue 9 finding 8): 300 wrong-token guesses in 0.2 s met no 429.

- Failed authentication is throttled per client address, on by default: each address has a token
  bucket of `burst` failures refilled at `per_second`; with the bucket empty, a request whose
  token is wrong is answered 429 with `Retry-After` instead of 401. A request with a valid token
  is never slowed, even from a throttled address (a shared NAT must not lock its users out).
- A per-token request budget (a token bucket per API token) is off by default; a token created
  or updated with its own `requestsPerSecond` has that budget instead (`Throttle.own`).
- The client address is the socket's peer; `X-Forwarded-For` is read only when that peer is one
  of the trusted proxies, and then the right-most address that is not a trusted proxy counts.

Per process: with several workers, each keeps its own buckets (an address may fail `burst`
times per worker before it is throttled).
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class TokenBuckets:
    """Token buckets by key, bounded in number (the least recently touched are forgotten)."""

    def __init__(
        self,
        burst: float,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self.burst = burst
        self.per_second = per_second
        self.clock = clock
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> level, at

    def _rates(self, per_second: float | None) -> tuple[float, float]:
        """(burst, refill per second): the buckets' own, or a key's own `per_second`."""
        if per_second is None:
            return self.burst, self.per_second
        return max(1.0, per_second), per_second

    def _level(self, key: str, now: float, burst: float, per_second: float) -> float:
        level, at = self._buckets.get(key, (burst, now))
        return min(burst, level + (now - at) * per_second)

    def retry_after(self, key: str, per_second: float | None = None) -> int | None:
        """Seconds to wait (at least 1) when `key`'s bucket is empty; None when it may go on.
        `per_second` gives this key its own rate (its burst: the same number, at least 1)."""
        now = self.clock()
        burst, rate = self._rates(per_second)
        level = self._level(key, now, burst, rate)
        if level >= 1:
            return None
        return max(1, math.ceil((1 - level) / rate))

    def take(self, key: str, per_second: float | None = None) -> None:
        now = self.clock()
        burst, rate = self._rates(per_second)
        self._buckets[key] = (max(0.0, self._level(key, now, burst, rate) - 1), now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)


def parse_networks(text: str | Iterable[str]) -> tuple[Network, ...]:
    """`10.0.0.0/8, 127.0.0.1` (a string or a list) as networks; ValueError for a bad entry."""
    entries = text.split(",") if isinstance(text, str) else list(text)
    return tuple(ipaddress.ip_network(e.strip(), strict=False) for e in entries if e.strip())


def _within(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(scope: Scope, trusted_proxies: tuple[Network, ...]) -> str:
    """The client's address: the peer, or behind trusted proxies the X-Forwarded-For entry."""
    client = scope.get("client")
    peer: str = str(client[0]) if client else "unknown"
    if not trusted_proxies or not _within(peer, trusted_proxies):
        return peer
    forwarded: list[str] = [
        bytes(value).decode("latin-1")
        for name, value in scope["headers"]
        if name == b"x-forwarded-for"
    ]
    hops: list[str] = [hop.strip() for line in forwarded for hop in line.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _within(hop, trusted_proxies):
            return hop
    return peer


@dataclass
class Throttle:
    """The server's throttles (see the module docstring)."""

    failures: TokenBuckets
    per_token: TokenBuckets | None = None
    trusted_proxies: tuple[Network, ...] = ()
    #: The buckets of tokens with a budget of their own (each at its own rate), always on.
    own: TokenBuckets = field(default_factory=lambda: TokenBuckets(1, 1))

    @classmethod
    def default(
        cls,
        failures_burst: int = 20,
        failures_per_minute: float = 60,
        token_requests_per_second: float | None = None,
        trusted_proxies: str | Iterable[str] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> Throttle:
        per_token = None
        if token_requests_per_second:
            per_token = TokenBuckets(
                max(1.0, token_requests_per_second), token_requests_per_second, clock
            )
        return cls(
            failures=TokenBuckets(failures_burst, failures_per_minute / 60, clock),
            per_token=per_token,
            trusted_proxies=parse_networks(trusted_proxies),
            own=TokenBuckets(1, 1, clock),
        )
