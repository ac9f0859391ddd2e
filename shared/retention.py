"""Retention: each service removes, on a timer, the rows it no longer needs to keep.

Each service names its own purges (`Purge`: a table, and a DELETE of its rows older than a cutoff),
and its own loop runs them one batch at a time, so a first run over a large backlog never holds long
locks. What was removed is counted (`mtp_purged_rows_total{table}`) and logged by table and count,
never by row. The periods come from the directory's `retention` settings.
"""

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
import structlog
from prometheus_client import Counter

from shared.clock import Clock
from shared.db import LOOP_ERRORS
from shared.directory import RetentionSettings
from shared.live_directory import LiveDirectory
from shared.waits import wait_any

log = structlog.get_logger()
PURGED = Counter("mtp_purged_rows_total", "Rows removed because their retention period ended.", ["table"])
BATCH = 5_000  # rows per statement: short transactions, whatever the backlog


@dataclass(frozen=True)
class Purge:
    """Rows of one table that may go: `sql` deletes up to $2 of them older than $1 and returns a row
    per row removed; `days` reads the period from the retention settings (None: keep for ever)."""

    table: str
    sql: str
    days: Callable[[RetentionSettings], float | None]


async def purge_once(
    pool: asyncpg.Pool, purges: Sequence[Purge], settings: RetentionSettings, now: datetime
) -> dict[str, int]:
    """Remove every row past its period, a batch at a time; return how many, by table."""
    removed: dict[str, int] = {}
    for purge in purges:
        days = purge.days(settings)
        if days is None:
            continue
        cutoff = now - timedelta(days=days)
        while True:
            gone = len(await pool.fetch(purge.sql, cutoff, BATCH))
            if gone:
                removed[purge.table] = removed.get(purge.table, 0) + gone
                PURGED.labels(table=purge.table).inc(gone)
            if gone < BATCH:
                break
    return removed


class RetentionLoop:
    """Runs a service's purges every `interval_seconds` (and once at start) until stopped."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        purges: Sequence[Purge],
        directory: LiveDirectory,
        clock: Clock,
        interval_seconds: float = 3600.0,
    ) -> None:
        self._pool, self._purges, self._directory = pool, purges, directory
        self._clock, self._interval = clock, interval_seconds

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                removed = await purge_once(
                    self._pool, self._purges, self._directory.current.retention, self._clock.now()
                )
                if removed:
                    log.info("retention_purged", removed=removed)
            except LOOP_ERRORS as exc:
                log.warning("retention_purge_failed", error=type(exc).__name__)
            await wait_any(stop, timeout=self._interval)
