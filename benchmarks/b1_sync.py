"""B1 and B7: `sync` under HTTP load, against a bare Starlette route in the same process.

B1: requests/s of the contract's Sync operation for licensed users picked at random among 10,000
(in-memory storage, 16 connections) over requests/s of `POST /bare`, which answers the same bytes
doing no work. B7: at 64 connections, the p99 latency of sync over its p50.

B13: requests/s of the same syncs shaped as Apollo Client 4 sends them (`__typename` in every
selection, `operationName`, `extensions.clientLibrary`) over requests/s of the plain Sync: both
must take the trusted documents' compiled route (target ≥ 0.95).

B14: B1 for the shipped defaults: the server logging as `seatkeeper serve` does by default (its
log level, its access-log setting) against the bare route of the B1 server (per server
CPU-second too when wrk was starved, as B1).

Each wrk run also reads the server's CPU time (/proc/<pid>/stat). A round where the server was
not saturated (another process starved wrk on this shared machine) reports the ratio of requests
per second of server CPU time instead, and the note says so.
"""

from __future__ import annotations

from benchmarks.common import BenchConfig, Figure, median, not_available
from benchmarks.http_load import WRK_INSTALL_HINT, benchmark_server, run_wrk, wrk_path

USERS = 10_000
SATURATED = 0.9  # the server's share of a CPU over a run, above which req/s measures the server


