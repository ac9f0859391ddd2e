"""The notifier's SQL: inbox, tasks, assignments, provider reports, deliveries and their attempts."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeAlias

import asyncpg

from shared.child_data import ChildTable
from shared.db import columns
from shared.inbox import Inbox
from shared.retention import Purge

SCHEMA = "notifier"
DELIVERY_CHANNEL = "notifier_deliveries"
WAKE_WORKERS = f"SELECT pg_notify('{DELIVERY_CHANNEL}', '')"
# Every message the notifier has applied (shared/inbox.py).
INBOX = Inbox("notifier.inbox", "received_at")

# What the notifier removes once its retention period is over (shared/retention.py): delivered
# webhooks with their attempts, published outbox rows, old inbox ids.
PURGES = (
    Purge(
        "notifier.deliveries",
        """WITH gone AS (SELECT id FROM notifier.deliveries WHERE state = 'delivered' AND delivered_at < $1 LIMIT $2),
        attempts AS (DELETE FROM notifier.delivery_attempts WHERE delivery_id IN (SELECT id FROM gone))
        DELETE FROM notifier.deliveries WHERE id IN (SELECT id FROM gone) RETURNING id""",
        lambda r: r.delivered_webhook_days,
    ),
    Purge(
        "notifier.outbox",
        "DELETE FROM notifier.outbox WHERE seq IN "
        "(SELECT seq FROM notifier.outbox WHERE sent_at < $1 LIMIT $2) RETURNING seq",
        lambda r: r.published_outbox_days,
    ),
    Purge(
        "notifier.inbox",
        "DELETE FROM notifier.inbox WHERE event_key IN "
        "(SELECT event_key FROM notifier.inbox WHERE received_at < $1 LIMIT $2) RETURNING event_key",
        lambda r: r.inbox_days,
    ),
)

# A child's rows in the notifier, for export and erasure (shared/child_data.py), dependents first. A
# webhook body is about the child if it names the child (reference and authority) or one of the
# child's assignments.
_CHILD_ASSIGNMENTS = (
    "SELECT a.assignment_id FROM notifier.assignments a JOIN notifier.tasks k USING (task_id) "
    "WHERE k.child_key = $1"
)
# A webhook is about the child when an object in its body names the child's reference and its
# responsible authority together (the same reference in another authority is another child), or when
# it names one of the child's assignments. The text search only spares parsing bodies that cannot match.
_ABOUT_THE_CHILD = (
    """((position(convert_to('"child_ref":"' || $2 || '"', 'UTF8') IN {body}) > 0"""  # noqa: S608  # constants
    """ AND jsonb_path_exists(convert_from({body}, 'UTF8')::jsonb,"""
    """ '$.** ? (@.child_ref == $ref && @.responsible_authority == $authority)',"""
    """ jsonb_build_object('ref', $2::text, 'authority', split_part($1, '/', 1))))"""
    " OR EXISTS (SELECT 1 FROM (" + _CHILD_ASSIGNMENTS + ") c"
    " WHERE position(convert_to(c.assignment_id::text, 'UTF8') IN {body}) > 0))"
)
CHILD_ROWS = (
    ChildTable(
        "notifier.delivery_attempts",
        "t.delivery_id IN (SELECT d.id FROM notifier.deliveries d WHERE "  # noqa: S608  # constants
        + _ABOUT_THE_CHILD.format(body="d.body")
        + ")",
    ),
    ChildTable("notifier.deliveries", _ABOUT_THE_CHILD.format(body="t.body")),
    ChildTable(
        "notifier.interview_reports",
        f"t.assignment_id IN (SELECT c.assignment_id::text FROM ({_CHILD_ASSIGNMENTS}) c)",  # noqa: S608
    ),
    ChildTable("notifier.assignments", f"t.assignment_id IN ({_CHILD_ASSIGNMENTS})"),
    ChildTable("notifier.tasks", "t.child_key = $1"),
    ChildTable("notifier.outbox", "t.key = $1"),
)

INSERT_TASKS = """
INSERT INTO notifier.tasks (task_id, child_key, episode_id, responsible_authority, placement_authority,
    packet, status, created_at)
SELECT t.task_id, t.child_key, t.episode_id, t.responsible, t.placement, t.packet::jsonb, 'routing', $7
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
    AS t(task_id, child_key, episode_id, responsible, placement, packet)
ON CONFLICT (task_id) DO NOTHING RETURNING task_id::text
"""
SET_TASK_STATUS = "UPDATE notifier.tasks SET status = $2 WHERE task_id = $1"
# Routing decisions are serialised across instances so two tasks cannot both take a last free place.
# Every transaction that may route takes it first, before any row lock, so lock order is always the same.
LOCK_ROUTING = "SELECT pg_advisory_xact_lock(hashtext('notifier:routing'))"
# What routing reads once per batch: each provider's open assignments, and the webhook URLs disabled
# after a 410 Gone (a provider there cannot be reached: offering it work would only park the offer).
ROUTING_STATE = """
SELECT provider_id, count(*) AS open, NULL::text AS disabled_url FROM notifier.assignments
WHERE status IN ('offered', 'accepted') GROUP BY provider_id
UNION ALL
SELECT NULL, 0, url FROM notifier.disabled_endpoints
"""
# Tasks nobody could take when they were routed (every eligible provider full, say) while their
# offer is still due: offered again when someone can take them, by one instance at a time.
CLAIM_EXHAUSTED = """
SELECT task_id::text AS task_id, episode_id, packet FROM notifier.tasks
WHERE status = 'exhausted' AND (packet->>'offer_due_at')::timestamptz > $1
ORDER BY created_at LIMIT $2
FOR UPDATE SKIP LOCKED
"""
ASKED_FOR_TASK = "SELECT provider_id FROM notifier.assignments WHERE task_id = $1"
INSERT_DELIVERY = """
INSERT INTO notifier.deliveries (webhook_id, org_id, url, event_type, body, next_attempt_at, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $6)
ON CONFLICT (webhook_id) DO NOTHING
"""
# A batch's pending rows (writes.Writes) in one statement: new assignments, task statuses, queued
# webhooks and assignment facts for the outbox (in the order they were decided). With a lease ($19)
# the webhooks are born claimed by this instance: it sends them at commit, with no claim round trip.
WRITE_BATCH = """
WITH assigned AS (
    INSERT INTO notifier.assignments
        (assignment_id, task_id, provider_id, status, offered_at, accept_by, routing)
    SELECT a.assignment_id, a.task_id, a.provider_id, 'offered', a.offered_at, a.accept_by, a.routing::jsonb
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[])
        AS a(assignment_id, task_id, provider_id, offered_at, accept_by, routing)
),
statuses AS (
    UPDATE notifier.tasks t SET status = s.status
    FROM unnest($7::uuid[], $8::text[]) AS s(task_id, status)
    WHERE t.task_id = s.task_id AND t.task_id = ANY($7::uuid[])
),
facts AS (
    INSERT INTO notifier.outbox (topic, key, value, headers)
    SELECT o.topic, o.key, o.value, o.headers::jsonb
    FROM unnest($15::text[], $16::text[], $17::bytea[], $18::text[]) WITH ORDINALITY
        AS o(topic, key, value, headers, ord)
    ORDER BY o.ord
),
queued AS (
    INSERT INTO notifier.deliveries
        (webhook_id, org_id, url, event_type, body, next_attempt_at, created_at, lease_until, attempts)
    SELECT d.webhook_id, d.org_id, d.url, d.event_type, d.body, d.at, d.at, $19::timestamptz,
        CASE WHEN $19::timestamptz IS NULL THEN 0 ELSE 1 END
    FROM unnest($9::text[], $10::text[], $11::text[], $12::text[], $13::bytea[], $14::timestamptz[])
        AS d(webhook_id, org_id, url, event_type, body, at)
    ON CONFLICT (webhook_id) DO NOTHING
    RETURNING id, webhook_id, org_id, url, event_type, body, attempts, round, created_at
)
SELECT q.*, EXISTS (SELECT 1 FROM notifier.disabled_endpoints x WHERE x.url = q.url) AS disabled
FROM queued q WHERE $19::timestamptz IS NOT NULL
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

