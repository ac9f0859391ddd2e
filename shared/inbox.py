"""The consumers' inbox: each event is applied once, however often Kafka delivers it.

Delivery is at-least-once (a consumer that crashes before committing its offsets reads the same
messages again), so a consumer that changes state records each event's key (`Envelope.event_key`:
CloudEvents ids are unique per source) in its own schema's inbox table, in the same transaction as
the change. The table is the service's (its store names it); the statement and the batch logic are
the same everywhere, so they live here.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from shared.contracts.envelope import Envelope


@dataclass(frozen=True)
class Inbox:
    """A service's inbox table: `event_key text PRIMARY KEY` and the moment it was applied."""

    table: str
    at_column: str

    @property
    def _record(self) -> str:
        return (
            f"INSERT INTO {self.table} (event_key, {self.at_column}) SELECT unnest($1::text[]), $2 "
            "ON CONFLICT (event_key) DO NOTHING RETURNING event_key"
        )

    async def first_seen(
        self, conn: asyncpg.Connection, envelopes: Sequence[Envelope], now: datetime
    ) -> list[Envelope]:
        """Record a batch's events as applied, in the caller's transaction and one statement; return
        those not applied before, in batch order, each once (a batch may hold the same event twice)."""
        if not envelopes:
            return []
        rows = await conn.fetch(self._record, [envelope.event_key for envelope in envelopes], now)
        fresh = {row["event_key"] for row in rows}
        applying = []
        for envelope in envelopes:
            if envelope.event_key in fresh:
                fresh.discard(envelope.event_key)
                applying.append(envelope)
        return applying
