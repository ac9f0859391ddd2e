"""The read model's SQL: what the projection writes from the topics (tasks, assignments, episodes,
alerts, figures), the events it has applied, and the pages' numbers it moves."""

from typing import Any

from services.intake.store.base import Connection
from shared.inbox import Inbox

# Every topic event the read model has applied (shared/inbox.py).
INBOX = Inbox("intake.applied", "applied_at")


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