ASSIGNMENT_FOR_UPDATE = """
SELECT a.assignment_id::text AS assignment_id, a.task_id::text AS task_id, a.provider_id, a.status,
    t.episode_id, t.packet
FROM notifier.assignments a JOIN notifier.tasks t USING (task_id)
WHERE a.assignment_id = $1
FOR UPDATE OF a
"""
END_ASSIGNMENT = """
UPDATE notifier.assignments SET status = $2, decided_at = $3, reason = $4 WHERE assignment_id = $1
"""
ACCEPT_ASSIGNMENT = """
UPDATE notifier.assignments SET status = 'accepted', decided_at = coalesce(decided_at, $2)
WHERE assignment_id = $1
"""
CHILD_OFFERED = """
UPDATE notifier.assignments SET child_offered_at = coalesce(child_offered_at, $2) WHERE assignment_id = $1
"""
COMPLETE_ASSIGNMENT = """
UPDATE notifier.assignments SET status = 'completed', completed_at = $2, outcome = $3 WHERE assignment_id = $1
"""
INSERT_REPORT = """
INSERT INTO notifier.interview_reports (event_key, assignment_id, event_type, decision, received_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (event_key) DO NOTHING
"""
# A task the scheduler says more about (an updated referral, or closed), and its current assignment.
TASK_FOR_UPDATE = "SELECT status, episode_id, packet FROM notifier.tasks WHERE task_id = $1 FOR UPDATE"
SET_TASK_PACKET = """
UPDATE notifier.tasks SET packet = $2, episode_id = $3, placement_authority = $4 WHERE task_id = $1
"""
CURRENT_ASSIGNMENT = """
SELECT a.assignment_id::text AS assignment_id, a.task_id::text AS task_id, a.provider_id, a.status,
    t.episode_id, t.packet
FROM notifier.assignments a JOIN notifier.tasks t USING (task_id)
WHERE a.task_id = $1 AND a.status IN ('offered', 'accepted')
FOR UPDATE OF a
"""

