"""Intake's SQL: the idempotency record, the outbox and the audit trail, written in one transaction;
the read model built from the topics; the audit trail's listing."""

import functools
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, ParamSpec, TypeAlias, TypeVar

import asyncpg
import structlog
from tenacity import AsyncRetrying, retry_if_result, stop_after_delay, wait_exponential

from services.intake.errors import Unavailable
from shared import outbox
from shared.child_data import ChildTable, pseudonym
from shared.db import CONNECTION_ERRORS, columns
from shared.inbox import Inbox
from shared.retention import Purge

log = structlog.get_logger()

SCHEMA = "intake"
Pool: TypeAlias = asyncpg.Pool
Connection: TypeAlias = asyncpg.Connection
P = ParamSpec("P")
R = TypeVar("R")


def translated(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """The database out of reach for a moment (restarting, the pool reconnecting) becomes Unavailable,
    intake's own retryable error, answered 503 with Retry-After."""

    @functools.wraps(function)
    async def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await function(*args, **kwargs)
        except CONNECTION_ERRORS as exc:
            raise Unavailable() from exc

    return call


@translated
async def ping(pool: Pool) -> bool:
    """Whether the database answers."""
    return bool(await pool.fetchval("SELECT true"))


# One statement records a request's events, their outbox rows (the shared outbox table of this
# schema, see shared/outbox.py) and the audit trail, so a request costs one round trip plus the
# transaction's. Rows keep the request's order: outbox `seq` follows it, and so does Kafka. Each new
# event is numbered among its child's (`ce_childseq`); repeats are not numbered again.
RECORD_EVENTS = """
WITH input AS (
    SELECT * FROM unnest(
        $1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[],
        $8::text[], $9::text[], $10::bytea[], $11::text[], $12::timestamptz[], $13::text[]
    ) WITH ORDINALITY AS t(org_id, event_id, event_type, fingerprint, child_key, api_key_id, received_at,
                           topic, key, value, headers, missing_since, withdraws, ord)
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
counted AS (SELECT child_key, count(*) AS n FROM fresh GROUP BY child_key),
children AS (  -- locked in key order: two requests about the same children cannot deadlock
    INSERT INTO intake.child_sequences (child_key, last_seq)
    SELECT child_key, n FROM counted ORDER BY child_key
    ON CONFLICT (child_key) DO UPDATE SET last_seq = intake.child_sequences.last_seq + EXCLUDED.last_seq
    RETURNING child_key, last_seq
),
numbered AS (
    SELECT fresh.*, c.last_seq - count(*) OVER w + row_number() OVER (w ORDER BY fresh.ord) AS child_seq
    FROM fresh JOIN children c USING (child_key)
    WINDOW w AS (PARTITION BY fresh.child_key)
),
published AS (
    INSERT INTO intake.outbox (topic, key, value, headers)
    SELECT topic, key, value, headers::jsonb || jsonb_build_object('ce_childseq', child_seq::text)
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

INSERT_AUDIT = """
INSERT INTO intake.audit (at, org_id, api_key_id, action, child_key, event_id)
VALUES ($1, $2, $3, $4, $5, $6)
"""

SELECT_HOLDER = "SELECT provider_id, status, child_key FROM intake.assignments WHERE assignment_id = $1"
HOLDING = frozenset({"offered", "accepted"})


@translated
async def held_assignment(
    pool: Pool, org_id: str, assignment_id: str, *, wait_seconds: float = 0.0
) -> str | None:
    """The child key of an assignment this organisation holds now (offered or accepted), or None.

    The offer webhook and the fact intake learns an assignment from leave the notifier at the same
    moment, and the webhook is usually first: a provider answering at once can be ahead of intake.
    So an assignment intake has not heard of yet is looked for again, for up to `wait_seconds`; one
    it knows is answered at once."""
    retrying = AsyncRetrying(
        retry=retry_if_result(lambda row: row is None),
        wait=wait_exponential(multiplier=0.02, max=0.25),
        stop=stop_after_delay(wait_seconds),
        retry_error_callback=lambda state: None,
    )
    started = time.monotonic()
    row: asyncpg.Record | None = await retrying(pool.fetchrow, SELECT_HOLDER, assignment_id)
    waited_ms = round((time.monotonic() - started) * 1000)
    if row is None:
        if wait_seconds > 0:
            # Not the id: it is whatever the caller sent, and it names nothing intake knows.
            log.warning("assignment_unknown", org=org_id, waited_ms=waited_ms)
        return None
    if retrying.statistics.get("attempt_number", 1) > 1:
        log.info("assignment_awaited", assignment_id=assignment_id, org=org_id, waited_ms=waited_ms)
    if row["provider_id"] != org_id or row["status"] not in HOLDING:
        return None
    child: str = row["child_key"]
    return child


SELECT_OWN_REPORTS = """
SELECT event_id FROM intake.events WHERE child_key = $1 AND org_id = $2 AND event_type = 'missing.reported'
"""


@translated
async def own_reports(pool: Pool, org_id: str, child_key: str) -> set[str]:
    """The ids of the missing reports this organisation has sent about the child."""
    return {row["event_id"] for row in await pool.fetch(SELECT_OWN_REPORTS, child_key, org_id)}


SELECT_EPISODE = "SELECT 1 FROM intake.episodes WHERE child_key = $1 AND episode_id = $2"


@translated
async def episode_known(pool: Pool, child_key: str, episode_id: str, *, wait_seconds: float = 0.0) -> bool:
    """Whether the read model knows this episode of the child; one just announced (the council's
    `episode.opened` webhook can be ahead of the read model) is looked for again for up to `wait_seconds`."""
    retrying = AsyncRetrying(
        retry=retry_if_result(lambda row: row is None),
        wait=wait_exponential(multiplier=0.02, max=0.25),
        stop=stop_after_delay(wait_seconds),
        retry_error_callback=lambda state: None,
    )
    return await retrying(pool.fetchval, SELECT_EPISODE, child_key, episode_id) is not None


SELECT_STORED_KEY = "SELECT child_key FROM intake.events WHERE org_id = $1 AND event_id = $2"


@translated
async def stored_child(pool: Pool, org_id: str, event_id: str) -> str | None:
    """The child key of an event this organisation has already sent under this id, or None."""
    child: str | None = await pool.fetchval(SELECT_STORED_KEY, org_id, event_id)
    return child


class Outcome(Enum):
    """What storing an event came to."""

    ACCEPTED = 202
    REPEATED = 200
    CONFLICT = 409


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
        )
        for item in unique
    ]
    async with pool.acquire() as conn, _atomic(conn, several=len(items) > 1):
        inserted = {row["event_id"] for row in await conn.fetch(RECORD_EVENTS, *columns(rows, 13))}
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


# The read model, projected from mtp.tasks.v1 and mtp.assignments.v1 (see projection.py).

# Every topic event the read model has applied (shared/inbox.py).
INBOX = Inbox("intake.applied", "applied_at")

INSERT_OPERATOR_ACTION = """
INSERT INTO intake.audit (at, org_id, api_key_id, action, child_key, event_id) VALUES (now(), 'operator', $1, $2, $3, NULL)
"""


async def record_operator_action(conn: Connection, action: str, child_key: str | None, by: str) -> None:
    """Write an operator's command to the audit trail: an export or erasure of a child's data (an
    erasure under the child's pseudonym: the record stays, the child is no longer named), or a command
    that reads children's data in bulk (no child named)."""
    subject = pseudonym(child_key) if child_key and action.startswith("erase") else child_key
    await conn.execute(INSERT_OPERATOR_ACTION, by, action, subject)


# A command line's own connection could not be made, or the database refused it.
UNREACHABLE = (OSError, asyncpg.PostgresError)


async def record_operator_command(dsn: str, action: str, by: str) -> None:
    """Record an operator's command in the audit trail over a connection of its own (the command line
    runs it before the command it names)."""
    conn = await asyncpg.connect(dsn)
    try:
        await record_operator_action(conn, action, None, by)
    finally:
        await conn.close()


# What intake removes once its retention period is over (shared/retention.py).
PURGES = (
    Purge(  # organisations' delivered webhooks as the API lists them (their attempts go with them)
        "intake.deliveries",
        "DELETE FROM intake.deliveries WHERE webhook_id IN (SELECT webhook_id FROM intake.deliveries "
        "WHERE state = 'delivered' AND last_attempt_at < $1 LIMIT $2) RETURNING webhook_id",
        lambda r: r.delivered_webhook_days,
    ),
    Purge(
        "intake.outbox",
        "DELETE FROM intake.outbox WHERE seq IN "
        "(SELECT seq FROM intake.outbox WHERE sent_at < $1 LIMIT $2) RETURNING seq",
        lambda r: r.published_outbox_days,
    ),
    Purge(
        "intake.applied",
        "DELETE FROM intake.applied WHERE event_key IN "
        "(SELECT event_key FROM intake.applied WHERE applied_at < $1 LIMIT $2) RETURNING event_key",
        lambda r: r.inbox_days,
    ),
    Purge(
        "intake.audit",
        # Append-only for intake's role: only the owner's function removes audit records (migration 005).
        "SELECT intake.purge_audit($1, $2)",
        lambda r: r.audit_days,
    ),
    # Web sessions end within 12 hours and sign-in failures count for 15 minutes: a day is plenty.
    Purge(
        "intake.web_sessions",
        "DELETE FROM intake.web_sessions WHERE id_sha256 IN "
        "(SELECT id_sha256 FROM intake.web_sessions WHERE seen_at < $1 LIMIT $2) RETURNING id_sha256",
        lambda r: 1.0,
    ),
    Purge(
        "intake.web_sign_in_failures",
        "DELETE FROM intake.web_sign_in_failures WHERE ctid IN "
        "(SELECT ctid FROM intake.web_sign_in_failures WHERE at < $1 LIMIT $2) RETURNING at",
        lambda r: 1.0,
    ),
)


# A child's rows in intake, for export and erasure (shared/child_data.py). The audit trail keeps its
# records of who read and wrote, with the child replaced by a pseudonym.
CHILD_ROWS = (
    ChildTable("intake.events", "t.child_key = $1"),
    ChildTable("intake.assignments", "t.child_key = $1"),
    ChildTable("intake.episodes", "t.child_key = $1"),
    ChildTable("intake.tasks", "t.child_key = $1"),
    ChildTable("intake.alerts", "t.child_key = $1"),
    ChildTable("intake.child_sequences", "t.child_key = $1"),
    ChildTable("intake.outbox", "t.key = $1"),
    ChildTable("intake.audit", "t.child_key = $1", erase="pseudonymise"),
)


async def write_read_model(conn: Connection, batches: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
    """Write a batch's read-model rows: for each kind (a statement below), its rows in order."""
    for statement, rows in batches:
        if rows:
            await conn.executemany(statement, rows)


def reader_of_authority(code: str) -> str:
    """How the pages' numbers name a council (its coordinators' board follows it)."""
    return f"authority:{code}"


def reader_of_provider(org_id: str) -> str:
    """How the pages' numbers name a provider (its workers' worklist follows it)."""
    return f"provider:{org_id}"


# Move on the pages' numbers of the readers a batch concerns, and of the providers holding its tasks
# (an updated referral is theirs to see), in one order (so two batches cannot wait on each other).
BUMP_READERS = """
INSERT INTO intake.web_versions (reader, version)
SELECT reader, 1 FROM (
    SELECT unnest($1::text[])
    UNION SELECT 'provider:' || provider_id FROM intake.assignments WHERE task_id = ANY($2::text[])
) AS r(reader)
ORDER BY reader
ON CONFLICT (reader) DO UPDATE SET version = intake.web_versions.version + 1
"""


async def bump_readers(conn: Connection, readers: set[str], task_ids: set[str]) -> None:
    """Tell the pages of these readers (and of the providers holding these tasks) that they changed."""
    if readers or task_ids:
        await conn.execute(BUMP_READERS, sorted(readers), sorted(task_ids))


# A period's figures: a later count replaces an earlier one, never the other way round (a repeat of
# the same event changes nothing, so these events need no inbox).
UPSERT_FIGURES = """
INSERT INTO intake.figures (authority, period, kind, first_day, last_day, as_of, figures)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (authority, period) DO UPDATE SET
    kind = EXCLUDED.kind, first_day = EXCLUDED.first_day, last_day = EXCLUDED.last_day,
    as_of = EXCLUDED.as_of, figures = EXCLUDED.figures
WHERE intake.figures.as_of < EXCLUDED.as_of
"""


# Facts of one child arrive in order, but a later status never goes back to an earlier one:
# offered < accepted < declined/expired.
UPSERT_ASSIGNMENT = """
INSERT INTO intake.assignments
    (assignment_id, provider_id, child_key, task_id, status, updated_at, accept_by, assigned_at, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (assignment_id) DO UPDATE SET
    status = CASE
        WHEN (CASE EXCLUDED.status WHEN 'offered' THEN 1 WHEN 'accepted' THEN 2 ELSE 3 END)
           > (CASE intake.assignments.status WHEN 'offered' THEN 1 WHEN 'accepted' THEN 2 ELSE 3 END)
        THEN EXCLUDED.status ELSE intake.assignments.status END,
    updated_at = GREATEST(intake.assignments.updated_at, EXCLUDED.updated_at),
    accept_by = COALESCE(intake.assignments.accept_by, EXCLUDED.accept_by),
    assigned_at = COALESCE(intake.assignments.assigned_at, EXCLUDED.assigned_at),
    reason = COALESCE(EXCLUDED.reason, intake.assignments.reason)
"""

INSERT_EPISODE = """
INSERT INTO intake.episodes (episode_id, child_key, placement_authority, kind, started_at, risk_level)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (episode_id) DO NOTHING
"""

# episode.changed: the episode as it stands now (a child's events arrive in order).
REVISE_EPISODE = """
UPDATE intake.episodes SET placement_authority = $2, kind = $3, started_at = $4, risk_level = $5,
    ended_at = $6, end_reason = $7, exploitation_indicators = $8, preferred_language = $9
WHERE episode_id = $1
"""

# interview.requested carries everything; a window.* event seen first fills what it knows.
UPSERT_TASK = """
INSERT INTO intake.tasks
    (task_id, child_key, episode_id, placement_authority, returned_at, offer_due_at,
     risk_level, exploitation_indicators, preferred_language, episode_ids)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, jsonb_build_array($3::text))
ON CONFLICT (task_id) DO UPDATE SET
    risk_level = COALESCE(EXCLUDED.risk_level, intake.tasks.risk_level),
    exploitation_indicators = CASE WHEN EXCLUDED.risk_level IS NULL
        THEN intake.tasks.exploitation_indicators ELSE EXCLUDED.exploitation_indicators END,
    preferred_language = COALESCE(EXCLUDED.preferred_language, intake.tasks.preferred_language)
"""

# interview.updated: the task's latest window and what the provider is told.
REVISE_TASK = """
UPDATE intake.tasks SET episode_id = $2, placement_authority = $3, returned_at = $4, offer_due_at = $5,
    risk_level = $6, exploitation_indicators = $7, preferred_language = $8, episode_ids = $9
WHERE task_id = $1
"""
CLOSE_TASK = "UPDATE intake.tasks SET closed_reason = $2 WHERE task_id = $1"

ADD_WARNING = """
UPDATE intake.tasks SET warnings = warnings || to_jsonb($2::text)
WHERE task_id = $1 AND NOT warnings ? $2
"""

SET_BREACHED = "UPDATE intake.tasks SET breached_at = COALESCE(breached_at, $2) WHERE task_id = $1"

INSERT_ALERT = """
INSERT INTO intake.alerts (event_key, child_key, episode_id, alert_type, raised_at, details)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (event_key) DO NOTHING
"""

SELECT_EPISODES = """
SELECT episode_id, placement_authority, kind, started_at, risk_level, ended_at, end_reason,
       exploitation_indicators, preferred_language
FROM intake.episodes WHERE child_key = $1 ORDER BY started_at, episode_id
"""
SELECT_TASKS = """
SELECT task_id, episode_id, episode_ids, placement_authority, returned_at, offer_due_at, risk_level,
       exploitation_indicators, preferred_language, warnings, breached_at, closed_reason
FROM intake.tasks WHERE child_key = $1 ORDER BY returned_at, task_id
"""
SELECT_ASSIGNMENTS = """
SELECT assignment_id, provider_id, task_id, status, accept_by, assigned_at, updated_at, reason
FROM intake.assignments WHERE child_key = $1 ORDER BY assigned_at NULLS LAST, assignment_id
"""
SELECT_ALERTS = """
SELECT episode_id, alert_type, raised_at, details
FROM intake.alerts WHERE child_key = $1 ORDER BY raised_at, event_key
"""
SELECT_KNOWN = "SELECT EXISTS (SELECT 1 FROM intake.events WHERE child_key = $1)"
# The caller's missing reports and its withdrawals of them, oldest first.
SELECT_POLICE_REPORTS = """
SELECT event_id, missing_since, received_at, withdraws FROM intake.events
WHERE child_key = $1 AND org_id = $2 AND (missing_since IS NOT NULL OR withdraws IS NOT NULL)
ORDER BY received_at, event_id
"""


@dataclass(frozen=True)
class ChildRows:
    """Everything intake knows about one child, before access rules are applied, and what the caller
    itself reported about the child."""

    episodes: list[dict[str, Any]]
    tasks: list[dict[str, Any]]
    assignments: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    known: bool  # read from the topics, or sent to intake
    reported_by_caller: list[tuple[datetime, datetime]]  # (missing_since, received_at) of its reports
    # not withdrawn by id; and when it withdrew its reports of the absence then open
    withdrawn_by_caller: list[datetime] = field(default_factory=list)


@translated
async def child_rows(pool: Pool, child_key: str, caller: str) -> ChildRows:
    """Read one child's episodes, tasks, assignments and alerts, whether intake knows the child, and
    the missing reports `caller` sent about it. The same six statements whoever asks and whatever
    the answer, so a child nobody may see and a child that does not exist take the same time."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        episodes = [dict(r) for r in await conn.fetch(SELECT_EPISODES, child_key)]
        tasks = [dict(r) for r in await conn.fetch(SELECT_TASKS, child_key)]
        assignments = [dict(r) for r in await conn.fetch(SELECT_ASSIGNMENTS, child_key)]
        alerts = [dict(r) for r in await conn.fetch(SELECT_ALERTS, child_key)]
        sent = bool(await conn.fetchval(SELECT_KNOWN, child_key))
        reports = await conn.fetch(SELECT_POLICE_REPORTS, child_key, caller)
    withdrawn = {row["withdraws"] for row in reports if row["withdraws"] not in (None, "*")}
    return ChildRows(
        episodes=episodes,
        tasks=tasks,
        assignments=assignments,
        alerts=alerts,
        known=sent or bool(episodes or tasks or assignments or alerts),
        reported_by_caller=[
            (row["missing_since"], row["received_at"])
            for row in reports
            if row["missing_since"] is not None and row["event_id"] not in withdrawn
        ],
        withdrawn_by_caller=[row["received_at"] for row in reports if row["withdraws"] == "*"],
    )


@translated
async def record_access(
    pool: Pool, at: datetime, org_id: str, api_key_id: str, action: str, child_key: str | None
) -> None:
    """Write a read (`read:child`, `read:audit`) or a refused attempt (`refused:<status>:<problem>`) to
    the audit trail: who, what, which child if any, when; never what was sent or seen."""
    await pool.execute(INSERT_AUDIT, at, org_id, api_key_id, action, child_key, None)


SELECT_AUDIT = """
SELECT seq, at, org_id, api_key_id, action, child_key, event_id FROM intake.audit
WHERE ($1::text IS NULL OR child_key = $1)
  AND ($2::text IS NULL OR org_id = $2)
  AND ($3::bigint IS NULL OR seq < $3)
ORDER BY seq DESC LIMIT $4
"""


@translated
async def audit_page(
    pool: Pool, *, child_key: str | None, org_id: str | None, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """The newest audit records first, optionally for one child or one organisation, before a cursor."""
    return [dict(r) for r in await pool.fetch(SELECT_AUDIT, child_key, org_id, before, limit)]
