"""The scheduler's SQL: children, their event histories, emitted events, timers and read models."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

from services.scheduler.child import ChildState, TaskState
from services.scheduler.episodes import Episode
from services.scheduler.history import Entry
from services.scheduler.triggers import Outgoing
from shared.child_data import ChildTable
from shared.contracts.registry import BY_TYPE
from shared.db import columns
from shared.retention import Purge

SCHEMA = "scheduler"
Pool: TypeAlias = asyncpg.Pool
Connection: TypeAlias = asyncpg.Connection
# A transaction chosen as a deadlock or serialization victim: the whole batch is retried.
RETRYABLE = (asyncpg.DeadlockDetectedError, asyncpg.SerializationError)

LOCK_CHILDREN = """
WITH new AS (
    INSERT INTO scheduler.children (child_key, updated_at) SELECT unnest($1::text[]), $2
    ON CONFLICT (child_key) DO NOTHING
)
SELECT child_key FROM scheduler.children WHERE child_key = ANY($1::text[]) ORDER BY child_key FOR UPDATE
"""
# New events are added to the histories and the histories read in one statement, with the keys of
# what was already published for the children (type ''), so that is not made again. Its snapshot is
# taken after the children are locked (a statement of its own), so it holds every earlier event of
# theirs; the events it adds itself it cannot see, and returns instead.
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
    ChildTable("scheduler.outbox", "t.key = $1"),
    ChildTable("scheduler.children", "t.child_key = $1"),
)

ADD_AND_LOAD_ENTRIES = """
WITH added AS (
    INSERT INTO scheduler.facts (fact_key, child_key, type, time, data, received_at, seq)
    SELECT * FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::jsonb[], $7::timestamptz[],
        $8::bigint[])
    ON CONFLICT (fact_key) DO NOTHING
    RETURNING fact_key, child_key
)
SELECT child_key, fact_key, NULL AS type, NULL AS time, NULL AS data, NULL AS seq FROM added
UNION ALL
SELECT child_key, fact_key, type, time, data, seq FROM scheduler.facts WHERE child_key = ANY($1::text[])
UNION ALL
SELECT child_key, key, '', NULL, NULL, NULL FROM scheduler.emitted WHERE child_key = ANY($1::text[])
"""
# Everything a settled batch writes, in one statement: outgoing events recorded once by key and
# the ones recorded now put in the outbox (in the order they were decided); new timers, the earliest
# new moment (Unix seconds) sent to the timer loop at commit (TIMER_CHANNEL), where a sleeping loop
# wakes only if it comes before the moment it already means to look again; and the children's read
# models replaced by their current fold (rows no longer in it deleted, the others upserted: the
# parts of one statement cannot see each other's rows, so a delete and an insert of one key would clash).
# Lists in read models travel as comma-joined text (indicator codes and uuids hold no commas):
# unnest cannot take ragged arrays.
WRITE_SETTLED = """
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
),
added AS (
    INSERT INTO scheduler.timers (child_key, due_at)
    SELECT * FROM unnest($11::text[], $12::timestamptz[])
    ON CONFLICT (child_key, due_at) DO NOTHING
    RETURNING due_at
),
woken AS (
    SELECT count(pg_notify('scheduler_timers', extract(epoch FROM earliest)::text)) AS n
    FROM (SELECT min(due_at) AS earliest FROM added HAVING count(*) > 0) AS first
),
gone_episodes AS (
    DELETE FROM scheduler.episodes WHERE child_key = ANY($13::text[])
        AND episode_id NOT IN (SELECT (e->>'episode_id')::uuid FROM jsonb_array_elements($14::jsonb) AS e)
),
episodes AS (
    INSERT INTO scheduler.episodes (episode_id, child_key, responsible_authority, placement_authority, kind,
        started_at, ended_at, end_reason, risk_level, high_risk, exploitation_indicators, task_id,
        offer_due_at, offered_at, offered_late, breached, declined_at, decline_reason, attempted_at,
        not_offered_at, not_offered_reason, preferred_language, updated_at, recount_at)
    SELECT * FROM jsonb_to_recordset($14::jsonb) AS e(episode_id uuid, child_key text,
        responsible_authority text, placement_authority text, kind text, started_at timestamptz,
        ended_at timestamptz, end_reason text, risk_level text, high_risk boolean,
        exploitation_indicators text[], task_id uuid, offer_due_at timestamptz, offered_at timestamptz,
        offered_late boolean, breached boolean, declined_at timestamptz, decline_reason text,
        attempted_at timestamptz, not_offered_at timestamptz, not_offered_reason text,
        preferred_language text, updated_at timestamptz, recount_at timestamptz)
    ON CONFLICT (episode_id) DO UPDATE SET
        child_key = EXCLUDED.child_key, responsible_authority = EXCLUDED.responsible_authority,
        placement_authority = EXCLUDED.placement_authority, kind = EXCLUDED.kind,
        started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at, end_reason = EXCLUDED.end_reason,
        risk_level = EXCLUDED.risk_level, high_risk = EXCLUDED.high_risk,
        exploitation_indicators = EXCLUDED.exploitation_indicators, task_id = EXCLUDED.task_id,
        offer_due_at = EXCLUDED.offer_due_at, offered_at = EXCLUDED.offered_at,
        offered_late = EXCLUDED.offered_late, breached = EXCLUDED.breached,
        declined_at = EXCLUDED.declined_at, decline_reason = EXCLUDED.decline_reason,
        attempted_at = EXCLUDED.attempted_at, not_offered_at = EXCLUDED.not_offered_at,
        not_offered_reason = EXCLUDED.not_offered_reason, preferred_language = EXCLUDED.preferred_language,
        updated_at = EXCLUDED.updated_at, recount_at = EXCLUDED.recount_at
),
gone_tasks AS (
    DELETE FROM scheduler.interview_tasks WHERE child_key = ANY($13::text[])
        AND task_id NOT IN (SELECT (t->>'task_id')::uuid FROM jsonb_array_elements($15::jsonb) AS t)
),
tasks AS (
    INSERT INTO scheduler.interview_tasks (task_id, child_key, episode_ids, returned_at, offer_due_at,
        accepted_at, offered_at, completed_at, outcome, completed_within_window, ended, ended_at, updated_at)
    SELECT * FROM jsonb_to_recordset($15::jsonb) AS t(task_id uuid, child_key text, episode_ids uuid[],
        returned_at timestamptz, offer_due_at timestamptz, accepted_at timestamptz, offered_at timestamptz,
        completed_at timestamptz, outcome text, completed_within_window boolean, ended text,
        ended_at timestamptz, updated_at timestamptz)
    ON CONFLICT (task_id) DO UPDATE SET
        child_key = EXCLUDED.child_key, episode_ids = EXCLUDED.episode_ids,
        returned_at = EXCLUDED.returned_at, offer_due_at = EXCLUDED.offer_due_at,
        accepted_at = EXCLUDED.accepted_at, offered_at = EXCLUDED.offered_at,
        completed_at = EXCLUDED.completed_at, outcome = EXCLUDED.outcome,
        completed_within_window = EXCLUDED.completed_within_window, ended = EXCLUDED.ended,
        ended_at = EXCLUDED.ended_at, updated_at = EXCLUDED.updated_at
)
SELECT key FROM fresh CROSS JOIN (SELECT n FROM woken) AS told
"""
# Timers alone (the earliest new moment is sent to the timer loop at commit, as above).
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


async def lock_children(conn: asyncpg.Connection, child_keys: Sequence[str], now: datetime) -> None:
    """Create and lock the children's rows (in key order, so two instances cannot deadlock)."""
    await conn.fetch(LOCK_CHILDREN, list(child_keys), now)


