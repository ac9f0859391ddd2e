"""What a batch of settles decided, written in one statement (the rules are the in-memory archive's,
`kept/memory.py`, which the tests hold this to)."""

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import asyncpg

from services.scheduler.kept.rows import Json

# Everything a settled batch writes, in one statement: outgoing events recorded once by key and the
# ones recorded now put in the outbox (in the order they were decided); new timers, the earliest new
# moment (Unix seconds) sent to the timer loop at commit (TIMER_CHANNEL), where a sleeping loop wakes
# only if it comes before the moment it already means to look again; the children's rows; what each
# folded event applied to; and the episodes' and tasks' kept state beside their read models.
WRITE = """
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
children AS (
    UPDATE scheduler.children c SET state = s.state, kept = true, updated_at = $20
    FROM unnest($13::text[], $14::jsonb[]) AS s(child_key, state)
    WHERE c.child_key = ANY($13::text[]) AND c.child_key = s.child_key
),
notes AS (
    UPDATE scheduler.facts f SET applied_to = n.applied_to
    FROM jsonb_to_recordset($22::jsonb) AS n(fact_key text, applied_to text[])
    WHERE f.fact_key = ANY($15::text[]) AND f.fact_key = n.fact_key
),
changes AS (
    INSERT INTO scheduler.figures_changes (authority, month)
    SELECT * FROM unnest($23::text[], $24::date[])
),
episodes AS (
    INSERT INTO scheduler.episodes (episode_id, child_key, responsible_authority, placement_authority, kind,
        started_at, ended_at, end_reason, risk_level, high_risk, exploitation_indicators, task_id,
        offer_due_at, offered_at, offered_late, breached, declined_at, decline_reason, attempted_at,
        not_offered_at, not_offered_reason, preferred_language, recount_at, state, live)
    SELECT * FROM jsonb_to_recordset($16::jsonb) AS e(episode_id uuid, child_key text,
        responsible_authority text, placement_authority text, kind text, started_at timestamptz,
        ended_at timestamptz, end_reason text, risk_level text, high_risk boolean,
        exploitation_indicators text[], task_id uuid, offer_due_at timestamptz, offered_at timestamptz,
        offered_late boolean, breached boolean, declined_at timestamptz, decline_reason text,
        attempted_at timestamptz, not_offered_at timestamptz, not_offered_reason text,
        preferred_language text, recount_at timestamptz, state jsonb, live boolean)
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
        recount_at = EXCLUDED.recount_at, state = EXCLUDED.state,
        live = EXCLUDED.live
),
tasks AS (
    INSERT INTO scheduler.interview_tasks (task_id, child_key, episode_ids, returned_at, offer_due_at,
        accepted_at, offered_at, completed_at, outcome, completed_within_window, ended, ended_at, state, live)
    SELECT * FROM jsonb_to_recordset($17::jsonb) AS t(task_id uuid, child_key text, episode_ids uuid[],
        returned_at timestamptz, offer_due_at timestamptz, accepted_at timestamptz, offered_at timestamptz,
        completed_at timestamptz, outcome text, completed_within_window boolean, ended text,
        ended_at timestamptz, state jsonb, live boolean)
    ON CONFLICT (task_id) DO UPDATE SET
        child_key = EXCLUDED.child_key, episode_ids = EXCLUDED.episode_ids,
        returned_at = EXCLUDED.returned_at, offer_due_at = EXCLUDED.offer_due_at,
        accepted_at = EXCLUDED.accepted_at, offered_at = EXCLUDED.offered_at,
        completed_at = EXCLUDED.completed_at, outcome = EXCLUDED.outcome,
        completed_within_window = EXCLUDED.completed_within_window, ended = EXCLUDED.ended,
        ended_at = EXCLUDED.ended_at, state = EXCLUDED.state,
        live = EXCLUDED.live
),
held AS (
    INSERT INTO scheduler.held_reports (child_key, report_key, task_id)
    SELECT * FROM unnest($18::text[], $19::text[], $21::uuid[])
    ON CONFLICT DO NOTHING
)
SELECT key FROM fresh CROSS JOIN (SELECT n FROM woken) AS told
"""
# An episode no longer there (none is, in practice: an id never moves), by its id.
DELETE_EPISODE = "DELETE FROM scheduler.episodes WHERE episode_id = $1"


@dataclass
class Writes:
    """What a batch of settles decided, as the write statement takes it."""

    outgoing: list[tuple[str, Any]] = field(default_factory=list)  # (child, Outgoing)
    messages: list[tuple[str, str, bytes, str]] = field(default_factory=list)  # their outbox rows
    timers: list[tuple[str, datetime]] = field(default_factory=list)
    children: list[tuple[str, Json]] = field(default_factory=list)
    notes: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (event, what it applied to)
    months: set[tuple[str, date]] = field(default_factory=set)  # (authority, month) whose figures may change
    gone: list[str] = field(default_factory=list)
    episodes: list[Json] = field(default_factory=list)  # read-model row, with `state` and `live`
    tasks: list[Json] = field(default_factory=list)
    held: list[tuple[str, str, str]] = field(default_factory=list)  # (child, report, task)


async def write(conn: asyncpg.Connection, writes: Writes, now: datetime) -> set[str]:
    """Write a batch's decisions in one statement; return the keys of the events published now."""
    if writes.gone:
        await conn.executemany(DELETE_EPISODE, [(eid,) for eid in writes.gone])
    outgoing = writes.outgoing
    rows = await conn.fetch(
        WRITE,
        [out.key for _, out in outgoing],
        [child for child, _ in outgoing],
        [out.data.type_name for _, out in outgoing],
        [out.at for _, out in outgoing],
        [now] * len(outgoing),
        [max((now - out.at).total_seconds(), 0.0) for _, out in outgoing],
        [m[0] for m in writes.messages],
        [m[1] for m in writes.messages],
        [m[2] for m in writes.messages],
        [m[3] for m in writes.messages],
        [child for child, _ in writes.timers],
        [due for _, due in writes.timers],
        [child for child, _ in writes.children],
        [state for _, state in writes.children],
        [fact for fact, _ in writes.notes],
        writes.episodes,
        writes.tasks,
        [h[0] for h in writes.held],
        [h[1] for h in writes.held],
        now,
        [h[2] for h in writes.held],
        [{"fact_key": fact, "applied_to": list(applied)} for fact, applied in writes.notes],
        [authority for authority, _ in sorted(writes.months)],
        [month for _, month in sorted(writes.months)],
    )
    return {row["key"] for row in rows}