# The acceptance timer: offers past their deadline, each taken by one instance.
CLAIM_EXPIRED = """
SELECT a.assignment_id::text AS assignment_id, a.task_id::text AS task_id, a.provider_id, a.status,
    t.episode_id, t.packet
FROM notifier.assignments a JOIN notifier.tasks t USING (task_id)
WHERE a.status = 'offered' AND a.accept_by <= $1
ORDER BY a.accept_by
LIMIT $2
FOR UPDATE OF a SKIP LOCKED
"""
NEXT_EXPIRY = "SELECT min(accept_by) FROM notifier.assignments WHERE status = 'offered'"


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


# Operations (`python -m services.notifier.ops`): bodies are never selected, they carry child refs.
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


# The functions the rest of the notifier calls: every query it runs goes through one of these.
Connection: TypeAlias = asyncpg.Connection
Pool: TypeAlias = asyncpg.Pool
Row: TypeAlias = asyncpg.Record


async def lock_routing(conn: Connection) -> None:
    """Serialise routing decisions for the rest of the transaction (take it before any row lock)."""
    await conn.execute(LOCK_ROUTING)


async def insert_tasks(
    conn: Connection, rows: list[tuple[str, str, str, str, str, str]], now: datetime
) -> set[str]:
    """Record new tasks (task id, child key, episode id, responsible, placement, packet JSON); return
    the ids of those not known before."""
    if not rows:
        return set()
    found = await conn.fetch(INSERT_TASKS, *columns(rows, 6), now)
    return {row["task_id"] for row in found}


async def routing_state(conn: Connection) -> tuple[dict[str, int], frozenset[str]]:
    """Each provider's open assignments, and the webhook URLs disabled after a 410 Gone."""
    rows = await conn.fetch(ROUTING_STATE)
    loads = {row["provider_id"]: row["open"] for row in rows if row["disabled_url"] is None}
    disabled = frozenset(row["disabled_url"] for row in rows if row["disabled_url"] is not None)
    return loads, disabled


async def asked_for_task(conn: Connection, task_id: str) -> frozenset[str]:
    """The providers already asked about a task."""
    return frozenset(row["provider_id"] for row in await conn.fetch(ASKED_FOR_TASK, task_id))