def run(config: BenchConfig) -> list[Figure]:
    b1_what = "sync, 10,000 licensed users, 16 connections (req/s)"
    b7_what = "sync p99 latency at 64 connections"
    if wrk_path() is None:
        print(WRK_INSTALL_HINT)
        return [
            not_available("B1", b1_what, "≥ 0.5", "wrk not installed"),
            not_available("B7", b7_what, "report", "wrk not installed"),
            not_available("B13", "Apollo-shaped sync ÷ plain sync", "≥ 0.95", "wrk not installed"),
            not_available("B14", "B1 as shipped", "≥ 0.40", "wrk not installed"),
        ]
    users = config.size(USERS, 1_000)
    with benchmark_server(users, extra_args=config.server_args) as server:
        answer = server.info["sync_answer"]["data"]["sync"]
        if not answer["ok"]:
            raise RuntimeError(f"the seeded user is not licensed: {answer}")
        # Warm up both paths (caches, allocator) before measuring.
        run_wrk(server, "/bare", 16, 1)
        run_wrk(server, "/graphql", 16, 2)

        ratios, cpu_ratios, busy, bare_rates, sync_rates, problems = [], [], [], [], [], []
        bare_runs: list[tuple[float, float, float]] = []  # busy, req/s, req/s per CPU-second
        starved = 0
        for _ in range(config.rounds):
            bare = run_wrk(server, "/bare", 16, config.seconds)
            sync = run_wrk(server, "/graphql", 16, config.seconds)
            for name, result in (("bare", bare), ("sync", sync)):
                if not result.clean:
                    problems.append(
                        f"{name}: {result.errors} socket errors, {result.status_errors} non-2xx"
                    )
            bare_rates.append(bare.requests_per_second)
            bare_runs.append(
                (bare.server_busy, bare.requests_per_second, bare.requests_per_cpu_second)
            )
            sync_rates.append(sync.requests_per_second)
            cpu_ratio = sync.requests_per_cpu_second / bare.requests_per_cpu_second
            cpu_ratios.append(cpu_ratio)
            busy.append(f"{bare.server_busy:.0%}/{sync.server_busy:.0%}")
            if min(bare.server_busy, sync.server_busy) >= SATURATED:
                ratios.append(sync.requests_per_second / bare.requests_per_second)
            else:
                # Something else on the machine starved wrk, so the server was not the bottleneck
                # and req/s measures the load generator. Requests per second of the server's own
                # CPU time is what req/s would have been with the server saturated.
                ratios.append(cpu_ratio)
                starved += 1

        p50s, p99s, tails, rates64 = [], [], [], []
        for _ in range(config.rounds):
            loaded = run_wrk(server, "/graphql", 64, config.seconds)
            if not loaded.clean:
                problems.append(
                    f"sync at 64: {loaded.errors} socket errors, {loaded.status_errors} non-2xx"
                )
            p50s.append(loaded.p50_ms)
            p99s.append(loaded.p99_ms)
            tails.append(loaded.p99_ms / loaded.p50_ms)
            rates64.append(loaded.requests_per_second)

        # B13: Apollo's shape of the same syncs, alternating with the plain document.
        apollo_ratios = []
        assert server.apollo_bodies_file is not None  # benchmark_server writes them
        run_wrk(server, "/graphql", 16, 1, server.apollo_bodies_file)
        for _ in range(config.rounds):
            plain = run_wrk(server, "/graphql", 16, config.seconds)
            apollo = run_wrk(server, "/graphql", 16, config.seconds, server.apollo_bodies_file)
            if not apollo.clean:
                problems.append(
                    f"apollo: {apollo.errors} socket errors, {apollo.status_errors} non-2xx"
                )
            apollo_ratios.append(apollo.requests_per_cpu_second / plain.requests_per_cpu_second)

    # B14: the shipped defaults' logging, against the bare route measured above. As for B1, a
    # round where either server was not saturated (wrk starved) compares requests per second of
    # server CPU time: the shipped server's against the bare route's of the same round index.
    with benchmark_server(users, extra_args=[*config.server_args, "--shipped"]) as shipped:
        run_wrk(shipped, "/graphql", 16, 1)
        shipped_rates, shipped_ratios = [], []
        shipped_starved = 0
        for index in range(config.rounds):
            result = run_wrk(shipped, "/graphql", 16, config.seconds)
            shipped_rates.append(result.requests_per_second)
            bare_busy, bare_rate, bare_cpu = bare_runs[index]
            if min(bare_busy, result.server_busy) >= SATURATED:
                shipped_ratios.append(result.requests_per_second / bare_rate)
            else:
                shipped_ratios.append(result.requests_per_cpu_second / bare_cpu)
                shipped_starved += 1
    b14_ratio = median(shipped_ratios)
    b13_ratio = median(apollo_ratios)
    b1_ratio = median(ratios)
    note = "; ".join(problems)
    return [
        Figure(
            "B1",
            b1_what,
            f"bare route {median(bare_rates):,.0f} req/s",
            b1_ratio,
            "≥ 0.5",
            b1_ratio >= 0.5 and not problems,
            f"sync {median(sync_rates):,.0f} req/s; rounds {', '.join(f'{r:.2f}' for r in ratios)}; "
            f"per server CPU-second {median(cpu_ratios):.2f}×; server busy (bare/sync) {', '.join(busy)}"
            + (
                f"; {starved} of {config.rounds} rounds wrk-starved (server < {SATURATED:.0%} busy): their ratio is the CPU-time one"
                if starved
                else ""
            )
            + (f"; {note}" if note else ""),
        ),
        Figure(
            "B13",
            "Apollo-shaped sync ÷ plain sync (req/s per server CPU-second)",
            "plain sync",
            b13_ratio,
            "≥ 0.95",
            b13_ratio >= 0.95,
            f"rounds {', '.join(f'{r:.2f}' for r in apollo_ratios)}",
        ),
        Figure(
            "B14",
            "B1 as shipped: `seatkeeper serve` default logging, sync ÷ bare route (req/s)",
            f"bare route {median(bare_rates):,.0f} req/s",
            b14_ratio,
            "≥ 0.40",
            b14_ratio >= 0.40,
            f"sync {median(shipped_rates):,.0f} req/s (bare route of the B1 server); "
            f"rounds {', '.join(f'{r:.2f}' for r in shipped_ratios)}"
            + (
                f"; {shipped_starved} of {config.rounds} rounds wrk-starved: their ratio is the CPU-time one"
                if shipped_starved
                else ""
            ),
        ),
        Figure(
            "B7",
            b7_what,
            f"p50 {median(p50s):.1f} ms",
            median(tails),
            "report",
            None,
            f"p99 {median(p99s):.1f} ms at {median(rates64):,.0f} req/s",
        ),
    ]
