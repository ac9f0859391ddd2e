"""What a batch of children needs loaded to settle, in one statement, once their rows are locked (the
rules are the in-memory archive's, `kept/memory.py`, which the tests hold this to).

A child's settle loads: its row (how far its history is folded); its events not folded yet (arriving
now, or waiting for an earlier number) and the reports their withdrawals name; its region (every
episode event reported as happening at or after `since`, the moment of the last return folded before
that is no later than anything the events to fold report, and the episodes begun since then); its
live episodes and tasks (open, or with something time may still bring); what those refer to (the
providers' reports and the notifier's facts on a loaded task, the councils' "not offered" records on a
loaded episode, what was published about them); and the rows a settle asked for by id.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from services.scheduler.domain.history import Entry
from services.scheduler.kept.loaded import NO_REGION, Loaded
from services.scheduler.kept.rows import FactNote, Json, happened_at, subject
from shared.contracts.registry import BY_TYPE

# New children's rows come from the insert (the statement's own snapshot cannot see them), locked by it.
LOCK_CHILDREN = """
WITH new AS (
    INSERT INTO scheduler.children (child_key, updated_at) SELECT unnest($1::text[]), $2
    ON CONFLICT (child_key) DO NOTHING
    RETURNING child_key, state, kept
),
old AS (
    SELECT child_key, state, kept FROM scheduler.children WHERE child_key = ANY($1::text[])
    ORDER BY child_key FOR UPDATE
)
SELECT * FROM new UNION ALL SELECT * FROM old
"""
# A child another instance created while this statement ran: locked once it has committed.
LOCK_MORE = """
SELECT child_key, state, kept FROM scheduler.children WHERE child_key = ANY($1::text[])
ORDER BY child_key FOR UPDATE
"""
# Its snapshot is taken after the children are locked (a statement of its own), so it holds every
# earlier event of theirs; the events it adds itself it cannot see, and the caller has them. Every row
# is found through an index, per child (`OFFSET 0` keeps each lateral lookup from being turned into a
# join that reads a whole table).
LOAD = """
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::bigint[], $3::boolean[], $4::timestamptz[], $5::boolean[],
        $6::float8[]) AS i(child_key, seq, whole, reach, forced, repeat_days)
),
incoming AS (
    SELECT * FROM unnest($11::text[], $12::text[], $13::text[], $14::timestamptz[], $15::jsonb[],
        $16::timestamptz[], $17::bigint[], $18::timestamptz[], $19::text[])
        AS n(fact_key, child_key, type, time, data, received_at, seq, happened_at, subject)
),
added AS (
    INSERT INTO scheduler.facts (fact_key, child_key, type, time, data, received_at, seq, happened_at, subject)
    SELECT * FROM incoming ON CONFLICT (fact_key) DO NOTHING
    RETURNING fact_key, child_key
),
unfolded AS (
    SELECT u.* FROM input i CROSS JOIN LATERAL (
        SELECT f.fact_key, f.child_key, f.type, f.happened_at, f.subject FROM scheduler.facts f
        WHERE f.child_key = i.child_key AND f.seq > i.seq OFFSET 0
    ) AS u
),
pending AS (
    SELECT child_key, type, happened_at, subject FROM incoming WHERE happened_at IS NOT NULL
    UNION ALL
    SELECT child_key, type, happened_at, subject FROM unfolded WHERE happened_at IS NOT NULL
),
reaches AS (
    SELECT p.child_key, min(least(p.happened_at, CASE WHEN p.type = 'missing.cancelled' AND p.subject IS NOT NULL
        THEN coalesce(
            (SELECT t.happened_at FROM scheduler.facts t WHERE t.fact_key = p.subject),
            (SELECT n.happened_at FROM incoming n WHERE n.fact_key = p.subject)) END)) AS reach
    FROM pending p GROUP BY p.child_key
),
bounds AS (
    SELECT i.child_key, i.repeat_days, i.whole OR i.forced OR r.reach IS NOT NULL AS region,
        CASE WHEN i.whole OR (i.forced AND i.reach IS NULL) THEN NULL ELSE (
            SELECT max(x.happened_at) FROM scheduler.facts x
            WHERE x.child_key = i.child_key AND x.happened_at IS NOT NULL AND x.type = 'missing.returned'
                AND (x.seq IS NULL OR x.seq <= i.seq)
                AND x.happened_at <= CASE WHEN i.forced THEN i.reach ELSE r.reach END
        ) END AS since
    FROM input i LEFT JOIN reaches r USING (child_key)
),
region AS (
    SELECT r.fact_key, r.type FROM bounds b CROSS JOIN LATERAL (
        SELECT f.fact_key, f.type FROM scheduler.facts f
        WHERE f.child_key = b.child_key AND f.happened_at IS NOT NULL
            AND (b.since IS NULL OR f.happened_at > b.since OR (f.happened_at = b.since AND f.type <> 'missing.returned'))
        OFFSET 0
    ) AS r WHERE b.region
),
episode_rows AS (
    SELECT e.* FROM bounds b CROSS JOIN LATERAL (
        SELECT * FROM scheduler.episodes e WHERE e.child_key = b.child_key AND (b.since IS NULL OR e.started_at >= b.since)
        OFFSET 0
    ) AS e WHERE b.region
    UNION
    SELECT e.* FROM input i CROSS JOIN LATERAL (
        SELECT * FROM scheduler.episodes e WHERE e.child_key = i.child_key AND e.live OFFSET 0
    ) AS e
    UNION
    SELECT e.* FROM unnest($7::uuid[]) AS w(id) CROSS JOIN LATERAL (
        SELECT * FROM scheduler.episodes e WHERE e.episode_id = w.id OFFSET 0
    ) AS e
),
task_rows AS (
    SELECT t.* FROM input i CROSS JOIN LATERAL (
        SELECT * FROM scheduler.interview_tasks t WHERE t.child_key = i.child_key AND t.live OFFSET 0
    ) AS t
    UNION
    SELECT t.* FROM scheduler.interview_tasks t WHERE t.task_id = ANY(ARRAY(
        SELECT unnest($8::uuid[])
        UNION SELECT (e.state->>'task')::uuid FROM episode_rows e WHERE e.state->>'task' IS NOT NULL
        UNION SELECT (e.state->>'moved_from')::uuid FROM episode_rows e WHERE e.state->>'moved_from' IS NOT NULL
        UNION SELECT h.task_id FROM scheduler.held_reports h WHERE h.report_key = ANY(ARRAY(SELECT fact_key FROM region))
    ))
),
wanted_facts AS (
    SELECT fact_key FROM region
    UNION SELECT f.fact_key FROM scheduler.facts f
        WHERE f.subject = ANY(ARRAY(SELECT fact_key FROM region WHERE type = 'missing.reported'))
            AND f.type = 'missing.cancelled'
    UNION SELECT fact_key FROM unfolded
    UNION SELECT subject FROM unfolded WHERE type = 'missing.cancelled' AND subject IS NOT NULL
    UNION SELECT subject FROM incoming WHERE type = 'missing.cancelled' AND subject IS NOT NULL
    UNION SELECT unnest($10::text[])
    UNION SELECT f.fact_key FROM scheduler.facts f
        WHERE f.subject = ANY(ARRAY(SELECT episode_id::text FROM episode_rows)) AND f.type = 'interview.not_offered'
    UNION SELECT f.fact_key FROM scheduler.facts f
        WHERE f.subject = ANY(ARRAY(SELECT task_id::text FROM task_rows)) AND f.type LIKE 'assignment.%'
    UNION SELECT r.key FROM task_rows t CROSS JOIN LATERAL jsonb_array_elements_text(t.state->'reports') AS r(key)
)
SELECT 'bound' AS kind, b.child_key, NULL::text AS key, NULL::text AS type, b.since AS time, NULL::jsonb AS data,
    NULL::bigint AS seq, b.region::text AS extra, NULL::text[] AS list