@dataclass
class Histories:
    """What settling children starts from: which changed, their events, what was published for them."""

    changed: set[str] = field(default_factory=set)
    entries: dict[str, list[Entry]] = field(default_factory=dict)
    published: dict[str, set[str]] = field(default_factory=dict)  # child -> keys of emitted events


async def add_and_load_entries(
    conn: asyncpg.Connection, child_keys: Sequence[str], entries: Sequence[tuple[str, Entry]], now: datetime
) -> Histories:
    """Add events to histories, ignoring ones already there; return the children that changed, every
    event of each child and what was published for it (call with the children locked)."""
    rows = await conn.fetch(
        ADD_AND_LOAD_ENTRIES,
        list(child_keys),
        [fact.key for _, fact in entries],
        [child for child, _ in entries],
        [fact.type for _, fact in entries],
        [fact.time for _, fact in entries],
        [fact.data.model_dump(mode="json") for _, fact in entries],
        [now] * len(entries),
        [fact.seq for _, fact in entries],
    )
    new = {fact.key: fact for _, fact in reversed(entries)}  # the first of repeats within the batch
    found = Histories()
    for row in rows:
        child = row["child_key"]
        if row["type"] == "":  # published before
            found.published.setdefault(child, set()).add(row["fact_key"])
            continue
        if row["type"] is None:  # added by this statement
            found.changed.add(child)
            fact = new[row["fact_key"]]
        else:
            data = BY_TYPE[row["type"]].model_validate(row["data"])
            fact = Entry(row["fact_key"], row["type"], row["time"], data, row["seq"])
        found.entries.setdefault(child, []).append(fact)
    return found


