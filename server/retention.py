"""SPEC 8 retention: the server purges the sync log on a schedule, for every backend that does not
expire it by itself (a plugin that does declares `Capabilities.expires_sync_log`, e.g. MongoDB's
TTL index).

The first purge runs at start-up, before the app serves (`purge_once`), then one every
`interval` seconds in the background (`purge_on_schedule`). Time comes from the
engine's clock (tests inject theirs). With several worker processes each runs the schedule; a
purge deletes only entries already past retention, so running it twice costs a query and
changes nothing. A failed purge is logged and tried again at the next turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from seatkeeper.rules.engine import Engine
from seatkeeper.storage import capabilities_of

DEFAULT_RETENTION_DAYS = 90
DEFAULT_INTERVAL_SECONDS = 3600.0

log = logging.getLogger("seatkeeper.retention")


def needs_purging(engine: Engine, retention_days: int) -> bool:
    """Whether this server must purge: retention on, and the backend does not expire by itself."""
    return retention_days > 0 and not capabilities_of(engine.storage).expires_sync_log


async def purge_once(engine: Engine, retention_days: int) -> None:
    """Purge entries older than `retention_days`; a failure is logged, never raised."""
    try:
        purged = await engine.purge_sync_log(retention_days)
        if purged:
            log.info("sync log: %d entries older than %d days purged", purged, retention_days)
    except Exception as error:  # noqa: BLE001 (a failed purge must not stop the server)
        log.warning("sync-log purge failed (tried again later): %s", error)


async def purge_on_schedule(
    engine: Engine,
    retention_days: int,
    interval: float = DEFAULT_INTERVAL_SECONDS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Every `interval` seconds, purge entries older than `retention_days`; until cancelled."""
    while True:
        await sleep(interval)
        await purge_once(engine, retention_days)
