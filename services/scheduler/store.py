"""The scheduler's SQL: children, their event histories, emitted events, timers and read models."""

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg

from services.scheduler.episodes import ChildState, Fact
from services.scheduler.triggers import Outgoing
from shared.contracts.registry import BY_TYPE

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
INSERT_EMITTED = """
INSERT INTO scheduler.emitted (key, child_key, type, due_at, emitted_at, late_seconds)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::float8[])
ON CONFLICT (key) DO NOTHING
RETURNING key
"""
INSERT_TIMERS = """
INSERT INTO scheduler.timers (child_key, due_at)
SELECT * FROM unnest($1::text[], $2::timestamptz[])
ON CONFLICT (child_key, due_at) DO NOTHING
RETURNING due_at
"""
CLAIM_DUE_TIMERS = """
UPDATE scheduler.timers SET state = 'fired', fired_at = $2
WHERE id = ANY(ARRAY(
    SELECT id FROM scheduler.timers
    WHERE state = 'pending' AND due_at <= $1
    ORDER BY due_at
    LIMIT $3
    FOR UPDATE SKIP LOCKED
))
RETURNING child_key, due_at
"""
NEXT_TIMER = "SELECT min(due_at) FROM scheduler.timers WHERE state = 'pending'"
PENDING_TIMERS = "SELECT count(*) FROM scheduler.timers WHERE state = 'pending'"
DELETE_EPISODES = "DELETE FROM scheduler.episodes WHERE child_key = ANY($1::text[])"
DELETE_TASKS = "DELETE FROM scheduler.interview_tasks WHERE child_key = ANY($1::text[])"
INSERT_EPISODES = """
INSERT INTO scheduler.episodes (episode_id, child_key, responsible_authority, placement_authority, kind,
    started_at, ended_at, end_reason, risk_level, high_risk, exploitation_indicators, task_id, offered_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
"""
INSERT_TASKS = """
INSERT INTO scheduler.interview_tasks (task_id, child_key, episode_ids, returned_at, offer_due_at,
    accepted_at, offered_at, completed_at, outcome)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
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


async def mark_emitted(
    conn: asyncpg.Connection, items: Sequence[tuple[str, Outgoing]], now: datetime
) -> set[str]:
    """Record outgoing events; return the keys not recorded before (the ones to publish)."""
    if not items:
        return set()
    rows = await conn.fetch(
        INSERT_EMITTED,
        [out.key for _, out in items],
        [child for child, _ in items],
        [out.data.type_name for _, out in items],
        [out.at for _, out in items],
        [now] * len(items),
        [max((now - out.at).total_seconds(), 0.0) for _, out in items],
    )
    return {row["key"] for row in rows}


async def add_timers(conn: asyncpg.Connection, timers: Sequence[tuple[str, datetime]]) -> list[datetime]:
    """Set timers (once per child and moment); return the moments that were new."""
    if not timers:
        return []
    rows = await conn.fetch(INSERT_TIMERS, [child for child, _ in timers], [due for _, due in timers])
    return [row["due_at"] for row in rows]


async def claim_due_timers(conn: asyncpg.Connection, now: datetime, limit: int) -> list[tuple[str, datetime]]:
    """Claim due timers in the caller's transaction; other instances skip them while it lasts."""
    rows = await conn.fetch(CLAIM_DUE_TIMERS, now, now, limit)
    return [(row["child_key"], row["due_at"]) for row in rows]


async def write_read_models(conn: asyncpg.Connection, states: dict[str, ChildState]) -> None:
    """Replace the episodes and tasks of these children with their current fold."""
    keys = list(states)
    await conn.execute(DELETE_EPISODES, keys)
    await conn.execute(DELETE_TASKS, keys)
    episodes: list[tuple[Any, ...]] = []
    tasks: list[tuple[Any, ...]] = []
    for child, state in states.items():
        for e in state.episodes:
            episodes.append(
                (
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
                    sorted(e.indicators),
                    e.task_id,
                    e.offered_at,
                )
            )
        for t in state.tasks:
            tasks.append(
                (
                    t.task_id,
                    child,
                    t.episode_ids,
                    t.returned_at,
                    t.offer_due_at,
                    t.accepted_at,
                    t.offered_at,
                    t.completed_at,
                    t.outcome,
                )
            )
    if episodes:
        await conn.executemany(INSERT_EPISODES, episodes)
    if tasks:
        await conn.executemany(INSERT_TASKS, tasks)