FROM bounds b
UNION ALL
SELECT 'fact', f.child_key, f.fact_key, f.type, f.time, f.data, f.seq, NULL, f.applied_to
FROM scheduler.facts f WHERE f.fact_key = ANY(ARRAY(SELECT fact_key FROM wanted_facts))
UNION ALL
SELECT 'new', child_key, fact_key, NULL, NULL, NULL, NULL, NULL, NULL FROM added
UNION ALL
SELECT 'episode', e.child_key, e.episode_id::text, NULL, NULL, e.state, NULL, e.live::text, NULL FROM episode_rows e
UNION ALL
SELECT 'task', t.child_key, t.task_id::text, NULL, NULL, t.state, NULL, t.live::text, NULL FROM task_rows t
UNION ALL
SELECT 'earlier', e.child_key, e.episode_id::text, NULL, e.started_at, NULL, NULL, NULL, NULL
FROM bounds b CROSS JOIN LATERAL (
    SELECT child_key, episode_id, started_at FROM scheduler.episodes e
    WHERE e.child_key = b.child_key AND e.started_at >= b.since - b.repeat_days * interval '1 day'
        AND e.started_at < b.since AND coalesce(e.end_reason, '') NOT IN ('cancelled', 'left_care')
    OFFSET 0
) AS e WHERE b.region AND b.since IS NOT NULL
UNION ALL
SELECT 'held', h.child_key, h.report_key, NULL, NULL, NULL, NULL, h.task_id::text, NULL
FROM scheduler.held_reports h WHERE h.report_key = ANY(ARRAY(SELECT fact_key FROM region))
UNION ALL
SELECT 'emitted', em.child_key, em.key, NULL, NULL, NULL, NULL, NULL, NULL FROM scheduler.emitted em
WHERE split_part(em.key, ':', 2) = ANY(ARRAY(
    SELECT episode_id::text FROM episode_rows UNION ALL SELECT task_id::text FROM task_rows))
