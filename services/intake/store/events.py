"""Recording what organisations send: the idempotency record, the outbox rows and the audit trail of
a request's events, written in one statement (a batch all or nothing)."""

from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

import asyncpg

from services.intake.read_model.store import bump_readers, reader_of_authority
from services.intake.store.base import Connection, Pool, translated
from shared import outbox
from shared.contracts.voice import VOICE_REPORTS
from shared.db import columns

# Reports about a child that are no part of its timeline: never numbered.
OUTSIDE_TIMELINE = frozenset(report.type_name for report in VOICE_REPORTS)

# One statement records a request's events, their outbox rows (the shared outbox table of this
# schema, see shared/outbox.py) and the audit trail, so a request costs one round trip plus the
# transaction's. Rows keep the request's order: outbox `seq` follows it, and so does Kafka. Each new
# event of the child's timeline is numbered among its child's (`ce_childseq`); repeats are not numbered
# again, and nor are the councils' answers and NRM decisions, which the scheduler does not fold (rule
# 36): a number it would never see would hold back every later one of the child.
RECORD_EVENTS = """
WITH input AS (
    SELECT * FROM unnest(
        $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
        $8::text[], $9::text[], $10::bytea[], $11::text[], $12::timestamptz[], $13::text[], $14::boolean[]
    ) WITH ORDINALITY AS t(org_id, event_id, event_type, fingerprint, child_key, api_key_id, received_at,
                           topic, key, value, headers, missing_since, withdraws, in_timeline, ord)
),
inserted AS (
    INSERT INTO intake.events (org_id, event_id, event_type, fingerprint, child_key, api_key_id, received_at,
                               missing_since, withdraws)
    SELECT org_id, event_id, event_type, fingerprint, child_key, api_key_id, received_at, missing_since,
        withdraws
    FROM input ORDER BY ord
    ON CONFLICT (org_id, event_id) DO NOTHING
    RETURNING org_id, event_id
),
fresh AS (SELECT input.* FROM input JOIN inserted USING (org_id, event_id)),
counted AS (SELECT child_key, count(*) AS n FROM fresh WHERE in_timeline GROUP BY child_key),
children AS (  -- locked in key order: two requests about the same children cannot deadlock
    INSERT INTO intake.child_sequences (child_key, last_seq)
    SELECT child_key, n FROM counted ORDER BY child_key
    ON CONFLICT (child_key) DO UPDATE SET last_seq = intake.child_sequences.last_seq + EXCLUDED.last_seq
    RETURNING child_key, last_seq
),
numbered AS (
    SELECT fresh.*, CASE WHEN fresh.in_timeline
        THEN c.last_seq - count(*) OVER w + row_number() OVER (w ORDER BY fresh.ord) END AS child_seq
    FROM fresh LEFT JOIN children c USING (child_key)
    WINDOW w AS (PARTITION BY fresh.child_key, fresh.in_timeline)
),
published AS (
    INSERT INTO intake.outbox (topic, key, value, headers)
    SELECT topic, key, value, headers::jsonb || CASE WHEN child_seq IS NULL THEN '{}'::jsonb
        ELSE jsonb_build_object('ce_childseq', child_seq::text) END
    FROM numbered ORDER BY ord
),
audited AS (
    INSERT INTO intake.audit (at, org_id, api_key_id, action, child_key, event_id)
    SELECT received_at, org_id, api_key_id, 'write:' || event_type, child_key, event_id FROM fresh ORDER BY ord
),
woken AS (  -- wakes the relay at commit (shared.outbox.channel("intake"))
    SELECT count(pg_notify('intake_outbox', '')) AS n FROM (SELECT 1 FROM fresh LIMIT 1) AS any_fresh
)
SELECT event_id FROM inserted CROSS JOIN woken
"""
SELECT_FINGERPRINTS = """
SELECT event_id, fingerprint FROM intake.events WHERE org_id = $1 AND event_id = ANY($2::text[])
"""


class Outcome(Enum):
    """What storing an event came to."""

    ACCEPTED = 202
    REPEATED = 200
    CONFLICT = 409


@dataclass(frozen=True)
class Recorded:
    """Findings as intake keeps them (docs/domain.md rule 30): the codes and the child's words."""

    findings_id: str
    assignment_id: str
    completed_at: datetime
    respond_by: datetime
    findings: dict[str, Any]


@dataclass(frozen=True)
class Answered:
    """A council's answer to findings as intake keeps it (docs/domain.md rule 31)."""

    findings_id: str
    responded_at: datetime
    corrects: bool
    child_told: bool
    actions: list[dict[str, Any]]


@dataclass(frozen=True)
class Decided:
    """A council's NRM decision as intake keeps it (docs/domain.md rule 34)."""

    episode_id: str
    decision: str
    reason: str | None
    decided_at: datetime


@dataclass(frozen=True)
class Accepting:
    """One event to record, with the Kafka message it becomes."""

    org_id: str
    api_key_id: str
    event_id: str
    event_type: str
    fingerprint: str
    child_key: str | None
    received_at: datetime
    message: tuple[str, str, Any]  # (topic, key, Envelope)
    missing_since: datetime | None = None  # a missing report's: which episode it belongs to
    withdraws: str | None = None  # a withdrawal's: the report id, or '*' (those of the open absence)
    findings: Recorded | None = None  # an interview's findings, kept for the child's readers
    answer: Answered | None = None  # a council's answer to findings
    decision: Decided | None = None  # a council's NRM decision


