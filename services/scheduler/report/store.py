"""Reading the figures from the scheduler's read models (`scheduler.episodes`,
`scheduler.interview_tasks`) and from the record of what it published (`scheduler.emitted`): as
per-episode records for `mtp report`, or counted by PostgreSQL a month at a time for the figures loop
(the same counting as `figures.compute`, which a test holds them to)."""

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import asyncpg

from services.scheduler.report.figures import EpisodeRecord, Figures, Period, Records, TaskRecord
from services.scheduler.report.voice import FindingsRecord, VoiceRules

# The figures counted by code (a JSON object each in SQL).
BREAKDOWNS = (
    "not_offered_by_reason",
    "reasons_in_area",
    "reasons_out_of_area",
    "placement_views",
    "nrm_decisions",
)

# Whether a return at which the child was arrested ended an episode (the row `episode`): the arrest's
# episode is the child's latest begun by then, as for the victim alert.
ENDED_BY_ARREST = """EXISTS (
        SELECT 1 FROM scheduler.arrests a
        CROSS JOIN LATERAL (
            SELECT x.episode_id FROM scheduler.episodes x
            WHERE x.child_key = a.child_key AND x.started_at <= a.returned_at
            ORDER BY x.started_at DESC, x.episode_id DESC LIMIT 1
        ) ended
        WHERE a.child_key = {episode}.child_key AND ended.episode_id = {episode}.episode_id
    )"""
