"""Who sees what of a child's record (docs/domain.md rules 13 and 20): a pure function.

ops and the responsible authority see all of it; a host authority the episodes placed in its area,
with their tasks and assignments, read-only; a police force the episodes it reported itself and their
alerts; a provider only the referral packets of the assignments it holds. Anyone else sees nothing,
and the route answers 404 so that a child's existence is not revealed.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from services.intake.reads.views import (
    AlertView,
    AssignmentView,
    ChildRecord,
    EpisodeView,
    FindingsView,
    NrmDecisionView,
    ReferralView,
    TaskView,
)
from shared.contracts.assignments import ReferralPacket
from shared.contracts.voice import VOICE_NOTICES
from shared.directory import Directory, Organisation

HELD = ("offered", "accepted")


class PoliceReport(NamedTuple):
    """A missing report a police force sent about the child: when the absence began, and when the
    force sent it."""

    missing_since: datetime
    received_at: datetime


RESPONSIBLE_ONLY = frozenset(notice.type_name for notice in VOICE_NOTICES)


def record_for(
    org: Organisation,
    directory: Directory,
    *,
    authority: str,
    child_ref: str,
    rows: Any,  # store.ChildRows; typed loosely so this module imports no I/O
    known: bool,
    police_reports: Sequence[PoliceReport] = (),
    police_withdrawals: Sequence[datetime] = (),
) -> ChildRecord | None:
    """The part of a child's record this organisation may see, or None (answered as 404)."""
    episodes = [EpisodeView(**row) for row in rows.episodes]
    tasks = [TaskView(**row) for row in rows.tasks]
    assignments = [AssignmentView(**row) for row in rows.assignments]
    alerts = [AlertView(type=row["alert_type"], **_without(row, "alert_type")) for row in rows.alerts]
    # Notices about what the child said are the responsible authority's alone (docs/domain.md rule 30).
    others_alerts = [a for a in alerts if a.type not in RESPONSIBLE_ONLY]
    base = {"child_ref": child_ref, "responsible_authority": authority}

    if org.kind == "ops" or (org.kind == "local_authority" and org.authority_code == authority):
        if not known:
            return None
        if org.kind == "ops":
            return ChildRecord(
                **base, seen_as="ops", episodes=episodes, alerts=alerts, tasks=tasks, assignments=assignments
            )
        # What the child said is the responsible authority's alone (docs/domain.md rule 30).
        return ChildRecord(
            **base,
            seen_as="responsible_authority",
            episodes=episodes,
            alerts=alerts,
            tasks=tasks,
            assignments=assignments,
            findings=[FindingsView(**row) for row in rows.findings],
            nrm_decisions=[NrmDecisionView(**row) for row in rows.nrm_decisions],
        )
    if org.kind == "local_authority":
        episodes = [e for e in episodes if e.placement_authority == org.authority_code]
        tasks = [t for t in tasks if t.placement_authority == org.authority_code]
        if not episodes and not tasks:
            return None
        ids = {e.episode_id for e in episodes}
        task_ids = {t.task_id for t in tasks}
        return ChildRecord(
            **base,
            seen_as="host_authority",
            episodes=episodes,
            alerts=[a for a in others_alerts if a.episode_id in ids],
            tasks=tasks,
            assignments=[a for a in assignments if a.task_id in task_ids],
        )
    if org.kind == "police":
        if not police_reports:
            return None
        # A report opens the episode it falls in only if the force sent it while that episode was open,
        # or within the return-interview window after it ended (a return is often reported first): a
        # report backdated into an old absence opens nothing.
        window = timedelta(hours=directory.timing_for(authority).interview_window_hours)
        reported = set()
        # A report withdrawn as sent in error opens nothing: by its id (dropped before this), or by a
        # withdrawal of the force's reports of the absence open when the withdrawal came.
        withdrawn = [
            (at, _episode_of(episodes, tasks, max(sent)))
            for at in police_withdrawals
            if (sent := [r.missing_since for r in police_reports if r.received_at <= at])
        ]
        for report in police_reports:
            episode_id = _episode_of(episodes, tasks, report.missing_since)
            ended = _ended(episodes, tasks, episode_id)
            if any(report.received_at <= at and episode_id == of for at, of in withdrawn):
                continue
            if episode_id is not None and (ended is None or report.received_at <= ended + window):
                reported.add(episode_id)
        return ChildRecord(
            **base,
            seen_as="police",
            episodes=[e for e in episodes if e.episode_id in reported],
            alerts=[a for a in others_alerts if a.episode_id in reported],
        )
    if org.kind == "provider":
        mine = [a for a in assignments if a.provider_id == org.id and a.status in HELD]
        if not mine:
            return None
        by_task = {t.task_id: t for t in tasks}
        return ChildRecord(
            **base,
            seen_as="provider",
            referrals=[
                ReferralView(
                    assignment_id=a.assignment_id,
                    status=a.status,  # only HELD statuses reach here
                    accept_by=a.accept_by,
                    referral=_packet(directory, base, by_task.get(a.task_id)),
                )
                for a in mine
            ],
        )
    return None


def _packet(directory: Directory, base: dict[str, str], task: TaskView | None) -> ReferralPacket | None:
    if task is None or task.risk_level is None:
        return None
    council = directory.authority(base["responsible_authority"])
    return ReferralPacket.model_validate(
        {
            **base,
            "placement_authority": task.placement_authority,
            "returned_at": task.returned_at,
            "offer_due_at": task.offer_due_at,
            "risk_level": task.risk_level,
            "exploitation_indicators": task.exploitation_indicators,
            "preferred_language": task.preferred_language,
            "coordinator_contact": council.coordinator_contact if council else None,
        }
    )


def _episode_of(episodes: Sequence[EpisodeView], tasks: Sequence[TaskView], moment: datetime) -> str | None:
    """The episode an absence that began at `moment` belongs to: a child's episodes follow one another,
    so it is the last one that had begun by then, unless that one had already ended in a return (the
    report opened a new episode, not known here yet)."""
    begun = [e for e in episodes if e.started_at <= moment]
    if not begun:
        return None
    last = max(begun, key=lambda e: (e.started_at, e.episode_id))
    if any(t.episode_id == last.episode_id and t.returned_at < moment for t in tasks):
        return None
    return last.episode_id


def _ended(
    episodes: Sequence[EpisodeView], tasks: Sequence[TaskView], episode_id: str | None
) -> datetime | None:
    """When an episode ended: its end, or the return its task was opened for."""
    episode = next((e for e in episodes if e.episode_id == episode_id), None)
    if episode is not None and episode.ended_at is not None:
        return episode.ended_at
    returns = [t.returned_at for t in tasks if t.episode_id == episode_id]
    return min(returns) if returns else None


def _without(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in names}
