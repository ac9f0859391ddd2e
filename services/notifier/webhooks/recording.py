"""Writing delivery outcomes in groups: one statement for every attempt that finished meanwhile (with
each attempt's fact for `mtp.deliveries.v1`, through the outbox).

A transaction per attempt made the database, not the receivers, the limit on deliveries per second.
Outcomes wait in memory only while the previous group is being written (no added delay). If the
process dies first, the leases run out and those webhooks are sent again with the same `webhook-id`,
which is the at-least-once promise receivers already handle.
"""

import asyncio

import structlog

from services.notifier.store import tables
from services.notifier.webhooks import store as delivery_store
from services.notifier.webhooks.attempt_facts import attempt_fact
from shared.db import LOOP_ERRORS
from shared.waits import wait_any

log = structlog.get_logger()


class AttemptRecorder:
    """Collects outcomes from delivery tasks and writes them in groups until closed."""

    def __init__(self, pool: tables.Pool, retry_seconds: float, namespace: str) -> None:
        self._pool = pool
        self._retry = retry_seconds
        self._namespace = namespace  # of the topic the attempts' facts go to
        self._waiting: list[delivery_store.Outcome] = []
        self._arrived = asyncio.Event()
        self._closing = asyncio.Event()

    def add(self, outcome: delivery_store.Outcome) -> None:
        """Queue an outcome for the next group."""
        self._waiting.append(outcome)
        self._arrived.set()

    def close(self) -> None:
        """Write what is waiting, then stop."""
        self._closing.set()

    async def run(self) -> None:
        """Write groups of outcomes until closed and nothing is waiting."""
        while True:
            if not self._waiting:
                if self._closing.is_set():
                    return
                self._arrived.clear()
                await wait_any(self._arrived, self._closing, timeout=self._retry)
                continue
            group, self._waiting = self._waiting, []
            try:
                facts = [attempt_fact(outcome, self._namespace) for outcome in group]
                await delivery_store.record_outcomes(self._pool, group, facts)
            except LOOP_ERRORS as exc:
                if self._closing.is_set():
                    # Leases run out and another instance retries these; nothing is lost.
                    log.error("delivery_outcomes_unrecorded", count=len(group), error=type(exc).__name__)
                    return
                log.warning("delivery_outcomes_retrying", count=len(group), error=type(exc).__name__)
                self._waiting[:0] = group
                await wait_any(self._closing, timeout=self._retry)
