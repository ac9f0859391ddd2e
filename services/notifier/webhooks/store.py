"""The notifier's SQL for webhook deliveries: queueing one by itself, claiming due ones, recording
attempts and outcomes (with their facts for the outbox), disabled endpoints, and what operations list,
replay and re-enable. (A batch's webhooks are written with its other rows: `store.write_batch`.)"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeAlias

import asyncpg

from shared.db import columns

Connection: TypeAlias = asyncpg.Connection
Pool: TypeAlias = asyncpg.Pool
Row: TypeAlias = asyncpg.Record

DELIVERY_CHANNEL = "notifier_deliveries"
WAKE_WORKERS = f"SELECT pg_notify('{DELIVERY_CHANNEL}', '')"


INSERT_DELIVERY = """
INSERT INTO notifier.deliveries (webhook_id, org_id, url, event_type, body, next_attempt_at, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
ON CONFLICT (webhook_id) DO NOTHING
"""


CLAIM_DELIVERIES = """
UPDATE notifier.deliveries d SET lease_until = $2, attempts = attempts + 1
WHERE id = ANY(ARRAY(
    SELECT id FROM notifier.deliveries
    WHERE state = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until < $1)
    ORDER BY next_attempt_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
))
RETURNING id, webhook_id, org_id, url, event_type, body, attempts, round, created_at,
    EXISTS (SELECT 1 FROM notifier.disabled_endpoints x WHERE x.url = d.url) AS disabled
