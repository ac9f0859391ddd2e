"""The voice's SQL (docs/domain.md rule 31): findings as they arrive, the answers to them, and the
reminders and overdue notices the voice loop claims when they fall due."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeAlias

import asyncpg

Connection: TypeAlias = asyncpg.Connection

# The episode an interview belongs to: the child's latest that began before it was held (the fold has
# written the episodes read model earlier in the same transaction).
EPISODE_OF_INTERVIEW = """
SELECT episode_id, placement_authority, started_at FROM scheduler.episodes
WHERE child_key = $1 AND started_at <= $2 ORDER BY started_at DESC, episode_id DESC LIMIT 1
"""
INSERT_FINDINGS = """
INSERT INTO scheduler.findings (findings_id, child_key, responsible_authority, placement_authority, episode_id,
    completed_at, respond_by, remind_at, reasons, placement_view, next_at)
VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz, $9, $10, LEAST($8::timestamptz, $7::timestamptz))
ON CONFLICT (findings_id) DO NOTHING
RETURNING findings_id
"""
# The child's interviews that gave a reason within a period ending with one of them, oldest first,
# each with its first answer (docs/domain.md rule 32).
GAVE_REASON = """
SELECT f.findings_id, f.completed_at, r.responded_at AS answered_at, r.actions
FROM scheduler.findings f
LEFT JOIN LATERAL (
    SELECT responded_at, actions FROM scheduler.findings_responses x
    WHERE x.findings_id = f.findings_id ORDER BY responded_at, event_key LIMIT 1
) r ON true
WHERE f.child_key = $1 AND f.reasons ? $2 AND f.completed_at > $3 AND f.completed_at <= $4
ORDER BY f.completed_at, f.findings_id
"""
# Every answer is kept; the first answer's time and word on the child are the ones that count. An
# answer ends what was still to be published (a reminder, the overdue notice).
INSERT_RESPONSE = """
INSERT INTO scheduler.findings_responses
    (event_key, findings_id, child_key, responded_at, corrects, child_told, actions)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (event_key) DO NOTHING
RETURNING event_key
"""
ANSWERED = """
UPDATE scheduler.findings
SET responded_at = LEAST(COALESCE(responded_at, $2::timestamptz), $2::timestamptz),
    child_told = CASE WHEN responded_at IS NULL OR $2::timestamptz < responded_at THEN $3::boolean
                      ELSE child_told END,
    next_at = NULL
WHERE findings_id = $1
"""
# Due reminders and overdue notices, claimed so that two scheduler instances never publish one twice.
CLAIM_DUE = """
SELECT * FROM scheduler.findings
WHERE next_at IS NOT NULL AND next_at <= $1
ORDER BY next_at LIMIT $2 FOR UPDATE SKIP LOCKED
"""
REMINDED = "UPDATE scheduler.findings SET reminded_at = $2, next_at = respond_by WHERE findings_id = $1"
OVERDUE = "UPDATE scheduler.findings SET overdue_at = $2, next_at = NULL WHERE findings_id = $1"
NEXT_DUE = """
SELECT least((SELECT min(next_at) FROM scheduler.findings WHERE next_at IS NOT NULL),
             (SELECT min(next_at) FROM scheduler.nrm WHERE next_at IS NOT NULL))
"""
# Episodes of these children with signs of exploitation not yet owed an NRM decision (rule 34).
EXPLOITATION_EPISODES = """
SELECT e.episode_id::text AS episode_id, e.child_key, e.responsible_authority, e.placement_authority, e.started_at,
       e.exploitation_indicators
FROM scheduler.episodes e
WHERE e.child_key = ANY($1::text[]) AND cardinality(e.exploitation_indicators) > 0
  AND NOT EXISTS (SELECT 1 FROM scheduler.nrm n WHERE n.episode_id = e.episode_id::text)
"""
# Signs seen again, or first in the interview, join those the episode is known to show.
INSERT_NRM = """
INSERT INTO scheduler.nrm (episode_id, child_key, responsible_authority, placement_authority, indicators, due_at,
    next_at)
VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $6::timestamptz)
ON CONFLICT (episode_id) DO UPDATE SET indicators = ARRAY(
    SELECT DISTINCT i FROM unnest(scheduler.nrm.indicators || EXCLUDED.indicators) AS i ORDER BY i
)
WHERE NOT EXCLUDED.indicators <@ scheduler.nrm.indicators
"""
# A decision read before the episode showed signs is kept all the same: no reminder follows.
NRM_DECIDED = """
INSERT INTO scheduler.nrm (episode_id, child_key, responsible_authority, placement_authority, indicators, due_at,
    decided_at, decision, next_at)
VALUES ($1, $2, $3, $3, '{}', $4::timestamptz, $4::timestamptz, $5, NULL)
ON CONFLICT (episode_id) DO UPDATE SET
    decided_at = COALESCE(scheduler.nrm.decided_at, EXCLUDED.decided_at),
    decision = COALESCE(scheduler.nrm.decision, EXCLUDED.decision),
    next_at = NULL
"""
CLAIM_NRM_DUE = """
SELECT * FROM scheduler.nrm WHERE next_at IS NOT NULL AND next_at <= $1
ORDER BY next_at LIMIT $2 FOR UPDATE SKIP LOCKED
"""
NRM_REMINDED = "UPDATE scheduler.nrm SET reminded_at = $2, next_at = NULL WHERE episode_id = $1"


INSERT_ARREST = """
INSERT INTO scheduler.arrests (event_key, child_key, returned_at) VALUES ($1, $2, $3)
ON CONFLICT (event_key) DO NOTHING
"""
# Arrests not yet told whose episode (the child's latest begun by the return) shows signs of
# exploitation, from any report (the episode's) or interview (the NRM decision it is owed): each is
# told once.
ARRESTED_VICTIMS = """
SELECT a.event_key, a.child_key, a.returned_at, e.episode_id, e.placement_authority,
    ARRAY(SELECT DISTINCT i FROM unnest(e.exploitation_indicators || coalesce(n.indicators, '{}')) AS i ORDER BY i)
        AS exploitation_indicators
FROM scheduler.arrests a
JOIN LATERAL (
    SELECT episode_id, placement_authority, exploitation_indicators FROM scheduler.episodes x
    WHERE x.child_key = a.child_key AND x.started_at <= a.returned_at
    ORDER BY x.started_at DESC, x.episode_id DESC LIMIT 1
) e ON true
LEFT JOIN scheduler.nrm n ON n.episode_id = e.episode_id::text
WHERE a.child_key = ANY($1::text[]) AND a.alerted_at IS NULL
    AND (cardinality(e.exploitation_indicators) > 0 OR cardinality(n.indicators) > 0)
ORDER BY a.child_key, a.returned_at
FOR UPDATE OF a
"""
ALERTED = "UPDATE scheduler.arrests SET alerted_at = $2 WHERE event_key = ANY($1::text[])"


# The months whose figures what was taken in may change (report/figures_loop.py): the month each set
# of findings' interview was held in, and every month an episode of a child arrested or decided on began.
NOTE_CHANGES = """
INSERT INTO scheduler.figures_changes (authority, month)
SELECT DISTINCT authority, month FROM (
    SELECT responsible_authority AS authority, completed_at AS moment FROM scheduler.findings
    WHERE findings_id = ANY($1::text[])
    UNION ALL
    SELECT responsible_authority, started_at FROM scheduler.episodes WHERE child_key = ANY($2::text[])
) AS changed
CROSS JOIN LATERAL (SELECT date_trunc('month', moment AT TIME ZONE 'Europe/London')::date AS month) AS m
"""


async def note_changes(conn: Connection, findings_ids: Sequence[str], children: Sequence[str]) -> None:
    """Note the months whose figures these findings and these children's episodes are counted in."""
    if findings_ids or children:
        await conn.execute(NOTE_CHANGES, list(findings_ids), list(children))


async def add_arrest(conn: Connection, event_key: str, child_key: str, returned_at: datetime) -> None:
    """Record a return at which the child was arrested (a repeat changes nothing)."""
    await conn.execute(INSERT_ARREST, event_key, child_key, returned_at)


