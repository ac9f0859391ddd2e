"""The scheduler's SQL: timers, retention, and where a child's rows are (the kept state and the
histories it is folded from are `kept/store/`'s)."""

from collections.abc import Sequence
from datetime import datetime
from typing import TypeAlias

import asyncpg

from shared.child_data import ChildTable
from shared.retention import Purge

SCHEMA = "scheduler"
Pool: TypeAlias = asyncpg.Pool
Connection: TypeAlias = asyncpg.Connection
# A transaction chosen as a deadlock or serialization victim: the whole batch is retried.
RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)

# What the scheduler removes once its retention period is over (shared/retention.py). A child's history
# stays: it is the child's record (erased with `mtp child erase`).
PURGES = (
    Purge(
        "scheduler.outbox",
        "DELETE FROM scheduler.outbox WHERE seq IN "
        "(SELECT seq FROM scheduler.outbox WHERE sent_at < $1 LIMIT $2) RETURNING seq",
        lambda r: r.published_outbox_days,
    ),
)

# A child's rows in the scheduler, for export and erasure (shared/child_data.py).
CHILD_ROWS = (
    ChildTable("scheduler.facts", "t.child_key = $1"),
    ChildTable("scheduler.emitted", "t.child_key = $1"),
    ChildTable("scheduler.timers", "t.child_key = $1"),
    ChildTable("scheduler.episodes", "t.child_key = $1"),
    ChildTable("scheduler.interview_tasks", "t.child_key = $1"),
    ChildTable("scheduler.held_reports", "t.child_key = $1"),
    ChildTable("scheduler.outbox", "t.key = $1"),
    ChildTable("scheduler.children", "t.child_key = $1"),
    ChildTable("scheduler.findings", "t.child_key = $1"),
    ChildTable("scheduler.findings_responses", "t.child_key = $1"),
    ChildTable("scheduler.arrests", "t.child_key = $1"),
    ChildTable("scheduler.nrm", "t.child_key = $1"),
)

# Timers alone (the earliest new moment is sent to the timer loop at commit, as a settle's write does).
INSERT_TIMERS = """
WITH added AS (
    INSERT INTO scheduler.timers (child_key, due_at)
    SELECT * FROM unnest($1::text[], $2::timestamptz[])
    ON CONFLICT (child_key, due_at) DO NOTHING
    RETURNING due_at
),
woken AS (
    SELECT count(pg_notify('scheduler_timers', extract(epoch FROM earliest)::text)) AS n
    FROM (SELECT min(due_at) AS earliest FROM added HAVING count(*) > 0) AS first
)
SELECT due_at FROM added CROSS JOIN woken
"""
# The claim: due timers in due order, row-locked until the claiming transaction ends; other instances
# skip them. The partial index on pending timers keeps this as cheap at 1,000,000 pending as at 10,000.
CLAIM_DUE_TIMERS = """
SELECT id, child_key, due_at FROM scheduler.timers
WHERE state = 'pending' AND due_at <= $1
ORDER BY due_at
LIMIT $2
FOR UPDATE SKIP LOCKED
"""
# A child being settled elsewhere right now (its events arriving) is skipped, never waited for: its
# timers stay pending for the next round. Waiting here, while holding claimed timer rows that the other
# transaction may be re-inserting, could deadlock.
LOCK_FREE_CHILDREN = """
SELECT child_key FROM scheduler.children WHERE child_key = ANY($1::text[])
ORDER BY child_key FOR UPDATE SKIP LOCKED
"""
MARK_FIRED = "UPDATE scheduler.timers SET state = 'fired', fired_at = $2 WHERE id = ANY($1::bigint[])"
# The lease on a claim: a claiming session that stops talking (hung, or cut off from the database)
# is ended by the server after this long, its locks released and its timers claimed by another instance.
# A crashed process's session ends at once.
SET_LEASE = "SELECT set_config('idle_in_transaction_session_timeout', $1, true)"
NEXT_TIMER = "SELECT min(due_at) FROM scheduler.timers WHERE state = 'pending'"
PENDING_TIMERS = "SELECT count(*) FROM scheduler.timers WHERE state = 'pending'"
TIMER_CHANNEL = "scheduler_timers"


async def add_timers(conn: asyncpg.Connection, timers: Sequence[tuple[str, datetime]]) -> list[datetime]:
    """Set timers (once per child and moment), telling the timer loop of the earliest new one at
    commit; return the moments that were new."""
    if not timers:
        return []
    rows = await conn.fetch(INSERT_TIMERS, [child for child, _ in timers], [due for _, due in timers])
    return [row["due_at"] for row in rows]


async def claim_due_timers(
    conn: asyncpg.Connection, now: datetime, limit: int, *, lease_seconds: float
) -> tuple[list[tuple[str, datetime]], int]:
    """Claim due timers in the caller's transaction and mark them fired; return (child, due) for each
    and how many were left pending because their child was busy elsewhere."""
    await conn.execute(SET_LEASE, f"{max(int(lease_seconds * 1000), 1)}ms")
    due = await conn.fetch(CLAIM_DUE_TIMERS, now, limit)
    if not due:
        return [], 0
    free = {
        row["child_key"] for row in await conn.fetch(LOCK_FREE_CHILDREN, list({r["child_key"] for r in due}))
    }
    fired = [row for row in due if row["child_key"] in free]
    if fired:
        await conn.execute(MARK_FIRED, [row["id"] for row in fired], now)
    return [(row["child_key"], row["due_at"]) for row in fired], len(due) - len(fired)


async def pending_timers(pool: Pool) -> int:
    """How many timers wait (a count over the partial index)."""
    count: int = await pool.fetchval(PENDING_TIMERS)
    return count


async def next_timer(pool: Pool) -> datetime | None:
    """When the next pending timer falls due."""
    moment: datetime | None = await pool.fetchval(NEXT_TIMER)
    return moment
