"""The web pages' SQL: sessions, chosen passwords and failed sign-ins; and what the coordinator's board
and the provider's worklist read from intake's read model (the same tables the API reads)."""

from datetime import datetime, timedelta
from typing import Any, TypeAlias

import asyncpg

Pool: TypeAlias = asyncpg.Pool


# A session still live at $2: used within the idle time ($3) and begun within the longest ($4).
_LIVE = "id_sha256 = $1 AND seen_at > $2::timestamptz - $3::interval AND created_at > $2::timestamptz - $4::interval"
USE_SESSION = f"UPDATE intake.web_sessions SET seen_at = $2 WHERE {_LIVE} RETURNING org_id, person_id, csrf"  # noqa: S608  # fixed text
SESSION_LIVE = f"SELECT true FROM intake.web_sessions WHERE {_LIVE}"  # noqa: S608  # fixed text


async def create_session(
    pool: Pool, id_sha256: str, org_id: str, person_id: str, csrf: str, now: datetime
) -> None:
    await pool.execute(
        "INSERT INTO intake.web_sessions (id_sha256, org_id, person_id, csrf, created_at, seen_at)"
        " VALUES ($1, $2, $3, $4, $5, $5)",
        id_sha256, org_id, person_id, csrf, now,
    )  # fmt: skip


async def session(pool: Pool, id_sha256: str, now: datetime, idle: timedelta, longest: timedelta) -> Any:
    """The live session with this id (its last use moved to now), or None."""
    return await pool.fetchrow(USE_SESSION, id_sha256, now, idle, longest)


async def session_live(
    pool: Pool, id_sha256: str, now: datetime, idle: timedelta, longest: timedelta
) -> bool:
    """Whether the session is live, without counting this as its use (a page's poll is not a person)."""
    return bool(await pool.fetchval(SESSION_LIVE, id_sha256, now, idle, longest))


async def end_sessions_of(pool: Pool, org_id: str, person_id: str, keep: str) -> None:
    """End every other session of a person (their password changed)."""
    await pool.execute(
        "DELETE FROM intake.web_sessions WHERE org_id = $1 AND person_id = $2 AND id_sha256 <> $3",
        org_id, person_id, keep,
    )  # fmt: skip


async def end_session(pool: Pool, id_sha256: str) -> None:
    await pool.execute("DELETE FROM intake.web_sessions WHERE id_sha256 = $1", id_sha256)


async def chosen_password(pool: Pool, org_id: str, person_id: str, issued: str) -> str | None:
    """The password the person chose after signing in with the one-time password whose hash is
    `issued` (the directory's): a new one-time password (`mtp people add` again) sets it aside."""
    value: str | None = await pool.fetchval(
        "SELECT password_argon2 FROM intake.web_passwords WHERE org_id = $1 AND person_id = $2"
        " AND issued_argon2 = $3",
        org_id, person_id, issued,
    )  # fmt: skip
    return value


async def choose_password(
    pool: Pool, org_id: str, person_id: str, issued: str, argon2: str, now: datetime
) -> None:
    await pool.execute(
        "INSERT INTO intake.web_passwords (org_id, person_id, password_argon2, changed_at, issued_argon2)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, person_id)"
        " DO UPDATE SET password_argon2 = EXCLUDED.password_argon2, changed_at = EXCLUDED.changed_at,"
        " issued_argon2 = EXCLUDED.issued_argon2",
        org_id, person_id, argon2, now, issued,
    )  # fmt: skip


async def failures(pool: Pool, subjects: list[str], since: datetime) -> dict[str, int]:
    rows = await pool.fetch(
        "SELECT subject, count(*) AS n FROM intake.web_sign_in_failures"
        " WHERE subject = ANY($1::text[]) AND at > $2 GROUP BY subject",
        subjects, since,
    )  # fmt: skip
    return {row["subject"]: row["n"] for row in rows}


async def record_failure(pool: Pool, subjects: list[str], now: datetime) -> None:
    await pool.execute(
        "INSERT INTO intake.web_sign_in_failures (subject, at) SELECT unnest($1::text[]), $2", subjects, now
    )


async def clear_failures(pool: Pool, subject: str) -> None:
    await pool.execute("DELETE FROM intake.web_sign_in_failures WHERE subject = $1", subject)


async def version(pool: Pool) -> str:
    """Changes whenever the read model takes in an event: a page showing it may be out of date."""
    value = await pool.fetchval("SELECT max(applied_at) FROM intake.applied")
    return value.isoformat() if value else ""


