"""The timer loop: claim due timers with SKIP LOCKED, settle their children, sleep until the next.

Claim and effect share one transaction: if an instance dies mid-way, its row locks go with its
connection and another instance claims the same timers; if it hangs, the server ends its session
after the lease. A new timer earlier than the moment the loop means to look again wakes it through
LISTEN/NOTIFY; later ones (most: a return sets timers a day or more ahead) leave it asleep.
"""

import asyncio
import time
from datetime import datetime, timedelta

import structlog

from services.scheduler.core import metrics
from services.scheduler.settle import settle_children
from services.scheduler.store import tables
from shared.clock import Clock
from shared.db import LOOP_ERRORS, listen_until_stopped
from shared.live_directory import LiveDirectory
from shared.waits import wait_any

log = structlog.get_logger()
# When every due timer belonged to a child busy elsewhere, look again shortly rather than spin.
BUSY_RETRY_SECONDS = 0.05


class TimerLoop:
    """Fires due timers until stopped."""

    def __init__(
        self,
        pool: tables.Pool,
        clock: Clock,
        directory: LiveDirectory,
        *,
        namespace: str,
        batch: int = 500,
        poll_seconds: float = 1.0,
        lease_seconds: float = 30.0,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._directory = directory
        self._namespace = namespace
        self._batch = batch
        self._poll = poll_seconds
        self._lease = lease_seconds
        self._wake = asyncio.Event()
        self._count_pending_at = 0.0
        self._busy = 0
        self._looks_at: datetime | None = None  # while asleep: when the loop will look again by itself
        self.sleeping = False  # between rounds, waiting for a due time, a NOTIFY or the poll cap

    async def fire_due(self) -> int:
        """Fire one batch of due timers; return how many."""
        async with self._pool.acquire() as conn, conn.transaction():
            now = self._clock.now()
            claimed, self._busy = await tables.claim_due_timers(
                conn, now, self._batch, lease_seconds=self._lease
            )
            if not claimed:
                return 0
            await settle_children(
                conn,
                [child for child, _ in claimed],
                now=now,
                directory=self._directory.current,
                namespace=self._namespace,
            )
        lags = [max((now - due_at).total_seconds(), 0.0) for _, due_at in claimed]
        for lag in lags:
            metrics.TIMER_LAG.observe(lag)
        log.info("timers_fired", count=len(claimed), max_lag_s=round(max(lags), 3), busy=self._busy)
        return len(claimed)

    async def run(self, stop: asyncio.Event) -> None:
        """Fire timers as they fall due until `stop` is set."""
        listener = asyncio.create_task(self._listen(stop))
        try:
            while not stop.is_set():
                # Cleared before looking, so a NOTIFY that arrives while we look is not lost.
                self._wake.clear()
                try:
                    if await self.fire_due() >= self._batch:
                        continue
                    wait = BUSY_RETRY_SECONDS if self._busy else await self._until_next()
                except LOOP_ERRORS as exc:
                    log.warning("timer_loop_retrying", error=type(exc).__name__)
                    wait = self._poll
                self.sleeping = True
                self._looks_at = self._clock.now() + timedelta(seconds=wait)
                try:
                    await wait_any(stop, self._wake, timeout=wait)
                finally:
                    self.sleeping = False
                    self._looks_at = None
        finally:
            listener.cancel()

    async def _until_next(self) -> float:
        if time.monotonic() >= self._count_pending_at:  # a count over the partial index, not every pass
            metrics.TIMERS_PENDING.set(await tables.pending_timers(self._pool))
            self._count_pending_at = time.monotonic() + 10
        next_due = await tables.next_timer(self._pool)
        if next_due is None:
            return self._poll
        seconds: float = (next_due - self._clock.now()).total_seconds()
        return min(max(seconds, 0.0), self._poll)

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        """A transaction added timers, the earliest at `payload` (Unix seconds): wake if that is
        sooner than planned, or already due. While the loop is awake it always looks again (it may
        have read the next due time already)."""
        try:
            earliest = float(payload)
        except ValueError:
            earliest = float("-inf")
        looks_at = self._looks_at
        if looks_at is None or earliest < max(looks_at, self._clock.now()).timestamp():
            self._wake.set()

    async def _listen(self, stop: asyncio.Event) -> None:
        await listen_until_stopped(self._pool, tables.TIMER_CHANNEL, self._on_notify, stop, self._poll)