UNION ALL
SELECT 'task_id', t.child_key, t.task_id::text, NULL, NULL, NULL, NULL, NULL, NULL
FROM scheduler.interview_tasks t WHERE t.child_key = ANY($9::text[])
"""


@dataclass
class Request:
    """What to load for one child's settle."""

    seq: int = 0  # the highest number folded
    whole: bool = False  # the child's whole history (a child never settled before)
    reach: datetime | None = None  # with `forced`: a region reaching back to here (None: everything)
    forced: bool = False
    repeat_days: float = 90.0
    episodes: set[str] = field(default_factory=set)
    tasks: set[str] = field(default_factory=set)
    all_tasks: bool = False
    facts: list[str] = field(default_factory=list)  # events by key (waiting reports, orphans)
    state: Json | None = None  # the child's row, as locked
    caps: dict[str, datetime | None] = field(default_factory=dict)  # steps' regions asked to begin earlier


@dataclass
class Child:
    """A child's row, locked."""

    state: Json | None
    kept: bool


async def lock_children(conn: asyncpg.Connection, keys: Sequence[str], now: datetime) -> dict[str, Child]:
    """Create and lock the children's rows (in key order, so two instances cannot deadlock)."""
    rows = await conn.fetch(LOCK_CHILDREN, list(keys), now)
    found = {row["child_key"]: Child(row["state"], row["kept"]) for row in rows}
    missing = [key for key in keys if key not in found]
    if missing:
        for row in await conn.fetch(LOCK_MORE, missing):
            found[row["child_key"]] = Child(row["state"], row["kept"])
    return found


async def load(
    conn: asyncpg.Connection,
    requests: dict[str, Request],
    incoming: Sequence[tuple[str, Entry]],
    now: datetime,
) -> dict[str, Loaded]:
    """Add the incoming events to the children's histories (repeats ignored) and load what each child's
    settle needs (call with the children locked)."""
    keys = sorted(requests)
    asks = [requests[key] for key in keys]
    rows = await conn.fetch(
        LOAD,
        keys,
        [r.seq for r in asks],
        [r.whole for r in asks],
        [r.reach for r in asks],
        [r.forced for r in asks],
        [r.repeat_days for r in asks],
        sorted({eid for r in asks for eid in r.episodes}),
        sorted({tid for r in asks for tid in r.tasks}),
        [key for key in keys if requests[key].all_tasks],
        sorted({fact for r in asks for fact in r.facts}),
        [fact.key for _, fact in incoming],
        [child for child, _ in incoming],
        [fact.type for _, fact in incoming],
        [fact.time for _, fact in incoming],
        [fact.data.model_dump(mode="json") for _, fact in incoming],
        [now] * len(incoming),
        [fact.seq for _, fact in incoming],
        [happened_at(fact) for _, fact in incoming],
        [subject(fact) for _, fact in incoming],
    )
    loaded = {key: Loaded(key, requests[key].state, NO_REGION, caps=dict(requests[key].caps)) for key in keys}
    for child, fact in reversed(incoming):  # the first of repeats within the batch
        loaded[child].facts[fact.key] = fact
    for row in rows:
        _take(loaded[row["child_key"]], row)
    asked_episodes = {eid for r in asks for eid in r.episodes}
    asked_tasks = {tid for r in asks for tid in r.tasks}
    for key in keys:
        found = loaded[key]
        if requests[key].all_tasks and found.all_tasks is None:
            found.all_tasks = []
        # ids asked for that no row has (rows are loaded by id for whichever child asked)
        found.absent = (asked_episodes - set(found.episodes)) | (asked_tasks - set(found.tasks))
    return loaded


def _take(found: Loaded, row: asyncpg.Record) -> None:
    kind = row["kind"]
    if kind == "bound":
        found.since = row["time"] if row["extra"] == "true" else NO_REGION
    elif kind == "fact":
        key = row["key"]
        if key not in found.facts:
            data = BY_TYPE[row["type"]].model_validate(row["data"])
            found.facts[key] = Entry(key, row["type"], row["time"], data, row["seq"])
        if row["list"] is not None:
            found.notes[key] = FactNote(tuple(row["list"]))
    elif kind == "new":
        found.new.add(row["key"])
    elif kind == "episode":
        found.episodes[row["key"]] = row["data"]
    elif kind == "task":
        found.tasks[row["key"]] = row["data"]
    elif kind == "earlier":
        found.earlier[row["key"]] = row["time"]
    elif kind == "held":
        found.held_by.setdefault(row["key"], []).append(row["extra"])
    elif kind == "emitted":
        found.emitted.add(row["key"])
    elif kind == "task_id":
        found.all_tasks = [*(found.all_tasks or []), row["key"]]
