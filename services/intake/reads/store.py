"""Reading one child's record: everything intake knows of the child, before access rules apply."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.intake.store.base import Pool, translated

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
# What the child said in each interview (docs/domain.md rule 30), oldest first.
SELECT_FINDINGS = """
SELECT f.findings_id, f.assignment_id, f.provider_id, f.completed_at, f.respond_by, f.findings,
       COALESCE((SELECT jsonb_agg(jsonb_build_object(
                    'responded_at', r.responded_at, 'corrects', r.corrects, 'child_told', r.child_told,
                    'actions', r.actions) ORDER BY r.received_at, r.event_id)
                 FROM intake.responses r WHERE r.findings_id = f.findings_id), '[]') AS answers
FROM intake.findings f WHERE f.child_key = $1 ORDER BY f.completed_at, f.findings_id
"""
# The council's NRM decisions (docs/domain.md rule 34), oldest first.
SELECT_NRM = """
SELECT episode_id, decision, reason, decided_at FROM intake.nrm_decisions
WHERE child_key = $1 ORDER BY received_at, event_id
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
    findings: list[dict[str, Any]] = field(default_factory=list)  # what the child said, per interview
    nrm_decisions: list[dict[str, Any]] = field(default_factory=list)  # the council's, oldest first


@translated
async def child_rows(pool: Pool, child_key: str, caller: str) -> ChildRows:
    """Read one child's episodes, tasks, assignments and alerts, what the child said in interviews,
    its council's NRM decisions, whether intake knows the child, and the missing reports `caller` sent
    about it. The same eight
    statements whoever asks and whatever the answer, so a child nobody may see and a child that does
    not exist take the same time."""
    async with pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        episodes = [dict(r) for r in await conn.fetch(SELECT_EPISODES, child_key)]
        tasks = [dict(r) for r in await conn.fetch(SELECT_TASKS, child_key)]
        assignments = [dict(r) for r in await conn.fetch(SELECT_ASSIGNMENTS, child_key)]
        alerts = [dict(r) for r in await conn.fetch(SELECT_ALERTS, child_key)]
        sent = bool(await conn.fetchval(SELECT_KNOWN, child_key))
        reports = await conn.fetch(SELECT_POLICE_REPORTS, child_key, caller)
        findings = [dict(r) for r in await conn.fetch(SELECT_FINDINGS, child_key)]
        decisions = [dict(r) for r in await conn.fetch(SELECT_NRM, child_key)]
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
        findings=findings,
        nrm_decisions=decisions,
    )
