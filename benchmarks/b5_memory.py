"""B5: resident memory of a server holding 100,000 users and 1,000,000 sync-log entries.

The benchmark server (benchmarks/server_app.py, uvicorn) is started in its own process, seeded
through the rules engine with 100,000 users and then 1,000,000 real syncs (round robin over the
users: each sync writes one sync-log entry), and its VmRSS is read from /proc/<pid>/status once it
answers. The baseline is the same server started empty. The figure is the difference, in MB.

The in-memory sync log is bounded: `memory://?sync_log_cap=N` (default 1,000,000 entries per
organization; the oldest are dropped, in chunks of a tenth of the cap). That is checked here too.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from seatkeeper.domain.records import Client, Organization, Project, ProjectKind, SyncLogEntry
from seatkeeper.plugins.memory import DEFAULT_SYNC_LOG_CAP, MemoryStorage

from benchmarks.common import BenchConfig, Figure, median
from benchmarks.http_load import benchmark_server

USERS, ENTRIES = 100_000, 1_000_000
LIMIT_MB = 600


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmRSS in /proc status")


def server_rss(users: int, entries: int, config: BenchConfig) -> float:
    with benchmark_server(
        users, sync_log=entries, extra_args=["--mix", "realistic", *config.server_args]
    ) as server:
        return resident_mb(server.pid)


async def cap_check(cap: int = 1_000, appended: int = 5_000) -> tuple[bool, str]:
    """Append `appended` entries under a cap of `cap`: the log stays bounded, the oldest go first."""
    storage = MemoryStorage(f"memory://?sync_log_cap={cap}")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    await storage.create_organization(
        Organization("o", "O", start), Project("o", "default", "Default", ProjectKind.STANDARD)
    )
    for index in range(appended):
        at = start + timedelta(seconds=index)
        await storage.append_sync_log(
            SyncLogEntry(
                "o", at, f"u{index}", f"u{index}@example.com", "default", Client.MOBILE, True
            )
        )
    held = storage._tenants["o"].sync_log  # the plugin's own count (no public size in the protocol)
    newest = await storage.list_sync_log("o", _all(), 1, None)
    bounded = len(held) <= cap + cap // 10 and newest[0].user_id == f"u{appended - 1}"
    return bounded, f"cap {cap:,}: {appended:,} appended, {len(held):,} kept, newest kept"


def _all():
    from seatkeeper.storage.protocol import LogQuery

    return LogQuery()


def run(config: BenchConfig) -> list[Figure]:
    users, entries = config.size(USERS, 10_000), config.size(ENTRIES, 100_000)
    what = f"server RSS holding {users:,} users + {entries:,} sync-log entries"
    rounds = []
    empty_mb, full_mb = [], []
    for _ in range(config.rounds):
        empty = server_rss(0, 0, config)
        full = server_rss(users, entries, config)
        empty_mb.append(empty)
        full_mb.append(full)
        rounds.append(full - empty)
    above = median(rounds)
    bounded, cap_note = asyncio.run(cap_check())
    return [
        Figure(
            "B5",
            what,
            f"empty server {median(empty_mb):.0f} MB",
            above,
            f"≤ {LIMIT_MB} MB above; log bounded",
            above <= LIMIT_MB and bounded,
            f"{median(full_mb):.0f} MB in all; {above * 1024 * 1024 / (users + entries):.0f} B per user or entry; "
            f"log cap default {DEFAULT_SYNC_LOG_CAP:,} ({'bounded' if bounded else 'NOT bounded'}: {cap_note})",
            ratio_format="+{:.0f} MB",
        )
    ]