BOARD_MISSING = """
SELECT e.episode_id, e.child_key, e.placement_authority, e.kind, e.started_at, e.risk_level,
       e.exploitation_indicators
FROM intake.episodes e
WHERE e.child_key LIKE $1 AND e.ended_at IS NULL
ORDER BY e.started_at
"""
# Open return-interview windows, each with its latest assignment (who holds it), soonest due first.
_WINDOWS = """
SELECT t.task_id, t.child_key, t.placement_authority, t.returned_at, t.offer_due_at, t.risk_level,
       t.preferred_language, t.breached_at, t.warnings,
       a.provider_id, a.status AS assignment_status
FROM intake.tasks t
LEFT JOIN LATERAL (
    SELECT provider_id, status FROM intake.assignments
    WHERE task_id = t.task_id ORDER BY assigned_at DESC NULLS LAST, updated_at DESC LIMIT 1
) a ON true
WHERE t.closed_reason IS NULL AND (a.status IS NULL OR a.status <> 'completed') AND {which}
ORDER BY t.offer_due_at
LIMIT $2
"""
BOARD_WINDOWS = _WINDOWS.format(which="t.child_key LIKE $1")  # the council's own children
HOSTED_WINDOWS = _WINDOWS.format(  # children of other councils placed in its area
    which="t.placement_authority = $3 AND t.child_key NOT LIKE $1"
)
BOARD_ALERTS = """
SELECT a.event_key, a.child_key, a.episode_id, a.alert_type, a.raised_at,
       k.person_id AS acknowledged_by, k.at AS acknowledged_at
FROM intake.alerts a LEFT JOIN intake.web_alert_acknowledgements k ON k.event_key = a.event_key
WHERE a.child_key LIKE $1 ORDER BY a.raised_at DESC LIMIT $2
"""
BOARD_EXHAUSTED = """
SELECT a.child_key, a.details, a.raised_at, t.offer_due_at
FROM intake.alerts a JOIN intake.tasks t ON t.task_id = a.details->>'task_id'
WHERE a.child_key LIKE $1 AND a.alert_type = 'assignment.exhausted' AND t.closed_reason IS NULL
  AND NOT EXISTS (
      SELECT 1 FROM intake.assignments s
      WHERE s.task_id = t.task_id AND s.status IN ('offered', 'accepted', 'completed')
        AND s.updated_at > a.raised_at)
ORDER BY a.raised_at DESC
LIMIT $2
"""


async def board(pool: Pool, authority: str, limit: int = 500) -> dict[str, list[dict[str, Any]]]:
    """A council's children missing now, their open return-interview windows (soonest to close
    first) with who holds each, its newest alerts; and the windows of children placed in its area."""
    own = f"{authority}/%"
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        return {
            "missing": [dict(r) for r in await conn.fetch(BOARD_MISSING, own)],
            "windows": [dict(r) for r in await conn.fetch(BOARD_WINDOWS, own, limit)],
            "alerts": [dict(r) for r in await conn.fetch(BOARD_ALERTS, own, 50)],
            "exhausted": [dict(r) for r in await conn.fetch(BOARD_EXHAUSTED, own, 200)],
            "hosted": [dict(r) for r in await conn.fetch(HOSTED_WINDOWS, own, limit, authority)],
        }


WORKLIST = """
SELECT a.assignment_id, a.status, a.accept_by, a.child_key, t.placement_authority, t.returned_at,
       t.offer_due_at, t.risk_level, t.exploitation_indicators, t.preferred_language,
       EXISTS (SELECT 1 FROM intake.events e WHERE e.org_id = a.provider_id
               AND e.event_id = 'web-offered-' || a.assignment_id) AS offered
FROM intake.assignments a JOIN intake.tasks t ON t.task_id = a.task_id
WHERE a.provider_id = $1 AND a.status IN ('offered', 'accepted')
ORDER BY a.status DESC, coalesce(a.accept_by, t.offer_due_at)
"""


async def worklist(pool: Pool, provider_id: str) -> list[dict[str, Any]]:
    """A provider's assignments waiting for an answer, and those it holds."""
    return [dict(r) for r in await pool.fetch(WORKLIST, provider_id)]


async def holds(pool: Pool, provider_id: str, assignment_id: str) -> bool:
    """Whether the provider holds (or is offered) this assignment now."""
    return bool(
        await pool.fetchval(
            "SELECT true FROM intake.assignments WHERE assignment_id = $1 AND provider_id = $2"
            " AND status IN ('offered', 'accepted')",
            assignment_id,
            provider_id,
        )
    )


async def acknowledge(
    pool: Pool, event_key: str, authority: str, org_id: str, person_id: str, now: datetime
) -> str | None:
    """Record that a person acknowledged one of their council's alerts (the first acknowledgement
    stands); return the alert's child, or None if there is no such alert of that council's children."""
    await pool.execute(
        "INSERT INTO intake.web_alert_acknowledgements (event_key, org_id, person_id, at)"
        " SELECT event_key, $3, $4, $5 FROM intake.alerts WHERE event_key = $1 AND child_key LIKE $2"
        " ON CONFLICT (event_key) DO NOTHING",
        event_key, f"{authority}/%", org_id, person_id, now,
    )  # fmt: skip
    child: str | None = await pool.fetchval(
        "SELECT child_key FROM intake.alerts WHERE event_key = $1 AND child_key LIKE $2",
        event_key,
        f"{authority}/%",
    )
    return child


async def reports(pool: Pool, child_key: str) -> list[dict[str, Any]]:
    """What each organisation sent about the child: the event's type, who, when (never its content);
    the newest 500, oldest first."""
    rows = await pool.fetch(
        "SELECT event_type, org_id, received_at FROM intake.events WHERE child_key = $1"
        " ORDER BY received_at DESC, event_id DESC LIMIT 500",
        child_key,
    )
    return [dict(r) for r in reversed(rows)]
