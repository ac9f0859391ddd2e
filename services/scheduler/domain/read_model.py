"""The scheduler's read models for people and reports (`scheduler.episodes`, `scheduler.interview_tasks`):
a row per episode and task, made from the child's state as a settle leaves it, with times as ISO 8601
text (the statement that writes them reads them as JSON).
"""

from datetime import datetime
from typing import Any

from services.scheduler.domain.child import ChildState, TaskState
from services.scheduler.domain.episodes import Episode


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def episode_row(child: str, state: ChildState, e: Episode, now: datetime) -> dict[str, Any]:
    """An episode's row in `scheduler.episodes`, written at `now` (its task's interview from `state`)."""
    task = state.task(e.task_id)
    interviewed = task.completed_at if task is not None else None
    # A moment the figures judge against their `as_of` that is still ahead: they are counted again then.
    ahead = [
        m for m in (e.offered_at, e.declined_at, e.not_offered_at, interviewed) if m is not None and m > now
    ]
    return {
        "episode_id": e.episode_id,
        "child_key": child,
        "responsible_authority": e.responsible_authority,
        "placement_authority": e.placement_authority,
        "kind": e.kind,
        "started_at": _time(e.started_at),
        "ended_at": _time(e.ended_at),
        "end_reason": e.end_reason,
        "risk_level": e.risk_level,
        "high_risk": e.high_risk_at is not None,
        "exploitation_indicators": sorted(e.indicators),
        "task_id": e.task_id,
        "offer_due_at": _time(e.offer_due_at),
        "offered_at": _time(e.offered_at),
        "offered_late": e.offered_late,
        "breached": e.breached(now),
        "declined_at": _time(e.declined_at),
        "decline_reason": e.decline_reason,
        "attempted_at": _time(e.attempted_at),
        "not_offered_at": _time(e.not_offered_at),
        "not_offered_reason": e.not_offered_reason,
        "preferred_language": e.preferred_language,
        "recount_at": _time(min(ahead, default=None)),
    }


def task_row(child: str, state: ChildState, t: TaskState, now: datetime) -> dict[str, Any]:
    """A task's row in `scheduler.interview_tasks`, written at `now`."""
    latest = t.packets[-1] if t.packets else None
    first = state.episode(t.episode_ids[0]) if t.episode_ids else None
    returned = latest.returned_at if latest else (first.returned_at if first else None)
    due = latest.offer_due_at if latest else None
    within = None
    if t.completed_at is not None:
        within = t.outcome == "completed" and due is not None and t.completed_at <= due
    return {
        "task_id": t.task_id,
        "child_key": child,
        "episode_ids": list(t.episode_ids),
        "returned_at": _time(returned),
        "offer_due_at": _time(due),
        "accepted_at": _time(t.accepted_at),
        "offered_at": _time(t.offered_at),
        "completed_at": _time(t.completed_at),
        "outcome": t.outcome,
        "completed_within_window": within,
        "ended": t.task.ended,
        "ended_at": _time(t.task.ended_at),
    }
