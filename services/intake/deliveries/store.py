"""Intake's SQL for organisations' webhook deliveries: the projection of the notifier's attempts
(`mtp.deliveries.v1`), the reads behind `GET /v1/deliveries`, and a redelivery request written with
its outbox row and audit entry in one transaction."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.intake.store.audit import INSERT_AUDIT
from services.intake.store.base import Connection, Pool, translated
from shared import outbox
from shared.contracts.deliveries import REFERRALS, DeliveryAttempted
from shared.contracts.envelope import Envelope
from shared.db import columns

# The latest attempt of each delivery wins, whatever order the attempts arrive in or how often.
UPSERT_DELIVERIES = """
INSERT INTO intake.deliveries AS d (webhook_id, org_id, event_type, queued_at, state, round, attempt,
    last_attempt_at, last_status, last_error, next_attempt_at, assignment_id)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::integer[],
    $7::integer[], $8::timestamptz[], $9::integer[], $10::text[], $11::timestamptz[], $12::text[])
ON CONFLICT (webhook_id) DO UPDATE SET
    state = EXCLUDED.state, round = EXCLUDED.round, attempt = EXCLUDED.attempt,
    last_attempt_at = EXCLUDED.last_attempt_at, last_status = EXCLUDED.last_status,
    last_error = EXCLUDED.last_error, next_attempt_at = EXCLUDED.next_attempt_at
WHERE (d.round, d.attempt) < (EXCLUDED.round, EXCLUDED.attempt)
"""
INSERT_ATTEMPTS = """
INSERT INTO intake.delivery_attempts (webhook_id, round, attempt, attempted_at, status, latency_ms, error, state)
SELECT * FROM unnest($1::text[], $2::integer[], $3::integer[], $4::timestamptz[], $5::integer[],
    $6::double precision[], $7::text[], $8::text[])
ON CONFLICT DO NOTHING
"""


async def apply_attempts(conn: Connection, attempts: Sequence[DeliveryAttempted]) -> None:
    """Project attempts in the caller's transaction; repeats and late arrivals change nothing."""
    if not attempts:
        return
    latest: dict[str, DeliveryAttempted] = {}
    for fact in attempts:  # one row per delivery: a statement may not update a row twice
        known = latest.get(fact.webhook_id)
        if known is None or (known.round, known.attempt) < (fact.round, fact.attempt):
            latest[fact.webhook_id] = fact
    deliveries = [
        (
            f.webhook_id,
            f.org_id,
            f.event_type,
            f.queued_at,
            f.state,
            f.round,
            f.attempt,
            f.attempted_at,
            f.status,
            f.error,
            f.next_attempt_at,
            f.assignment_id,
        )
        for f in latest.values()
    ]
    await conn.execute(UPSERT_DELIVERIES, *columns(deliveries, 12))
    rows = [
        (f.webhook_id, f.round, f.attempt, f.attempted_at, f.status, f.latency_ms, f.error, f.state)
        for f in attempts
    ]
    await conn.execute(INSERT_ATTEMPTS, *columns(rows, 8))


# An organisation's own deliveries, newest first, after the cursor's delivery (itself theirs).
SELECT_DELIVERIES = """
SELECT webhook_id, event_type, queued_at, state, round, attempt, last_attempt_at, last_status,
    last_error, next_attempt_at, redelivery_requested_at
FROM intake.deliveries
WHERE org_id = $1
  AND ($2::text[] IS NULL OR state = ANY($2::text[]))
  AND ($3::text IS NULL OR event_type = $3)
  AND ($4::text IS NULL OR (queued_at, webhook_id) < (
      SELECT queued_at, webhook_id FROM intake.deliveries WHERE webhook_id = $4 AND org_id = $1))
ORDER BY queued_at DESC, webhook_id DESC
LIMIT $5
"""
SELECT_ONE = """
SELECT webhook_id, event_type, queued_at, state, round, attempt, last_attempt_at, last_status,
    last_error, next_attempt_at, redelivery_requested_at, redelivery_asked_in, assignment_id
FROM intake.deliveries WHERE webhook_id = $1 AND org_id = $2
"""
SELECT_ATTEMPTS = """
SELECT webhook_id, round, attempt, attempted_at, status, latency_ms, error, state
FROM intake.delivery_attempts WHERE webhook_id = ANY($1::text[])
ORDER BY webhook_id, round, attempt
"""


