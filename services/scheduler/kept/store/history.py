"""A child's whole history, to fold it again from its start: reading it, adding events to it, what the
kept state adds to events stored before it kept any, and the children whose history is not kept yet
(for the upgrade loop)."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from services.scheduler.domain.history import Entry
from services.scheduler.kept.rows import happened_at, subject
from shared.contracts.registry import BY_TYPE

# A child's whole history, everything published about it and its episodes' ids, to fold it again from
# the start.
HISTORY = """
SELECT 'fact' AS kind, fact_key AS key, type, time, data, seq FROM scheduler.facts WHERE child_key = $1
UNION ALL
SELECT 'emitted', key, NULL, NULL, NULL, NULL FROM scheduler.emitted WHERE child_key = $1
UNION ALL
SELECT 'episode', episode_id::text, NULL, NULL, NULL, NULL FROM scheduler.episodes WHERE child_key = $1
"""
ADD_FACTS = """
INSERT INTO scheduler.facts (fact_key, child_key, type, time, data, received_at, seq, happened_at, subject)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[], $6::timestamptz[],
    $7::bigint[], $8::timestamptz[], $9::text[])
ON CONFLICT (fact_key) DO NOTHING
"""
# What the kept state adds to each event, for those stored before it kept any.
DESCRIBE_FACTS = """
UPDATE scheduler.facts f SET happened_at = d.happened_at, subject = d.subject
FROM unnest($1::text[], $2::timestamptz[], $3::text[]) AS d(fact_key, happened_at, subject)
WHERE f.fact_key = ANY($1::text[]) AND f.fact_key = d.fact_key
"""
# Children folded before the kept state existed, a few at a time, for the upgrade loop.
TO_KEEP = """
SELECT child_key FROM scheduler.children WHERE NOT kept ORDER BY child_key LIMIT $1 FOR UPDATE SKIP LOCKED
"""
STILL_TO_KEEP = "SELECT count(*) FROM scheduler.children WHERE NOT kept"


@dataclass
class History:
    """A child's every event, the keys of everything published about it, its episodes' ids."""

    facts: list[Entry] = field(default_factory=list)
    emitted: set[str] = field(default_factory=set)
    episodes: set[str] = field(default_factory=set)


async def history(conn: asyncpg.Connection, child_key: str) -> History:
    """Everything about a child that folding its history again from the start reads."""
    found = History()
    for row in await conn.fetch(HISTORY, child_key):
        if row["kind"] == "emitted":
            found.emitted.add(row["key"])
        elif row["kind"] == "episode":
            found.episodes.add(row["key"])
        else:
            data = BY_TYPE[row["type"]].model_validate(row["data"])
            found.facts.append(Entry(row["key"], row["type"], row["time"], data, row["seq"]))
    return found


async def add_facts(conn: asyncpg.Connection, incoming: Sequence[tuple[str, Entry]], now: datetime) -> None:
    """Add events to children's histories (repeats ignored)."""
    if not incoming:
        return
    await conn.execute(
        ADD_FACTS,
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


async def describe_facts(conn: asyncpg.Connection, facts: Iterable[Entry]) -> None:
    """Set what the kept state adds to events stored before it kept any."""
    items = list(facts)
    await conn.execute(
        DESCRIBE_FACTS, [f.key for f in items], [happened_at(f) for f in items], [subject(f) for f in items]
    )


async def children_to_keep(conn: asyncpg.Connection, limit: int) -> list[str]:
    """Lock a few children whose history is not kept yet (others' are skipped, not waited for)."""
    return [row["child_key"] for row in await conn.fetch(TO_KEEP, limit)]


async def still_to_keep(conn: asyncpg.Connection) -> int:
    """How many children's histories are not kept yet."""
    count: int = await conn.fetchval(STILL_TO_KEEP)
    return count