# Episodes of one responsible authority that began in the period, with their task's interview, the
# first NRM decision recorded for them, and whether a return at which the child was arrested ended them
# (the arrest's episode: the child's latest begun by then, as for the victim alert).
SELECT_EPISODES = f"""
SELECT e.episode_id::text AS episode_id, e.child_key, e.responsible_authority, e.placement_authority,
    e.started_at, e.ended_at, e.end_reason, e.offered_at, e.declined_at, e.attempted_at, e.not_offered_at,
    e.not_offered_reason, t.completed_at, t.outcome, n.decision AS nrm_decision,
    {ENDED_BY_ARREST.format(episode="e")} AS arrested
FROM scheduler.episodes e
LEFT JOIN scheduler.interview_tasks t ON t.task_id = e.task_id
LEFT JOIN scheduler.nrm n ON n.episode_id = e.episode_id::text
WHERE e.responsible_authority = $1 AND e.started_at >= $2 AND e.started_at < $3
"""  # noqa: S608  # constant fragments, no input
# The placement (`o.placement_authority`) of the episode the findings `f` followed, as it stands: the
# child's latest begun by the interview, as the voice finds it.
PLACED_WHEN_HEARD = """LEFT JOIN LATERAL (
    SELECT x.placement_authority FROM scheduler.episodes x
    WHERE x.child_key = f.child_key AND x.started_at <= f.completed_at
    ORDER BY x.started_at DESC, x.episode_id DESC LIMIT 1
) o ON true"""
# The findings of the authority's children's interviews held in [$2, $3), each placed in or out of
# area by the episode it followed as that stands (the child's latest begun by then).
SELECT_FINDINGS = f"""
SELECT f.findings_id, f.child_key, f.responsible_authority,
    coalesce(o.placement_authority, f.responsible_authority) AS placement_authority,
    f.completed_at, f.reasons, f.placement_view
FROM scheduler.findings f
{PLACED_WHEN_HEARD}
WHERE f.responsible_authority = $1 AND f.completed_at >= $2 AND f.completed_at < $3
"""  # noqa: S608  # constant fragments, no input
SELECT_ANSWERS = """
SELECT findings_id, responded_at, child_told FROM scheduler.findings_responses
WHERE findings_id = ANY($1::text[])
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

# One month's figures (`figures.compute`, in SQL) for authority $1, episodes begun in [$2, $3), windows of
# $5 judged at $4. Alerts are found by the episode's id, or, for an interview's exploitation alert, by
# its task's (counted for the task's first episode).
MONTH_FIGURES = f"""
WITH mine AS (
    SELECT e.episode_id, e.child_key, e.placement_authority <> e.responsible_authority AS out_of_area,
        r.returned_at, r.returned_at + $5::interval AS due, least(r.returned_at + $5::interval, $4) AS by,
        e.offered_at, e.declined_at, e.attempted_at, e.not_offered_at, e.not_offered_reason,
        CASE WHEN r.returned_at IS NOT NULL AND t.outcome = 'completed' THEN t.completed_at END AS interviewed_at,
        n.decision AS nrm_decision
    FROM scheduler.episodes e
    CROSS JOIN LATERAL (SELECT CASE WHEN e.end_reason = 'returned' THEN e.ended_at END AS returned_at) r
    LEFT JOIN scheduler.interview_tasks t ON t.task_id = e.task_id
    LEFT JOIN scheduler.nrm n ON n.episode_id = e.episode_id::text
    WHERE e.responsible_authority = $1 AND e.started_at >= $2 AND e.started_at < $3
        AND coalesce(e.end_reason, '') NOT LIKE 'cancelled%'
),
judged AS (
    SELECT m.*, m.returned_at IS NOT NULL AND m.due <= $4 AS closed,
        coalesce(m.offered_at <= m.by, false) AS offered,
        coalesce(m.returned_at <= m.interviewed_at AND m.interviewed_at <= m.by, false) AS completed,
        coalesce(least(m.declined_at, m.not_offered_at) <= m.by, false) AS settled
    FROM mine m
),
alerts AS (
    SELECT em.type, split_part(em.key, ':', 2) AS episode_id FROM scheduler.emitted em
    WHERE split_part(em.key, ':', 2) = ANY(ARRAY(SELECT episode_id::text FROM mine))
        AND em.type = ANY($6::text[]) AND em.key NOT LIKE 'exploitation_interview:%'
    UNION ALL
    SELECT em.type, t.episode_ids[1]::text FROM scheduler.interview_tasks t
    JOIN scheduler.emitted em ON split_part(em.key, ':', 2) = t.task_id::text
    WHERE t.episode_ids[1] = ANY(ARRAY(SELECT episode_id FROM mine)) AND em.key LIKE 'exploitation_interview:%'
),
tasks AS (
    SELECT count(*) AS tasks, count(*) FILTER (WHERE t.accepted_at IS NOT NULL) AS accepted
    FROM scheduler.episodes e JOIN scheduler.interview_tasks t ON t.episode_ids[1] = e.episode_id
    WHERE e.responsible_authority = $1 AND e.started_at >= $2 AND e.started_at < $3
),
exploited AS (
    SELECT m.nrm_decision, {ENDED_BY_ARREST.format(episode="m")} AS arrested
    FROM mine m WHERE m.episode_id::text IN (SELECT episode_id FROM alerts WHERE type = 'alert.exploitation')
)
SELECT
    (SELECT count(*) FROM mine) AS episodes,
    (SELECT count(DISTINCT child_key) FROM mine) AS children,
    (SELECT count(*) FILTER (WHERE NOT out_of_area) FROM mine) AS in_area,
    (SELECT count(*) FILTER (WHERE out_of_area) FROM mine) AS out_of_area,
    count(*) AS returned,
    count(*) FILTER (WHERE closed) AS windows_closed,
    count(*) FILTER (WHERE NOT closed) AS windows_open,
    count(*) FILTER (WHERE closed OR offered OR (settled AND NOT offered)) AS offers_decided,
    count(*) FILTER (WHERE offered) AS offered_within_window,
    count(*) FILTER (WHERE closed OR completed) AS interviews_decided,
    count(*) FILTER (WHERE completed) AS completed_within_window,
    count(*) FILTER (WHERE closed AND NOT offered AND NOT settled) AS breaches,
    (SELECT count(DISTINCT episode_id) FROM alerts WHERE type = 'window.breached') AS breach_alerts,
    count(*) FILTER (WHERE declined_at IS NOT NULL) AS declined,
    count(*) FILTER (WHERE attempted_at IS NOT NULL) AS unable_to_contact,
    count(*) FILTER (WHERE not_offered_at IS NOT NULL) AS not_offered,
    (SELECT tasks FROM tasks) AS tasks,
    (SELECT accepted FROM tasks) AS accepted,
    (SELECT count(DISTINCT episode_id) FROM alerts WHERE type = 'alert.repeat_missing') AS repeat_missing_alerts,
    (SELECT count(*) FROM alerts WHERE type = 'alert.exploitation') AS exploitation_alerts,
    (SELECT count(*) FROM exploited) AS exploitation_episodes,
    (SELECT count(*) FILTER (WHERE arrested) FROM exploited) AS exploitation_arrested,
    (SELECT count(nrm_decision) FROM exploited) AS nrm_decided,
    (SELECT count(*) FILTER (WHERE nrm_decision IS NULL) FROM exploited) AS nrm_undecided,
    coalesce((SELECT jsonb_object_agg(nrm_decision, n) FROM (
        SELECT nrm_decision, count(*) AS n FROM exploited WHERE nrm_decision IS NOT NULL GROUP BY 1) AS d),
        jsonb_build_object()) AS nrm_decisions,
    coalesce((SELECT jsonb_object_agg(reason, n) FROM (
        SELECT coalesce(not_offered_reason, 'unknown') AS reason, count(*) AS n FROM judged
        WHERE returned_at IS NOT NULL AND not_offered_at IS NOT NULL GROUP BY 1) AS reasons), jsonb_build_object()) AS not_offered_by_reason