async def arrested_victims(conn: Connection, children: list[str], now: datetime) -> list[asyncpg.Record]:
    """The arrests of these children now known to have signs of exploitation, marked told."""
    rows = list(await conn.fetch(ARRESTED_VICTIMS, children))
    if rows:
        await conn.execute(ALERTED, [row["event_key"] for row in rows], now)
    return rows


async def episode_of_interview(conn: Connection, child_key: str, held_at: datetime) -> asyncpg.Record | None:
    """The episode (id and placement) an interview held at `held_at` followed."""
    row: asyncpg.Record | None = await conn.fetchrow(EPISODE_OF_INTERVIEW, child_key, held_at)
    return row


# An answer read before the findings it answers (they travel on different topics): the findings
# arrive answered.
ANSWERED_BEFORE = """
UPDATE scheduler.findings f SET responded_at = r.first_at, child_told = r.told, next_at = NULL
FROM (
    SELECT DISTINCT ON (findings_id) findings_id, responded_at AS first_at, child_told AS told
    FROM scheduler.findings_responses WHERE findings_id = ANY($1::text[])
    ORDER BY findings_id, responded_at
) r
WHERE f.findings_id = r.findings_id
"""


async def add_findings(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> set[str]:
    """Record findings, with any answer already read; return the ids new here (a repeat of the same
    findings changes nothing)."""
    fresh = set()
    for row in rows:
        if await conn.fetchval(INSERT_FINDINGS, *row) is not None:
            fresh.add(row[0])
    if rows:
        await conn.execute(ANSWERED_BEFORE, [row[0] for row in rows])
    return fresh


async def gave_reason(
    conn: Connection, child_key: str, reason: str, after: datetime, until: datetime
) -> list[asyncpg.Record]:
    """The child's interviews giving `reason` held after `after` and up to `until`, with first answers."""
    return list(await conn.fetch(GAVE_REASON, child_key, reason, after, until))


async def add_response(
    conn: Connection,
    event_key: str,
    findings_id: str,
    child_key: str,
    responded_at: datetime,
    *,
    corrects: bool,
    child_told: bool,
    actions: list[dict[str, Any]],
) -> None:
    """Keep an answer (once per event) and mark the findings answered."""
    fresh = await conn.fetchval(
        INSERT_RESPONSE, event_key, findings_id, child_key, responded_at, corrects, child_told, actions
    )
    if fresh is not None:
        await conn.execute(ANSWERED, findings_id, responded_at, child_told)


async def exploitation_episodes(conn: Connection, children: list[str]) -> list[asyncpg.Record]:
    """These children's episodes with signs of exploitation not yet owed an NRM decision."""
    return list(await conn.fetch(EXPLOITATION_EPISODES, children))


async def owe_nrm(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Record the NRM decisions episodes are owed, each due at its time."""
    if rows:
        await conn.executemany(INSERT_NRM, rows)


async def nrm_decided(
    conn: Connection, episode_id: str, child_key: str, authority: str, at: datetime, decision: str
) -> None:
    """Keep an episode's NRM decision (the first one counts) and stop its reminder."""
    await conn.execute(NRM_DECIDED, episode_id, child_key, authority, at, decision)


async def claim_nrm_due(conn: Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Episodes whose NRM reminder is due, locked for this transaction."""
    return list(await conn.fetch(CLAIM_NRM_DUE, now, limit))


async def mark_nrm_reminded(conn: Connection, episode_id: str, at: datetime) -> None:
    await conn.execute(NRM_REMINDED, episode_id, at)


async def claim_due(conn: Connection, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Findings whose reminder or overdue notice is due, locked for this transaction."""
    return list(await conn.fetch(CLAIM_DUE, now, limit))


async def mark_reminded(conn: Connection, findings_id: str, at: datetime) -> None:
    await conn.execute(REMINDED, findings_id, at)


async def mark_overdue(conn: Connection, findings_id: str, at: datetime) -> None:
    await conn.execute(OVERDUE, findings_id, at)


async def next_due(pool: "asyncpg.Pool[Any]") -> datetime | None:
    """When the next reminder or overdue notice falls due, if any."""
    found: datetime | None = await pool.fetchval(NEXT_DUE)
    return found
