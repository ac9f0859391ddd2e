"""Bringing histories folded before the kept state existed to the kept form, while the scheduler runs.

After an upgrade, each child's history is folded once more from its start and its kept state written
(`settle.settle_children` does it for a child it finds not kept): a child with a new event or a timer is
done then; this loop does the rest, a few children per transaction, skipping any a settle holds. Nothing
is published twice (what was published stays recorded), no id changes (the fold is the same fold).
"""

import asyncio
import time
from collections.abc import Callable
from datetime import datetime

import structlog

from services.scheduler.kept.store import history as kept_history
from services.scheduler.settle import settle_children
from services.scheduler.store import tables
from shared.clock import Clock
from shared.db import LOOP_ERRORS
from shared.directory import Directory
from shared.live_directory import LiveDirectory
from shared.waits import wait_any

log = structlog.get_logger()
# How long to wait after a round that failed (the database restarting, say) before the next.
RETRY_SECONDS = 5.0


async def keep_histories(
    pool: tables.Pool,
    directory: Directory,
    *,
    namespace: str,
    now: Callable[[], datetime],
    batch: int = 50,
    stop: asyncio.Event | None = None,
) -> int:
    """Fold every history not kept yet again from its start and keep it; return how many children."""
    kept = 0
    started = time.monotonic()
    while stop is None or not stop.is_set():
        async with pool.acquire() as conn, conn.transaction():
            keys = await kept_history.children_to_keep(conn, batch)
            if not keys:
                break
            await settle_children(conn, keys, now=now(), directory=directory, namespace=namespace)
        kept += len(keys)
        if kept % (batch * 20) < batch:
            async with pool.acquire() as conn:
                left = await kept_history.still_to_keep(conn)
            log.info("histories_kept", children=kept, left=left, seconds=round(time.monotonic() - started, 1))
    return kept


class UpgradeLoop:
    """Keeps every history folded before the kept state existed, once, after start."""

    def __init__(self, pool: tables.Pool, clock: Clock, directory: LiveDirectory, *, namespace: str) -> None:
        self._pool, self._clock, self._directory, self._namespace = pool, clock, directory, namespace

    async def run(self, stop: asyncio.Event) -> None:
        """Keep every history not kept yet, then wait for the service to stop (a background loop runs
        as long as its service)."""
        while not stop.is_set():
            try:
                started = time.monotonic()
                kept = await keep_histories(
                    self._pool,
                    self._directory.current,
                    namespace=self._namespace,
                    now=self._clock.now,
                    stop=stop,
                )
                if kept:
                    log.info(
                        "histories_all_kept", children=kept, seconds=round(time.monotonic() - started, 1)
                    )
                break
            except LOOP_ERRORS as exc:
                log.warning("histories_keeping_retrying", error=type(exc).__name__)
                await wait_any(stop, timeout=RETRY_SECONDS)
        await stop.wait()