FROM judged WHERE returned_at IS NOT NULL
"""  # noqa: S608  # constant fragments, no input
# One month's figures of what children said (`voice.count_voice`, in SQL) for authority $1: findings of
# interviews held in [$2, $3), answers known by $4, the time to answer $5, a reason said again when given
# $7 times within $6.
VOICE_MONTH = f"""
WITH heard AS (
    SELECT f.findings_id, f.child_key, f.completed_at, f.reasons, f.placement_view,
        coalesce(o.placement_authority, f.responsible_authority) <> f.responsible_authority AS out_of_area,
        f.completed_at + $5::interval AS due, a.first_at, coalesce(a.told, false) AS told
    FROM scheduler.findings f
    {PLACED_WHEN_HEARD}
    LEFT JOIN LATERAL (
        SELECT min(r.responded_at) AS first_at, bool_or(r.child_told) AS told
        FROM scheduler.findings_responses r WHERE r.findings_id = f.findings_id AND r.responded_at <= $4
    ) a ON true
    WHERE f.responsible_authority = $1 AND f.completed_at >= $2 AND f.completed_at < $3
),
given AS (
    SELECT DISTINCT h.findings_id, h.child_key, h.completed_at, h.out_of_area, g.reason
    FROM heard h CROSS JOIN LATERAL jsonb_array_elements_text(h.reasons) AS g(reason)
)
SELECT
    count(*) AS heard,
    count(*) FILTER (WHERE NOT out_of_area) AS heard_in_area,
    count(*) FILTER (WHERE out_of_area) AS heard_out_of_area,
    coalesce((SELECT jsonb_object_agg(reason, n) FROM (
        SELECT reason, count(*) AS n FROM given WHERE NOT out_of_area GROUP BY 1) AS r), jsonb_build_object()) AS reasons_in_area,
    coalesce((SELECT jsonb_object_agg(reason, n) FROM (
        SELECT reason, count(*) AS n FROM given WHERE out_of_area GROUP BY 1) AS r), jsonb_build_object()) AS reasons_out_of_area,
    count(*) FILTER (WHERE first_at IS NOT NULL OR due <= $4) AS answers_decided,
    count(*) FILTER (WHERE first_at <= due) AS answered_in_time,
    count(*) FILTER (WHERE first_at > due) AS answered_late,
    count(*) FILTER (WHERE first_at IS NULL AND due <= $4) AS answer_overdue,
    count(*) FILTER (WHERE first_at IS NULL AND due > $4) AS answer_awaited,
    count(*) FILTER (WHERE told) AS child_told,
    (SELECT count(*) FROM given g WHERE (
        SELECT count(*) FROM scheduler.findings o
        WHERE o.child_key = g.child_key AND o.reasons ? g.reason
            AND o.completed_at > g.completed_at - $6::interval AND o.completed_at <= g.completed_at
    ) >= $7) AS said_again,
    coalesce((SELECT jsonb_object_agg(placement_view, n) FROM (
        SELECT placement_view, count(*) AS n FROM heard WHERE out_of_area AND placement_view IS NOT NULL
        GROUP BY 1) AS v), jsonb_build_object()) AS placement_views,
    count(*) FILTER (WHERE out_of_area AND placement_view IN ('move', 'return_home_area')) AS placement_reviews
FROM heard
"""  # noqa: S608  # constant fragments, no input
# The children with an episode (not reported in error) begun in [$2, $3): not a sum of months.
CHILDREN = """
SELECT count(DISTINCT child_key) FROM scheduler.episodes
WHERE responsible_authority = $1 AND started_at >= $2 AND started_at < $3
    AND coalesce(end_reason, '') NOT LIKE 'cancelled%'
