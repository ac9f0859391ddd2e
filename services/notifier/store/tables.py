"""The notifier's SQL: inbox, tasks, assignments, provider reports, and a batch's rows written together
(its webhooks included); the deliveries and their attempts are `webhooks/store.py`'s."""

import json
import uuid
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

from services.notifier.webhooks.store import Claimed, claimed
from shared.child_data import ChildTable
from shared.db import columns
from shared.inbox import Inbox
from shared.retention import Purge

SCHEMA = "notifier"
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
