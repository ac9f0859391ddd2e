"""Intake's SQL: the idempotency record and the outbox, written in one transaction."""

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

import asyncpg

from shared import outbox

SCHEMA = "intake"

INSERT_EVENT = """
INSERT INTO intake.events (org_id, event_id, event_type, fingerprint, child_key, api_key_id, received_at)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (org_id, event_id) DO NOTHING
RETURNING event_id
"""
SELECT_FINGERPRINT = "SELECT fingerprint FROM intake.events WHERE org_id = $1 AND event_id = $2"


SELECT_HELD = """
SELECT assignment_id FROM intake.assignments
WHERE provider_id = $1 AND assignment_id = $2 AND status IN ('offered', 'accepted')
"""


async def held_assignments(pool: "asyncpg.Pool[Any]", org_id: str, data: object) -> frozenset[str]:
    """The assignments named by an interview event that this organisation currently holds."""
    assignment_id = getattr(data, "assignment_id", None)
    if assignment_id is None:
        return frozenset()
    held = await pool.fetchval(SELECT_HELD, org_id, assignment_id)
    return frozenset({held}) if held else frozenset()


class Outcome(Enum):
    """What storing an event came to."""

    ACCEPTED = 202
    REPEATED = 200
    CONFLICT = 409


@dataclass(frozen=True)
class Accepting:
    """One event to record, with the Kafka message it becomes."""

    org_id: str
    api_key_id: str
    event_id: str
    event_type: str
    fingerprint: str
    child_key: str | None
    received_at: datetime
    message: tuple[str, str, Any]  # (topic, key, Envelope)


async def accept(pool: "asyncpg.Pool[Any]", items: list[Accepting]) -> list[Outcome]:
    """Record events and their outbox rows in one transaction; all or nothing.

    A repeat of an id with the same fingerprint is answered as before; with another fingerprint it is
    a conflict. A conflict anywhere rolls the whole request back. Two requests racing on one id both
    reach the unique key; PostgreSQL makes the second wait for the first, so one row is stored.
    """
    outcomes: list[Outcome] = []
    async with pool.acquire() as conn, conn.transaction():
        fresh = []
        for item in items:
            inserted = await conn.fetchval(
                INSERT_EVENT,
                item.org_id,
                item.event_id,
                item.event_type,
                item.fingerprint,
                item.child_key,
                item.api_key_id,
                item.received_at,
            )
            if inserted is not None:
                outcomes.append(Outcome.ACCEPTED)
                fresh.append(item.message)
                continue
            stored = await conn.fetchval(SELECT_FINGERPRINT, item.org_id, item.event_id)
            outcomes.append(Outcome.REPEATED if stored == item.fingerprint else Outcome.CONFLICT)
        if Outcome.CONFLICT in outcomes:
            raise ConflictingIds(
                [item.event_id for item, o in zip(items, outcomes, strict=True) if o is Outcome.CONFLICT]
            )
        await outbox.enqueue(conn, SCHEMA, fresh)
    return outcomes


class ConflictingIds(Exception):  # a condition, named as such
    """Event ids reused with different content; nothing of the request was stored."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(", ".join(ids))
        self.ids = ids