@translated
async def accept(pool: Pool, items: list[Accepting]) -> list[Outcome]:
    """Record events, their outbox rows and audit entries in one transaction; all or nothing.

    A repeat of an id with the same fingerprint is answered as before; with another fingerprint it is
    a conflict. A conflict anywhere rolls the whole request back. Two requests racing on one id both
    reach the unique key; PostgreSQL makes the second wait for the first, so one row is stored.
    """
    first: dict[tuple[str, str], Accepting] = {}
    for item in items:
        first.setdefault((item.org_id, item.event_id), item)
    unique = list(first.values())  # an id twice in one batch: the second is a repeat of the first
    rows = [
        (
            item.org_id,
            item.event_id,
            item.event_type,
            item.fingerprint,
            item.child_key,
            item.api_key_id,
            item.received_at,
            *outbox.row(*item.message),
            item.missing_since,
            item.withdraws,
            item.event_type not in OUTSIDE_TIMELINE,
        )
        for item in unique
    ]
    voice = [item for item in unique if item.findings or item.answer or item.decision]
    async with pool.acquire() as conn, _atomic(conn, several=len(items) > 1 or bool(voice)):
        inserted = {row["event_id"] for row in await conn.fetch(RECORD_EVENTS, *columns(rows, 14))}
        await _keep_voice(conn, [item for item in voice if item.event_id in inserted])
        stored: dict[str, str] = {}
        if len(inserted) < len(unique):
            org_id = unique[0].org_id  # one request, one organisation
            rows = await conn.fetch(SELECT_FINGERPRINTS, org_id, [i.event_id for i in unique])
            stored = {row["event_id"]: row["fingerprint"] for row in rows}
        outcomes: list[Outcome] = []
        for item in items:
            if item is first[(item.org_id, item.event_id)] and item.event_id in inserted:
                outcomes.append(Outcome.ACCEPTED)
                continue
            known = first[(item.org_id, item.event_id)].fingerprint
            if item.event_id not in inserted:
                known = stored.get(item.event_id, known)
            outcomes.append(Outcome.REPEATED if known == item.fingerprint else Outcome.CONFLICT)
        if Outcome.CONFLICT in outcomes:
            raise ConflictingIds(
                [item.event_id for item, o in zip(items, outcomes, strict=True) if o is Outcome.CONFLICT]
            )
    return outcomes


INSERT_FINDINGS = """
INSERT INTO intake.findings
    (findings_id, child_key, assignment_id, provider_id, completed_at, respond_by, findings, recorded_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (findings_id) DO NOTHING
"""
INSERT_DECISION = """
INSERT INTO intake.nrm_decisions
    (org_id, event_id, child_key, episode_id, decision, reason, decided_at, received_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
INSERT_RESPONSE = """
INSERT INTO intake.responses
    (org_id, event_id, findings_id, child_key, responded_at, corrects, child_told, actions, received_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
"""


async def _keep_voice(conn: Connection, items: list[Accepting]) -> None:
    """Keep the findings, answers and NRM decisions of newly stored events, in the request's
    transaction. A second
    first answer to the same findings (two sent at once) is a conflict: nothing of the request stays."""
    findings = [
        (
            f.findings_id,
            i.child_key,
            f.assignment_id,
            i.org_id,
            f.completed_at,
            f.respond_by,
            f.findings,
            i.received_at,
        )
        for i in items
        if (f := i.findings) is not None
    ]
    answers = [
        (
            i.org_id,
            i.event_id,
            a.findings_id,
            i.child_key,
            a.responded_at,
            a.corrects,
            a.child_told,
            a.actions,
            i.received_at,
        )
        for i in items
        if (a := i.answer) is not None
    ]
    decisions = [
        (i.org_id, i.event_id, i.child_key, d.episode_id, d.decision, d.reason, d.decided_at, i.received_at)
        for i in items
        if (d := i.decision) is not None
    ]
    if findings:
        await conn.executemany(INSERT_FINDINGS, findings)
    if decisions:
        await conn.executemany(INSERT_DECISION, decisions)
    # The council's board and child pages follow what its children said and its answers.
    councils = {reader_of_authority(str(i.child_key).partition("/")[0]) for i in items}
    await bump_readers(conn, councils, set())
    if answers:
        try:
            await conn.executemany(INSERT_RESPONSE, answers)
        except asyncpg.UniqueViolationError as exc:
            raise AlreadyAnswered() from exc


class AlreadyAnswered(Exception):  # a condition, named as such
    """The findings already have a first answer; a later one says it corrects it."""


def _atomic(conn: asyncpg.Connection, *, several: bool) -> AbstractAsyncContextManager[Any]:
    """A transaction when a conflict may have to undo other events of the request. One event is
    recorded by one statement, atomic by itself, and a conflict stores nothing: that saves the
    BEGIN and COMMIT round trips on the commonest request."""
    return conn.transaction() if several else nullcontext()


class ConflictingIds(Exception):  # a condition, named as such
    """Event ids reused with different content; nothing of the request was stored."""

    def __init__(self, ids: list[str]) -> None:
        super().__init__(", ".join(ids))
        self.ids = ids