async def write_batch(
    conn: Connection,
    *,
    assignments: list[tuple[Any, ...]],
    statuses: dict[str, str],
    deliveries: list[tuple[str, str, str, str, bytes, datetime]],
    facts: list[tuple[str, str, bytes, str]],
    lease_until: datetime | None,
) -> list[Claimed]:
    """Write a batch's pending rows in one statement (WRITE_BATCH); return the deliveries born leased."""
    rows = await conn.fetch(
        WRITE_BATCH,
        *columns([(a[0], a[1], a[2], a[3], a[4], json.dumps(a[5])) for a in assignments], 6),
        *columns(list(statuses.items()), 2),
        *columns(deliveries, 6),
        *columns(facts, 4),
        lease_until,
    )
    return [claimed(row) for row in rows]


async def assignment_for_update(conn: Connection, assignment_id: str) -> Row | None:
    """An assignment with its task's episode and packet, locked; None for an id that is not ours."""
    try:
        key = uuid.UUID(assignment_id)
    except ValueError:
        return None
    row: Row | None = await conn.fetchrow(ASSIGNMENT_FOR_UPDATE, key)
    return row


async def end_assignment(
    conn: Connection, assignment_id: str, status: str, at: datetime, reason: str
) -> None:
    """An assignment ended early: declined, expired or withdrawn, with the reason."""
    await conn.execute(END_ASSIGNMENT, assignment_id, status, at, reason)


async def accept_assignment(conn: Connection, assignment_id: str, at: datetime) -> None:
    """The provider took the assignment."""
    await conn.execute(ACCEPT_ASSIGNMENT, assignment_id, at)


async def child_offered(conn: Connection, assignment_id: str, at: datetime) -> None:
    """The provider offered the child an interview (the first offer stands)."""
    await conn.execute(CHILD_OFFERED, assignment_id, at)


async def complete_assignment(conn: Connection, assignment_id: str, at: datetime, outcome: str) -> None:
    """The interview happened, or could not."""
    await conn.execute(COMPLETE_ASSIGNMENT, assignment_id, at, outcome)


async def set_task_status(conn: Connection, task_id: str, status: str) -> None:
    """A task's routing status: routing, assigned, exhausted or closed."""
    await conn.execute(SET_TASK_STATUS, task_id, status)


async def record_report(
    conn: Connection, event_key: str, assignment_id: str, event_type: str, decision: str, at: datetime
) -> None:
    """Keep a provider's report with what was decided about it."""
    await conn.execute(INSERT_REPORT, event_key, assignment_id, event_type, decision, at)


async def task_for_update(conn: Connection, task_id: str) -> Row | None:
    """A task's status, episode and packet, locked."""
    row: Row | None = await conn.fetchrow(TASK_FOR_UPDATE, task_id)
    return row


async def set_task_packet(
    conn: Connection, task_id: str, packet: dict[str, Any], episode_id: str, placement_authority: str
) -> None:
    """A task's referral as it now stands."""
    await conn.execute(SET_TASK_PACKET, task_id, packet, episode_id, placement_authority)


async def current_assignment(conn: Connection, task_id: str) -> Row | None:
    """The task's offer or assignment still open, locked, with its task's episode and packet."""
    row: Row | None = await conn.fetchrow(CURRENT_ASSIGNMENT, task_id)
    return row


async def claim_expired(conn: Connection, now: datetime, limit: int) -> list[Row]:
    """Offers past their accept_by, each taken by one instance (SKIP LOCKED)."""
    return list(await conn.fetch(CLAIM_EXPIRED, now, limit))


async def claim_exhausted(conn: Connection, now: datetime, limit: int) -> list[Row]:
    """Tasks nobody could take whose window is still open, each taken by one instance."""
    return list(await conn.fetch(CLAIM_EXHAUSTED, now, limit))


async def next_expiry(pool: "asyncpg.Pool[Any]") -> datetime | None:
    """When the next offer's acceptance time runs out."""
    moment: datetime | None = await pool.fetchval(NEXT_EXPIRY)
    return moment


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
