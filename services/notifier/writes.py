"""Rows a batch of messages produces, written together when the batch is done: one round trip per
table instead of one per row. Routing decisions in the batch read the providers' loads once and keep
them up to date here, since the routing lock is held for the whole transaction."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from services.notifier import store
from shared import outbox
from shared.contracts.envelope import Envelope


@dataclass
class Writes:
    """Pending rows of one transaction; `flush` writes them (and must run before anything reads them)."""

    loads: dict[str, int] | None = None
    assignments: list[tuple[Any, ...]] = field(default_factory=list)
    statuses: list[tuple[str, str]] = field(default_factory=list)
    deliveries: list[tuple[str, str, str, str, bytes, datetime]] = field(default_factory=list)
    facts: list[tuple[str, str, Envelope]] = field(default_factory=list)

    async def flush(self, conn: asyncpg.Connection) -> None:
        """Write everything pending, in an order the foreign keys accept; forget the cached loads."""
        if self.assignments:
            await conn.executemany(store.INSERT_ASSIGNMENT, self.assignments)
        if self.statuses:
            await conn.executemany(store.SET_TASK_STATUS, self.statuses)
        if self.deliveries:
            await conn.executemany(store.INSERT_DELIVERY, self.deliveries)
        await outbox.enqueue(conn, store.SCHEMA, self.facts)
        self.assignments, self.statuses, self.deliveries, self.facts = [], [], [], []
        self.loads = None
