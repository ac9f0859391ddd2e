"""Reading the figures' records from the scheduler's read models (`scheduler.episodes`,
`scheduler.interview_tasks`) and from the record of what it published (`scheduler.emitted`)."""

from datetime import datetime

import asyncpg

from services.scheduler.report.figures import EpisodeRecord, Period, TaskRecord

# Episodes of one responsible authority that began in the period, with their task's interview.
SELECT_EPISODES = """
SELECT e.episode_id::text AS episode_id, e.child_key, e.responsible_authority, e.placement_authority,
    e.started_at, e.ended_at, e.end_reason, e.offered_at, e.declined_at, e.attempted_at, e.not_offered_at,
    e.not_offered_reason, t.completed_at, t.outcome
FROM scheduler.episodes e
LEFT JOIN scheduler.interview_tasks t ON t.task_id = e.task_id
WHERE e.responsible_authority = $1 AND e.started_at >= $2 AND e.started_at < $3
"""
# Tasks placed in time by the first episode they cover.
SELECT_TASKS = """
SELECT t.task_id::text AS task_id, e.responsible_authority, e.started_at, t.accepted_at IS NOT NULL AS accepted
FROM scheduler.interview_tasks t
JOIN scheduler.episodes e ON e.episode_id = t.episode_ids[1]
WHERE e.responsible_authority = $1 AND e.started_at >= $2 AND e.started_at < $3
"""
# Alerts published for the authority's children. The emitted key is `<kind>:<episode id>`, except an
# exploitation alert from an interview, keyed by its task: that one belongs to the task's first episode.
SELECT_ALERTS = """
SELECT em.type,
    CASE WHEN em.key LIKE 'exploitation_interview:%' THEN t.episode_ids[1]::text
         ELSE split_part(em.key, ':', 2) END AS episode_id
FROM scheduler.emitted em
LEFT JOIN scheduler.interview_tasks t
    ON em.key LIKE 'exploitation_interview:%' AND t.task_id::text = split_part(em.key, ':', 2)
WHERE em.type = ANY($2::text[]) AND starts_with(em.child_key, $1 || '/')
"""
ALERT_TYPES = ["window.breached", "alert.repeat_missing", "alert.exploitation"]


# What a report says when the database cannot be read.
UNREACHABLE = (OSError, asyncpg.PostgresError)


async def records(dsn: str, authority: str, period: Period) -> tuple[list[EpisodeRecord], list[TaskRecord]]:
    """The authority's episodes and tasks that began in the period, read on a connection of its own."""
    conn = await asyncpg.connect(dsn)
    try:
        return await load_records(conn, authority, period)
    finally:
        await conn.close()


async def load_records(
    conn: asyncpg.Connection, authority: str, period: Period
) -> tuple[list[EpisodeRecord], list[TaskRecord]]:
    """The authority's episodes and tasks that began in the period."""
    alerts: dict[str, list[str]] = {}
    for row in await conn.fetch(SELECT_ALERTS, authority, ALERT_TYPES):
        alerts.setdefault(row["episode_id"], []).append(row["type"])
    episodes = [
        _episode(row, alerts.get(row["episode_id"], []))
        for row in await conn.fetch(SELECT_EPISODES, authority, period.start, period.end)
    ]
    tasks = [
        TaskRecord(row["task_id"], row["responsible_authority"], row["started_at"], row["accepted"])
        for row in await conn.fetch(SELECT_TASKS, authority, period.start, period.end)
    ]
    return episodes, tasks


def _episode(row: asyncpg.Record, alerts: list[str]) -> EpisodeRecord:
    end_reason: str = row["end_reason"] or ""
    returned = end_reason == "returned"
    interviewed: datetime | None = row["completed_at"] if returned and row["outcome"] == "completed" else None
    return EpisodeRecord(
        episode_id=row["episode_id"],
        child_key=row["child_key"],
        responsible_authority=row["responsible_authority"],
        placement_authority=row["placement_authority"],
        started_at=row["started_at"],
        cancelled=end_reason.startswith("cancelled"),
        returned_at=row["ended_at"] if returned else None,
        offered_at=row["offered_at"],
        interviewed_at=interviewed,
        breach_alert="window.breached" in alerts,
        repeat_alert="alert.repeat_missing" in alerts,
        exploitation_alerts=alerts.count("alert.exploitation"),
        declined_at=row["declined_at"],
        attempted_at=row["attempted_at"],
        not_offered_at=row["not_offered_at"],
        not_offered_reason=row["not_offered_reason"],
    )
