"""The acceptance timer: offers nobody answered by `accept_by` expire and the task moves on; tasks
nobody could take are offered again, while their window is open, once someone can.

Offers are rows; each pass claims the overdue ones with `SKIP LOCKED` inside one transaction, so any
number of instances share the work, and a crash rolls the pass back for another instance to redo.
It sleeps until the next deadline (at most the poll interval), so a short acceptance timeout in a
test is honoured within a poll.
"""

import asyncio
import time

import structlog

from services.notifier.assignments import assigning
from services.notifier.store import tables
from services.notifier.store.writes import Writes
from shared.clock import Clock
from shared.contracts.assignments import ReferralPacket
from shared.db import LOOP_ERRORS
from shared.live_directory import LiveDirectory
from shared.waits import wait_any

log = structlog.get_logger()
BATCH = 100


class AcceptanceTimer:
    """Expires overdue offers until stopped."""

    def __init__(
        self,
        pool: tables.Pool,
        directory: LiveDirectory,
        clock: Clock,
        *,
        namespace: str,
        poll_seconds: float,
        exhausted_retry_seconds: float = 60.0,
    ) -> None:
        self._pool = pool
        self._directory = directory
        self._clock = clock
        self._namespace = namespace
        self._poll = poll_seconds
        self._exhausted_every = exhausted_retry_seconds
        self._exhausted_at = 0.0  # monotonic time of the last look at exhausted tasks

    async def run(self, stop: asyncio.Event) -> None:
        """Expire overdue offers, and offer again tasks nobody could take, until `stop` is set."""
        while not stop.is_set():
            try:
                expired = await self.expire_due()
                if time.monotonic() - self._exhausted_at >= self._exhausted_every:
                    await self.offer_exhausted()
                    self._exhausted_at = time.monotonic()
                pause = 0.0 if expired >= BATCH else await self._until_next()
                pause = min(pause, max(self._exhausted_at + self._exhausted_every - time.monotonic(), 0.0))
            except LOOP_ERRORS as exc:
                log.warning("acceptance_timer_retrying", error=type(exc).__name__)
                pause = self._poll
            if pause > 0:
                await wait_any(stop, timeout=pause)

    async def expire_due(self) -> int:
        """One pass: expire up to BATCH overdue offers and offer each task to the next provider."""
        now = self._clock.now()
        async with self._pool.acquire() as conn, conn.transaction():
            await tables.lock_routing(conn)
            writes = Writes(namespace=self._namespace)  # its webhooks claimable by any instance's worker
            rows = await tables.claim_expired(conn, now, BATCH)
            for row in rows:
                await assigning.move_on(
                    conn, writes, row, reason=assigning.TIMED_OUT, directory=self._directory.current, now=now
                )
            await writes.flush(conn)
        return len(rows)

    async def offer_exhausted(self) -> int:
        """One pass over tasks nobody could take: offer each to a provider who can take it now (an
        interview done or an offer declined freed a place); the others stay as they are, told once."""
        now = self._clock.now()
        offered = 0
        async with self._pool.acquire() as conn, conn.transaction():
            await tables.lock_routing(conn)
            writes = Writes(namespace=self._namespace)
            for row in await tables.claim_exhausted(conn, now, BATCH):
                assignment = await assigning.offer_next(
                    conn,
                    writes,
                    row["task_id"],
                    row["episode_id"],
                    ReferralPacket.model_validate(row["packet"]),
                    directory=self._directory.current,
                    now=now,
                    only_if_someone=True,
                )
                offered += assignment is not None
            await writes.flush(conn)
        return offered

    async def _until_next(self) -> float:
        next_due = await tables.next_expiry(self._pool)
        if next_due is None:
            return self._poll
        seconds: float = (next_due - self._clock.now()).total_seconds()
        return min(max(seconds, 0.05), self._poll)
