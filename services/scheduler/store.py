"""The scheduler's SQL: children, their event histories, emitted events, timers and read models."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.scheduler.episodes import ChildState, Episode, Fact, Task
from services.scheduler.triggers import Outgoing
from shared.contracts.registry import BY_TYPE
from shared.db import columns

SCHEMA = "scheduler"

LOCK_CHILDREN = """
WITH new AS (
    INSERT INTO scheduler.children (child_key, updated_at) SELECT unnest($1::text[]), $2
    ON CONFLICT (child_key) DO NOTHING
)
SELECT child_key FROM scheduler.children WHERE child_key = ANY($1::text[]) ORDER BY child_key FOR UPDATE
"""
INSERT_FACTS = """
INSERT INTO scheduler.facts (fact_key, child_key, type, time, data, received_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[], $6::timestamptz[])
ON CONFLICT (fact_key) DO NOTHING
RETURNING child_key
"""
SELECT_FACTS = (
    "SELECT child_key, fact_key, type, time, data FROM scheduler.facts WHERE child_key = ANY($1::text[])"
)
# Outgoing events are recorded once by key; those recorded now go to the outbox in the same statement,
# in the order they were decided.
EMIT = """
WITH fresh AS (
    INSERT INTO scheduler.emitted (key, child_key, type, due_at, emitted_at, late_seconds)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::float8[])
    ON CONFLICT (key) DO NOTHING
    RETURNING key
),
published AS (
    INSERT INTO scheduler.outbox (topic, key, value, headers)
    SELECT o.topic, o.key, o.value, o.headers::jsonb
    FROM unnest($1::text[], $7::text[], $8::text[], $9::bytea[], $10::text[]) WITH ORDINALITY
        AS o(emit_key, topic, key, value, headers, ord)
    WHERE o.emit_key IN (SELECT key FROM fresh)
    ORDER BY o.ord
)
SELECT key FROM fresh
"""
# The earliest new moment (Unix seconds) is sent to the timer loop at commit (TIMER_CHANNEL); a sleeping loop wakes
# only if it comes before the moment it already means to look again.
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
DELETE_READ_MODELS = """
WITH episodes AS (DELETE FROM scheduler.episodes WHERE child_key = ANY($1::text[]))
DELETE FROM scheduler.interview_tasks WHERE child_key = ANY($1::text[])
"""
# Read models are written in one statement for both tables, whatever the batch size. Lists travel as
# comma-joined text (indicator codes and uuids hold no commas): unnest cannot take ragged arrays.
WRITE_READ_MODELS = """
WITH episodes AS (
    INSERT INTO scheduler.episodes (episode_id, child_key, responsible_authority, placement_authority, kind,
        started_at, ended_at, end_reason, risk_level, high_risk, exploitation_indicators, task_id,
        offer_due_at, offered_at, offered_late, breached)
    SELECT e.episode_id, e.child_key, e.responsible_authority, e.placement_authority, e.kind, e.started_at,
        e.ended_at, e.end_reason, e.risk_level, e.high_risk,
        string_to_array(e.indicators, ','), e.task_id, e.offer_due_at, e.offered_at,
        e.offered_late, e.breached
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
        $7::timestamptz[], $8::text[], $9::text[], $10::boolean[], $11::text[], $12::uuid[],
        $13::timestamptz[], $14::timestamptz[], $15::boolean[], $16::boolean[])
        AS e(episode_id, child_key, responsible_authority, placement_authority, kind, started_at, ended_at,
             end_reason, risk_level, high_risk, indicators, task_id, offer_due_at, offered_at, offered_late,
             breached)
)
INSERT INTO scheduler.interview_tasks (task_id, child_key, episode_ids, returned_at, offer_due_at,
    accepted_at, offered_at, completed_at, outcome, completed_within_window)
SELECT t.task_id, t.child_key, string_to_array(t.episode_ids, ',')::uuid[],
    t.returned_at, t.offer_due_at, t.accepted_at, t.offered_at, t.completed_at, t.outcome, t.within