"""
RECORD_ATTEMPT = """
INSERT INTO notifier.delivery_attempts (delivery_id, round, attempt, attempted_at, status, latency_ms, error)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT DO NOTHING
"""
DISABLE_ENDPOINT = """
INSERT INTO notifier.disabled_endpoints (url, org_id, webhook_id, disabled_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (url) DO NOTHING RETURNING url
"""
INSERT_FACT = "INSERT INTO notifier.outbox (topic, key, value, headers) VALUES ($1, $2, $3, $4::text::jsonb)"
# An attempt's outcome changes its delivery only if nothing claimed it since (a lease run out and
# taken by another instance, or a replay or redelivery begun meanwhile): that claim's outcome decides.
FINISH_DELIVERY = """
UPDATE notifier.deliveries
SET state = $2, lease_until = NULL, next_attempt_at = $3, last_status = $4, last_error = $5,
    delivered_at = CASE WHEN $2 = 'delivered' THEN $6 ELSE delivered_at END
WHERE id = $1 AND round = $7 AND attempts = $8
"""
# Attempts and the new states of their deliveries; one row per delivery (one attempt per claim).
# Rows joined to unnest() are also matched by `= ANY`: the planner cannot size an unnest, and with
# young statistics it would join by scanning the whole table once per call; `= ANY` makes it an
# index lookup whatever the statistics say.
RECORD_OUTCOMES = """
WITH outcome AS (
    SELECT * FROM unnest(
        $1::bigint[], $2::integer[], $3::integer[], $4::timestamptz[], $5::integer[],
        $6::double precision[], $7::text[], $8::text[], $9::timestamptz[]
    ) AS o(delivery_id, round, attempt, at, status, latency_ms, error, state, next_attempt_at)
),
attempts AS (
    INSERT INTO notifier.delivery_attempts (delivery_id, round, attempt, attempted_at, status, latency_ms, error)
    SELECT delivery_id, round, attempt, at, status, latency_ms, error FROM outcome
    ON CONFLICT DO NOTHING
),
facts AS (  -- each attempt published to mtp.deliveries.v1, for the organisations' API
    INSERT INTO notifier.outbox (topic, key, value, headers)
    SELECT f.topic, f.key, f.value, f.headers::jsonb
    FROM unnest($10::text[], $11::text[], $12::bytea[], $13::text[]) WITH ORDINALITY
        AS f(topic, key, value, headers, ord)
    ORDER BY f.ord
)
UPDATE notifier.deliveries d
SET state = o.state, lease_until = NULL, next_attempt_at = o.next_attempt_at, last_status = o.status,
    last_error = o.error, delivered_at = CASE WHEN o.state = 'delivered' THEN o.at ELSE d.delivered_at END
FROM outcome o
WHERE d.id = o.delivery_id AND d.id = ANY($1::bigint[]) AND d.round = o.round AND d.attempts = o.attempt
"""
# When something next becomes claimable: a delivery in flight (leased) is not, until its lease ends.
NEXT_DELIVERY = """
SELECT min(GREATEST(next_attempt_at, lease_until)) FROM notifier.deliveries WHERE state = 'pending'
"""


@dataclass(frozen=True)
class Claimed:
    """A delivery this instance holds the lease on."""

    id: int
    webhook_id: str
    org_id: str
    url: str
    event_type: str
    body: bytes
    attempt: int
    round: int
    disabled: bool  # its URL answered 410 Gone earlier: park it without calling
    queued_at: datetime


async def add_delivery(
    conn: asyncpg.Connection,
    *,
    webhook_id: str,
    org_id: str,
    url: str,
    event_type: str,
    body: bytes,
    now: datetime,
) -> None:
    """Queue a webhook (once per webhook id); a trigger wakes the delivery workers at commit."""
    await conn.execute(INSERT_DELIVERY, webhook_id, org_id, url, event_type, body, now)


DELIVERY_STATE = """
SELECT d.state, d.attempts, d.last_status, d.last_error,
    (SELECT a.latency_ms FROM notifier.delivery_attempts a WHERE a.delivery_id = d.id
     ORDER BY a.attempted_at DESC LIMIT 1) AS latency_ms
FROM notifier.deliveries d WHERE d.webhook_id = $1
"""


async def delivery_state(pool: "Pool", webhook_id: str) -> Any:
    """Where one delivery stands: state, attempts, the last answer and how long it took."""
    return await pool.fetchrow(DELIVERY_STATE, webhook_id)


async def claim_deliveries(
    pool: "asyncpg.Pool[Any]", now: datetime, lease: timedelta, limit: int
) -> list[Claimed]:
    """Lease due deliveries; a crashed instance's leases run out and others take them."""
    rows = await pool.fetch(CLAIM_DELIVERIES, now, now + lease, limit)
    return [claimed(row) for row in rows]


def claimed(row: asyncpg.Record) -> Claimed:
    """A delivery leased to this instance, from a row of a claiming statement."""
    return Claimed(
        row["id"],
        row["webhook_id"],
        row["org_id"],
        row["url"],
        row["event_type"],
        row["body"],
        row["attempts"],
        row["round"],
        row["disabled"],
        row["created_at"],
    )


@dataclass(frozen=True)
class Outcome:
    """How one attempt ended and what the delivery becomes."""

    claimed: Claimed
    state: str
    at: datetime
    next_attempt_at: datetime
    status: int | None
    latency_ms: float
    error: str | None


OutboxRow: TypeAlias = tuple[str, str, bytes, str]


async def record_outcomes(pool: "asyncpg.Pool[Any]", outcomes: list[Outcome], facts: list[OutboxRow]) -> None:
    """Record many attempts, their deliveries' new states and the attempts' facts for the outbox, in
    one statement (atomic by itself)."""
    await pool.execute(
        RECORD_OUTCOMES,
        [o.claimed.id for o in outcomes],
        [o.claimed.round for o in outcomes],
        [o.claimed.attempt for o in outcomes],
        [o.at for o in outcomes],
        [o.status for o in outcomes],
        [o.latency_ms for o in outcomes],
        [o.error for o in outcomes],
        [o.state for o in outcomes],
        [o.next_attempt_at for o in outcomes],
        *columns(facts, 4),
    )


async def finish_attempt(pool: "asyncpg.Pool[Any]", outcome: Outcome, fact: OutboxRow) -> None:
    """Record an attempt, the delivery's new state and the attempt's fact together."""
    async with pool.acquire() as conn, conn.transaction():
        await record_attempt(conn, outcome, fact)


async def record_attempt(conn: asyncpg.Connection, outcome: Outcome, fact: OutboxRow) -> None:
    """Record an attempt, the delivery's new state and the attempt's fact in the caller's transaction."""
    claimed = outcome.claimed
    await conn.execute(
        RECORD_ATTEMPT,
        claimed.id,
        claimed.round,
        claimed.attempt,
        outcome.at,
        outcome.status,
        outcome.latency_ms,
        outcome.error,
    )
    await conn.execute(
        FINISH_DELIVERY,
        claimed.id,
        outcome.state,
        outcome.next_attempt_at,
        outcome.status,
        outcome.error,
        outcome.at,
        claimed.round,
        claimed.attempt,
    )
    await conn.execute(INSERT_FACT, *fact)


async def disable_endpoint(conn: asyncpg.Connection, claimed: Claimed, at: datetime) -> bool:
    """Stop deliveries to the delivery's URL; False if it was already disabled."""
    added = await conn.fetchval(DISABLE_ENDPOINT, claimed.url, claimed.org_id, claimed.webhook_id, at)
    return added is not None


# Operations (`python -m services.notifier.operations.ops`): bodies are never selected, they carry child refs.
PARKED_STATES = ("failed", "gone", "disabled", "refused")
LIST_DELIVERIES = """
SELECT id, webhook_id, org_id, event_type, state, attempts, round, last_status, last_error, created_at
FROM notifier.deliveries
WHERE state = ANY($1::text[]) AND ($2::text IS NULL OR org_id = $2)
ORDER BY id
LIMIT $3
"""
LIST_DISABLED_ENDPOINTS = """
SELECT url, org_id, webhook_id, disabled_at FROM notifier.disabled_endpoints ORDER BY disabled_at
"""
# A replay is a new round: the attempt count starts again, earlier attempts stay on record.
REPLAY_BY_ID = """
UPDATE notifier.deliveries
SET state = 'pending', attempts = 0, round = round + 1, next_attempt_at = $2, lease_until = NULL
WHERE id = ANY($1::bigint[]) AND state = ANY($3::text[])
RETURNING id
"""
REPLAY_BY_STATE = """
UPDATE notifier.deliveries
SET state = 'pending', attempts = 0, round = round + 1, next_attempt_at = $2, lease_until = NULL
WHERE state = ANY($1::text[]) AND ($3::text IS NULL OR org_id = $3)
RETURNING id
"""
# An organisation's redelivery request (through intake): its own delivery, unless still being sent.
REDELIVER = """
UPDATE notifier.deliveries
SET state = 'pending', attempts = 0, round = round + 1, next_attempt_at = $3, lease_until = NULL
WHERE webhook_id = $1 AND org_id = $2 AND state <> 'pending'
RETURNING id
"""
ENABLE_ENDPOINT = "DELETE FROM notifier.disabled_endpoints WHERE url = $1 RETURNING org_id"
REPLAY_FOR_URL = """
UPDATE notifier.deliveries
SET state = 'pending', attempts = 0, round = round + 1, next_attempt_at = $2, lease_until = NULL
WHERE url = $1 AND state IN ('gone', 'disabled')
RETURNING id
"""


async def next_delivery(pool: Pool) -> datetime | None:
    """When a delivery next becomes claimable."""
    moment: datetime | None = await pool.fetchval(NEXT_DELIVERY)
    return moment


async def list_parked(
    pool: Pool, states: list[str], org: str | None, limit: int
) -> tuple[list[Row], list[Row]]:
    """Deliveries in the given parked states (no bodies: they name children), and disabled endpoints."""
    return list(await pool.fetch(LIST_DELIVERIES, states, org, limit)), list(
        await pool.fetch(LIST_DISABLED_ENDPOINTS)
    )


async def replay(
    pool: Pool, *, ids: list[int] | None, states: list[str], org: str | None, now: datetime
) -> list[int]:
    """Send parked deliveries again (by id, or all in the states), as a new round; wake the workers."""
    async with pool.acquire() as conn, conn.transaction():
        if ids:
            rows = await conn.fetch(REPLAY_BY_ID, ids, now, states)
        else:
            rows = await conn.fetch(REPLAY_BY_STATE, states, now, org)
        await conn.execute(WAKE_WORKERS)
    return [row["id"] for row in rows]


async def redeliver(conn: Connection, webhook_id: str, org_id: str, now: datetime) -> bool:
    """Send an organisation's delivery again as a new round (False: not theirs, or still pending)."""
    found = await conn.fetchval(REDELIVER, webhook_id, org_id, now)
    if found is not None:
        await conn.execute(WAKE_WORKERS)
    return found is not None


async def enable_endpoint(
    pool: Pool, url: str, *, replay_parked: bool, now: datetime
) -> tuple[str | None, int]:
    """Deliver to a disabled URL again (and replay what was parked for it); the organisation and count."""
    async with pool.acquire() as conn, conn.transaction():
        org_id: str | None = await conn.fetchval(ENABLE_ENDPOINT, url)
        replayed = await conn.fetch(REPLAY_FOR_URL, url, now) if replay_parked else []
        await conn.execute(WAKE_WORKERS)
    return org_id, len(replayed)
