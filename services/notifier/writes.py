"""Rows a batch of messages produces, written together when the batch is done: one statement for
all of them instead of a round trip per row. Routing decisions in the batch read the providers'
loads once and keep them up to date here, since the routing lock is held for the whole transaction."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from services.notifier import store
from shared import outbox
from shared.contracts.envelope import Envelope
from shared.db import columns


@dataclass
class Writes:
    """Pending rows of one transaction; `flush` writes them (and must run before anything reads them)."""

    lease_until: datetime | None = None  # webhooks born leased to this instance until then, or claimable
    loads: dict[str, int] | None = None
    disabled_urls: frozenset[str] = frozenset()  # read with the loads
    assignments: list[tuple[Any, ...]] = field(default_factory=list)
    statuses: list[tuple[str, str]] = field(default_factory=list)
    deliveries: list[tuple[str, str, str, str, bytes, datetime]] = field(default_factory=list)
    facts: list[tuple[str, str, Envelope]] = field(default_factory=list)
    born: list[store.Claimed] = field(default_factory=list)  # webhooks leased to this instance

    async def flush(self, conn: asyncpg.Connection) -> None:
        """Write everything pending in one statement; forget the cached loads."""
        if self.assignments or self.statuses or self.deliveries or self.facts:
            statuses = dict(self.statuses)  # a task's last status in the batch is its status
            rows = await conn.fetch(
                store.WRITE_BATCH,
                *columns([(a[0], a[1], a[2], a[3], a[4], json.dumps(a[5])) for a in self.assignments], 6),
                *columns(list(statuses.items()), 2),
                *columns(self.deliveries, 6),
                *columns([outbox.row(topic, key, envelope) for topic, key, envelope in self.facts], 4),
                self.lease_until,
            )
            self.born += [store.claimed(row) for row in rows]
        self.assignments, self.statuses, self.deliveries, self.facts = [], [], [], []
        self.loads = None
