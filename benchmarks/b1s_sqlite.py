"""B1s: `sync` req/s on the SQLite plugin over `sync` req/s on the memory plugin, same run.

Two benchmark servers (benchmarks/server_app.py), one after the other, each seeded with 10,000
licensed users: one on `memory://`, one on a fresh SQLite file in a scratch folder. Each round
runs wrk at 16 connections against both. A round where either server was not saturated (the
shared machine starved wrk) counts the ratio of requests per server CPU-second instead, and the
note says so. Target: ≥ 0.7.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.common import BenchConfig, Figure, median, not_available
from benchmarks.http_load import WRK_INSTALL_HINT, benchmark_server, run_wrk, wrk_path

USERS = 10_000
SATURATED = 0.9
TARGET = 0.7


def _rates(users: int, extra: list[str], config: BenchConfig) -> list:
    with benchmark_server(users, extra_args=extra) as server:
        if not server.info["sync_answer"]["data"]["sync"]["ok"]:
            raise RuntimeError(f"the seeded user is not licensed: {server.info['sync_answer']}")
        run_wrk(server, "/graphql", 16, 2)  # warm up
        return [run_wrk(server, "/graphql", 16, config.seconds) for _ in range(config.rounds)]


def run(config: BenchConfig) -> list[Figure]:
    what = "sync req/s on SQLite ÷ on memory, 10,000 licensed users, 16 connections"
    if wrk_path() is None:
        print(WRK_INSTALL_HINT)
        return [not_available("B1s", what, f"≥ {TARGET}", "wrk not installed")]
    users = config.size(USERS, 1_000)
    memory = _rates(users, [*config.server_args, "--storage", "memory://"], config)
    with tempfile.TemporaryDirectory(prefix="seatkeeper-b1s-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'bench.db'}"
        sqlite = _rates(users, [*config.server_args, "--storage", url], config)
    ratios, starved, problems = [], 0, []
    for m, s in zip(memory, sqlite, strict=True):
        if not (m.clean and s.clean):
            problems.append(
                f"errors: memory {m.errors}/{m.status_errors}, sqlite {s.errors}/{s.status_errors}"
            )
        if min(m.server_busy, s.server_busy) >= SATURATED:
            ratios.append(s.requests_per_second / m.requests_per_second)
        else:
            ratios.append(s.requests_per_cpu_second / m.requests_per_cpu_second)
            starved += 1
    ratio = median(ratios)
    note = (
        f"sqlite {median([s.requests_per_second for s in sqlite]):,.0f} req/s; rounds "
        + ", ".join(f"{r:.2f}" for r in ratios)
        + (
            f"; {starved} of {len(ratios)} rounds wrk-starved: their ratio is per CPU-second"
            if starved
            else ""
        )
        + (f"; {'; '.join(problems)}" if problems else "")
    )
    return [
        Figure(
            "B1s",
            what,
            f"memory {median([m.requests_per_second for m in memory]):,.0f} req/s",
            ratio,
            f"≥ {TARGET}",
            ratio >= TARGET and not problems,
            note,
        )
    ]