FROM unnest($17::uuid[], $18::text[], $19::text[], $20::timestamptz[], $21::timestamptz[], $22::timestamptz[],
    $23::timestamptz[], $24::timestamptz[], $25::text[], $26::boolean[])
    AS t(task_id, child_key, episode_ids, returned_at, offer_due_at, accepted_at, offered_at,
         completed_at, outcome, within)
"""
TIMER_CHANNEL = "scheduler_timers"


async def lock_children(conn: asyncpg.Connection, child_keys: Sequence[str], now: datetime) -> None:
    """Create and lock the children's rows (in key order, so two instances cannot deadlock)."""
    await conn.fetch(LOCK_CHILDREN, list(child_keys), now)


async def insert_facts(
    conn: asyncpg.Connection, facts: Sequence[tuple[str, Fact]], now: datetime
) -> set[str]:
    """Add events to histories, ignoring ones already there; return the children that changed."""
    if not facts:
        return set()
    rows = await conn.fetch(
        INSERT_FACTS,
        [fact.key for _, fact in facts],
        [child for child, _ in facts],
        [fact.type for _, fact in facts],
        [fact.time for _, fact in facts],
        [fact.data.model_dump(mode="json") for _, fact in facts],
        [now] * len(facts),
    )
    return {row["child_key"] for row in rows}


async def load_facts(conn: asyncpg.Connection, child_keys: Iterable[str]) -> dict[str, list[Fact]]:
    """Every event of each child."""
    histories: dict[str, list[Fact]] = {}
    for row in await conn.fetch(SELECT_FACTS, list(child_keys)):
        data = BY_TYPE[row["type"]].model_validate(row["data"])
        histories.setdefault(row["child_key"], []).append(
            Fact(row["fact_key"], row["type"], row["time"], data)
        )
    return histories


async def emit(
    conn: asyncpg.Connection,
    items: Sequence[tuple[str, Outgoing]],
    messages: Sequence[tuple[str, str, bytes, str]],
    now: datetime,
) -> set[str]:
    """Record outgoing events and put the ones not recorded before in the outbox (`messages` holds
    each item's outbox row, see shared.outbox.row); return the keys published now."""
    if not items:
        return set()
    rows = await conn.fetch(
        EMIT,
        [out.key for _, out in items],
        [child for child, _ in items],
        [out.data.type_name for _, out in items],
        [out.at for _, out in items],
        [now] * len(items),
        [max((now - out.at).total_seconds(), 0.0) for _, out in items],
        *[[message[i] for message in messages] for i in range(4)],
    )
    return {row["key"] for row in rows}


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


async def write_read_models(conn: asyncpg.Connection, states: dict[str, ChildState], now: datetime) -> None:
    """Replace the episodes and tasks of these children with their current fold (two statements)."""
    await conn.execute(DELETE_READ_MODELS, list(states))
    episodes = [_episode_row(child, e, now) for child, state in states.items() for e in state.episodes]
    tasks = [_task_row(child, t) for child, state in states.items() for t in state.tasks]
    await conn.execute(WRITE_READ_MODELS, *columns(episodes, EPISODE_COLUMNS), *columns(tasks, TASK_COLUMNS))


EPISODE_COLUMNS = 16
TASK_COLUMNS = 10


def _episode_row(child: str, e: Episode, now: datetime) -> tuple[Any, ...]:
    return (
        e.episode_id,
        child,
        e.responsible_authority,
        e.placement_authority,
        e.kind,
        e.started_at,
        e.ended_at,
        e.end_reason,
        e.risk_level,
        e.high_risk_at is not None,
        ",".join(sorted(e.indicators)),
        e.task_id,
        e.offer_due_at,
        e.offered_at,
        e.offered_late,
        e.breached(now),
    )


def _task_row(child: str, t: Task) -> tuple[Any, ...]:
    return (
        t.task_id,
        child,
        ",".join(t.episode_ids),
        t.returned_at,
        t.offer_due_at,
        t.accepted_at,
        t.offered_at,
        t.completed_at,
        t.outcome,
        t.completed_within_window,
    )