async def write_settled(
    conn: asyncpg.Connection,
    outgoing: Sequence[tuple[str, Outgoing]],
    messages: Sequence[tuple[str, str, bytes, str]],
    timers: Sequence[tuple[str, datetime]],
    states: dict[str, ChildState],
    now: datetime,
) -> set[str]:
    """Write what settling children decided, in one statement: outgoing events recorded and the ones
    not recorded before put in the outbox (`messages` holds each one's outbox row, see
    shared.outbox.row), timers set, read models replaced. Return the keys published now."""
    if not states:
        return set()
    episodes = [_episode_row(child, state, e, now) for child, state in states.items() for e in state.episodes]
    tasks = [_task_row(child, state, t, now) for child, state in states.items() for t in state.tasks]
    rows = await conn.fetch(
        WRITE_SETTLED,
        [out.key for _, out in outgoing],
        [child for child, _ in outgoing],
        [out.data.type_name for _, out in outgoing],
        [out.at for _, out in outgoing],
        [now] * len(outgoing),
        [max((now - out.at).total_seconds(), 0.0) for _, out in outgoing],
        *columns(list(messages), 4),
        *columns(list(timers), 2),
        list(states),
        episodes,
        tasks,
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


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _episode_row(child: str, state: ChildState, e: Episode, now: datetime) -> dict[str, Any]:
    task = state.task(e.task_id)
    interviewed = task.completed_at if task is not None else None
    # A moment the figures judge against their `as_of` that is still ahead: they are counted again then.
    ahead = [
        m for m in (e.offered_at, e.declined_at, e.not_offered_at, interviewed) if m is not None and m > now
    ]
    return {
        "episode_id": e.episode_id,
        "child_key": child,
        "responsible_authority": e.responsible_authority,
        "placement_authority": e.placement_authority,
        "kind": e.kind,
        "started_at": _time(e.started_at),
        "ended_at": _time(e.ended_at),
        "end_reason": e.end_reason,
        "risk_level": e.risk_level,
        "high_risk": e.high_risk_at is not None,
        "exploitation_indicators": sorted(e.indicators),
        "task_id": e.task_id,
        "offer_due_at": _time(e.offer_due_at),
        "offered_at": _time(e.offered_at),
        "offered_late": e.offered_late,
        "breached": e.breached(now),
        "declined_at": _time(e.declined_at),
        "decline_reason": e.decline_reason,
        "attempted_at": _time(e.attempted_at),
        "not_offered_at": _time(e.not_offered_at),
        "not_offered_reason": e.not_offered_reason,
        "preferred_language": e.preferred_language,
        "updated_at": _time(now),
        "recount_at": _time(min(ahead, default=None)),
    }


def _task_row(child: str, state: ChildState, t: TaskState, now: datetime) -> dict[str, Any]:
    latest = t.packets[-1] if t.packets else None
    first = state.episode(t.episode_ids[0]) if t.episode_ids else None
    returned = latest.returned_at if latest else (first.returned_at if first else None)
    due = latest.offer_due_at if latest else None
    within = None
    if t.completed_at is not None:
        within = t.outcome == "completed" and due is not None and t.completed_at <= due
    return {
        "task_id": t.task_id,
        "child_key": child,
        "episode_ids": list(t.episode_ids),
        "returned_at": _time(returned),
        "offer_due_at": _time(due),
        "accepted_at": _time(t.accepted_at),
        "offered_at": _time(t.offered_at),
        "completed_at": _time(t.completed_at),
        "outcome": t.outcome,
        "completed_within_window": within,
        "ended": t.task.ended,
        "ended_at": _time(t.task.ended_at),
        "updated_at": _time(now),
    }


async def pending_timers(pool: Pool) -> int:
    """How many timers wait (a count over the partial index)."""
    count: int = await pool.fetchval(PENDING_TIMERS)
    return count


async def next_timer(pool: Pool) -> datetime | None:
    """When the next pending timer falls due."""
    moment: datetime | None = await pool.fetchval(NEXT_TIMER)
    return moment