@dataclass(frozen=True)
class Found:
    """Deliveries as stored, and each one's attempts in order."""

    deliveries: list[dict[str, Any]]
    attempts: dict[str, list[dict[str, Any]]]


async def _with_attempts(conn: Connection, deliveries: list[dict[str, Any]]) -> Found:
    attempts: dict[str, list[dict[str, Any]]] = {d["webhook_id"]: [] for d in deliveries}
    for row in await conn.fetch(SELECT_ATTEMPTS, list(attempts)):
        attempts[row["webhook_id"]].append(dict(row))
    return Found(deliveries, attempts)


@translated
async def page(
    pool: Pool,
    org_id: str,
    *,
    states: list[str] | None,
    event_type: str | None,
    after: str | None,
    limit: int,
) -> Found | None:
    """One page of an organisation's deliveries, newest first, with their attempts; None if `after`
    names no delivery of theirs (a page cannot be said to follow it)."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        if after is not None and await conn.fetchrow(SELECT_ONE, after, org_id) is None:
            return None
        rows = await conn.fetch(SELECT_DELIVERIES, org_id, states, event_type, after, limit)
        return await _with_attempts(conn, [dict(r) for r in rows])


@translated
async def one(pool: Pool, org_id: str, webhook_id: str) -> Found:
    """One of an organisation's deliveries with its attempts (none found if it is not theirs)."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        row = await conn.fetchrow(SELECT_ONE, webhook_id, org_id)
        return await _with_attempts(conn, [dict(row)] if row is not None else [])


LOCK_ONE = SELECT_ONE + " FOR UPDATE"
# The provider still holds the assignment, or is still being offered it.
HOLDS = """
SELECT true FROM intake.assignments
WHERE assignment_id = $1 AND provider_id = $2 AND status IN ('offered', 'accepted')
"""
ASK_AGAIN_AFTER = timedelta(minutes=5)
MARK_REQUESTED = """
UPDATE intake.deliveries SET redelivery_requested_at = $2, redelivery_asked_in = $3 WHERE webhook_id = $1
"""


@translated
async def request_redelivery(
    pool: Pool,
    org_id: str,
    webhook_id: str,
    *,
    api_key_id: str,
    at: datetime,
    request: Envelope,
    topic: str,
) -> tuple[dict[str, Any] | None, bool]:
    """If the delivery is the organisation's and not already being sent (or asked for), publish the
    request and audit it. Return the delivery as it now stands (None: not theirs) and whether it was
    asked for now: nothing is published for a delivery still pending, or asked for already in its
    latest round less than ASK_AGAIN_AFTER ago (the notifier's next round, or that long without one,
    lets it be asked for again: a request the notifier could not act on does not block it for good)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(LOCK_ONE, webhook_id, org_id)
        if row is None:
            return None, False
        delivery = dict(row)
        if delivery["event_type"] in REFERRALS and not await conn.fetchval(
            HOLDS, delivery["assignment_id"], org_id
        ):
            delivery["referral_not_held"] = True
            return delivery, False
        asked = delivery["redelivery_requested_at"]
        if delivery["state"] == "pending" or (
            delivery["redelivery_asked_in"] == delivery["round"] and asked > at - ASK_AGAIN_AFTER
        ):
            return delivery, False
        await conn.execute(MARK_REQUESTED, webhook_id, at, delivery["round"])
        await outbox.enqueue(conn, "intake", [(topic, org_id, request)])
        await conn.execute(INSERT_AUDIT, at, org_id, api_key_id, "redeliver:webhook", None, webhook_id)
        delivery["redelivery_requested_at"] = at
        return delivery, True