"""
# The months (UK time) whose figures may have changed between $1 and $2 that no settle noted in
# `scheduler.figures_changes`: a window closed, a moment stamped ahead of its writing came, or the time
# to answer findings ran out (the month the interview was held in).
TIMED_CHANGES = """
SELECT DISTINCT authority, month FROM (
    SELECT responsible_authority AS authority, started_at FROM scheduler.episodes
    WHERE offer_due_at >= $1 AND offer_due_at <= $2
    UNION ALL
    SELECT responsible_authority, started_at FROM scheduler.episodes WHERE recount_at >= $1 AND recount_at <= $2
    UNION ALL
    SELECT responsible_authority, completed_at FROM scheduler.findings WHERE respond_by >= $1 AND respond_by <= $2
) AS changed
CROSS JOIN LATERAL (SELECT date_trunc('month', started_at AT TIME ZONE 'Europe/London')::date AS month) AS m
"""
# The months settles noted (each note read is deleted when its authority's figures are published).
NOTED_CHANGES = "SELECT id, authority, month FROM scheduler.figures_changes"
FORGET_CHANGES = "DELETE FROM scheduler.figures_changes WHERE id = ANY($1::bigint[])"


# What a report says when the database cannot be read.
UNREACHABLE = (OSError, asyncpg.PostgresError)


async def records(dsn: str, authority: str, period: Period, rules: VoiceRules) -> Records:
    """The authority's episodes and tasks that began in the period, and its findings, read on a
    connection of its own."""
    conn = await asyncpg.connect(dsn)
    try:
        return await load_records(conn, authority, period, rules)
    finally:
        await conn.close()


async def load_records(
    conn: asyncpg.Connection, authority: str, period: Period, rules: VoiceRules
) -> Records:
    """The authority's episodes and tasks that began in the period, and the findings of interviews held
    in it or within the time a reason said again looks back on before it."""
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
    since = period.start - rules.said_again_within
    return Records(episodes, tasks, await load_findings(conn, authority, since, period.end))


async def load_findings(
    conn: asyncpg.Connection, authority: str, since: datetime, until: datetime
) -> list[FindingsRecord]:
    """The findings of the authority's children's interviews held in [since, until), with the answers."""
    rows = await conn.fetch(SELECT_FINDINGS, authority, since, until)
    answers: dict[str, list[tuple[datetime, bool]]] = {}
    for row in await conn.fetch(SELECT_ANSWERS, [row["findings_id"] for row in rows]):
        answers.setdefault(row["findings_id"], []).append((row["responded_at"], row["child_told"]))
    return [
        FindingsRecord(
            findings_id=row["findings_id"],
            child_key=row["child_key"],
            responsible_authority=row["responsible_authority"],
            placement_authority=row["placement_authority"],
            completed_at=row["completed_at"],
            reasons=tuple(_json(row["reasons"])),
            placement_view=row["placement_view"],
            answers=tuple(sorted(answers.get(row["findings_id"], []))),
        )
        for row in rows
    ]


def _json(value: str | list[str] | None) -> list[str]:
    """A jsonb list as the pool returns it (text, unless a codec decodes it)."""
    found: list[str] = json.loads(value) if isinstance(value, str) else value or []
    return found


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
        arrested=row["arrested"],
        nrm_decision=row["nrm_decision"],
    )


async def month_figures(
    conn: asyncpg.Connection,
    authority: str,
    month: Period,
    *,
    window: timedelta,
    as_of: datetime,
    rules: VoiceRules,
) -> Figures:
    """One month's figures, counted by PostgreSQL."""
    row = await conn.fetchrow(MONTH_FIGURES, authority, month.start, month.end, as_of, window, ALERT_TYPES)
    voice = await conn.fetchrow(
        VOICE_MONTH,
        authority,
        month.start,
        month.end,
        as_of,
        rules.response,
        rules.said_again_within,
        rules.said_again_count,
    )
    counts = {**dict(row), **dict(voice)}
    for name in BREAKDOWNS:
        found = counts[name]
        counts[name] = dict(sorted((json.loads(found) if isinstance(found, str) else found).items()))
    return Figures(period=month.label, **counts)


async def children(conn: asyncpg.Connection, authority: str, period: Period) -> int:
    """How many children had an episode begin in the period."""
    found: int = await conn.fetchval(CHILDREN, authority, period.start, period.end)
    return found


@dataclass
class Changes:
    """The months (their first day, UK time) of each authority whose figures may have changed, and the
    notes that said so (to forget once counted)."""

    months: dict[str, set[date]] = field(default_factory=dict)
    notes: dict[str, list[int]] = field(default_factory=dict)


async def changed_months(conn: asyncpg.Connection, since: datetime | None, until: datetime) -> Changes:
    """What settles noted, and (from `since`) the months in which a window closed or a moment came."""
    found = Changes()
    for row in await conn.fetch(NOTED_CHANGES):
        found.months.setdefault(row["authority"], set()).add(row["month"])
        found.notes.setdefault(row["authority"], []).append(row["id"])
    if since is not None:
        for row in await conn.fetch(TIMED_CHANGES, since, until):
            found.months.setdefault(row["authority"], set()).add(row["month"])
    return found


async def forget_changes(conn: asyncpg.Connection, notes: list[int]) -> None:
    """The notes of changes now counted."""
    if notes:
        await conn.execute(FORGET_CHANGES, notes)


def month_of(day: date) -> Period:
    """The calendar month holding a day."""
    return Period(
        day.replace(day=1), (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    )
