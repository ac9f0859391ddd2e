"""The web pages' SQL: sessions, chosen passwords and failed sign-ins; and what the coordinator's board
and the provider's worklist read from intake's read model (the same tables the API reads)."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeAlias

import asyncpg

from services.intake.read_model.store import reader_of_authority
from shared.contracts.figures import FiguresPublished

Pool: TypeAlias = asyncpg.Pool


# A session still live at $2: used within the idle time ($3) and begun within the longest ($4).
_LIVE = "id_sha256 = $1 AND seen_at > $2::timestamptz - $3::interval AND created_at > $2::timestamptz - $4::interval"
_SESSION = "org_id, person_id, csrf, issued_sha256, with_one_time_password, viewed"
USE_SESSION = f"UPDATE intake.web_sessions SET seen_at = $2 WHERE {_LIVE} RETURNING {_SESSION}"  # noqa: S608  # fixed text
PEEK_SESSION = f"SELECT {_SESSION} FROM intake.web_sessions WHERE {_LIVE}"  # noqa: S608  # fixed text


async def create_session(
    pool: Pool,
    id_sha256: str,
    org_id: str,
    person_id: str,
    csrf: str,
    now: datetime,
    *,
    issued_sha256: str,
    with_one_time_password: bool,
) -> None:
    await pool.execute(
        "INSERT INTO intake.web_sessions (id_sha256, org_id, person_id, csrf, created_at, seen_at,"
        " issued_sha256, with_one_time_password) VALUES ($1, $2, $3, $4, $5, $5, $6, $7)",
        id_sha256, org_id, person_id, csrf, now, issued_sha256, with_one_time_password,
    )  # fmt: skip


async def session(
    pool: Pool, id_sha256: str, now: datetime, idle: timedelta, longest: timedelta, *, use: bool
) -> Any:
    """The live session with this id, or None; with `use`, its last use moves to now (a person acted:
    a page's poll, or its fetching itself again to show what changed, is not a person)."""
    return await pool.fetchrow(USE_SESSION if use else PEEK_SESSION, id_sha256, now, idle, longest)


async def viewed(pool: Pool, id_sha256: str, path: str) -> None:
    """Remember the page the session looked at last (its view is in the audit trail)."""
    await pool.execute("UPDATE intake.web_sessions SET viewed = $2 WHERE id_sha256 = $1", id_sha256, path)


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


async def attempt(
    pool: Pool,
    subjects: list[str],
    *,
    since: datetime,
    now: datetime,
    wait: Callable[[dict[str, tuple[int, datetime]]], timedelta],
) -> timedelta:
    """Count an attempt against each subject unless `wait`, given the attempts since `since` (how many,
    the latest, per subject), says it must wait; return that wait. The subjects are locked in order for
    the transaction, so attempts at once are counted one after the other."""
    async with pool.acquire() as conn, conn.transaction():
        for subject in sorted(subjects):
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", subject)
        rows = await conn.fetch(
            "SELECT subject, count(*) AS n, max(at) AS latest FROM intake.web_sign_in_failures"
            " WHERE subject = ANY($1::text[]) AND at > $2 GROUP BY subject",
            subjects, since,
        )  # fmt: skip
        waiting = wait({row["subject"]: (row["n"], row["latest"]) for row in rows})
        if waiting <= timedelta():
            await conn.execute(
                "INSERT INTO intake.web_sign_in_failures (subject, at) SELECT unnest($1::text[]), $2",
                subjects, now,
            )  # fmt: skip
        return waiting


async def forget_attempts(pool: Pool, subjects: list[str], one_of: str, at: datetime) -> None:
    """Forget every attempt against `subjects`, and the one made `at` against `one_of`."""
    await pool.execute(
        "DELETE FROM intake.web_sign_in_failures WHERE subject = ANY($1::text[]) OR ctid = ("
        " SELECT ctid FROM intake.web_sign_in_failures WHERE subject = $2 AND at = $3 LIMIT 1)",
        subjects, one_of, at,
    )  # fmt: skip


BUMP_READER = """
INSERT INTO intake.web_versions (reader, version) VALUES ($1, 1)
ON CONFLICT (reader) DO UPDATE SET version = intake.web_versions.version + 1
"""


async def version(pool: Pool, reader: str) -> str:
    """Changes whenever what the reader's pages show may have changed (intake's store names readers);
    the same on a system that knows nothing of them yet, until it does."""
    value = await pool.fetchval("SELECT version FROM intake.web_versions WHERE reader = $1", reader)
    return f"v{value or 0}"


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


# What the council's children said that it has not answered yet, soonest due first (docs/domain.md
# rule 31): the codes only, the child's words stay on the child's page.
BOARD_HEARD = """
SELECT f.findings_id, f.child_key, f.completed_at, f.respond_by, f.findings->'reasons' AS reasons
FROM intake.findings f
WHERE f.child_key LIKE $1 AND NOT EXISTS (SELECT 1 FROM intake.responses r WHERE r.findings_id = f.findings_id)
ORDER BY f.respond_by, f.findings_id LIMIT $2
"""


async def board(pool: Pool, authority: str, limit: int = 500) -> dict[str, list[dict[str, Any]]]:
    """A council's children missing now, their open return-interview windows (soonest to close
    first) with who holds each, its newest alerts, what its children said that it has not answered;
    and the windows of children placed in its area."""
    own = f"{authority}/%"
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        return {
            "missing": [dict(r) for r in await conn.fetch(BOARD_MISSING, own)],
            "windows": [dict(r) for r in await conn.fetch(BOARD_WINDOWS, own, limit)],
            "alerts": [dict(r) for r in await conn.fetch(BOARD_ALERTS, own, 50)],
            "exhausted": [dict(r) for r in await conn.fetch(BOARD_EXHAUSTED, own, 200)],
            "hosted": [dict(r) for r in await conn.fetch(HOSTED_WINDOWS, own, limit, authority)],
            "heard": [dict(r) for r in await conn.fetch(BOARD_HEARD, own, limit)],
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
    if child is not None:  # the other coordinators' boards show who acknowledged it
        await pool.execute(BUMP_READER, reader_of_authority(authority))
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


SELECT_FIGURES = """
SELECT authority, period, kind, first_day, last_day, as_of, figures
FROM intake.figures WHERE authority = $1
ORDER BY first_day DESC, last_day DESC
"""


async def published_figures(pool: Pool, authority: str) -> list[FiguresPublished]:
    """Every period's figures for the authority as the scheduler last published them, newest first."""
    return [
        FiguresPublished.model_validate(
            {
                **{k: row[k] for k in ("authority", "period", "kind", "first_day", "last_day", "as_of")},
                **row["figures"],
            }
        )
        for row in await pool.fetch(SELECT_FIGURES, authority)
    ]
