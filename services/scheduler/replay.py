"""The figures' records rebuilt from the published facts alone, as any outside subscriber could.

This is deliberately a second derivation, not the scheduler's fold: episodes are known from
`episode.opened`, tasks from `interview.requested`, alerts from the alerts themselves; returns and
cancellations from `mtp.episodes.v1`; who holds which task from `mtp.assignments.v1`; offers and
interviews from `mtp.interviews.v1`. What the scheduler decides from time (which episode a return
closes, which task a new episode joins, whether an offer came in a window) is worked out again here
from the DOMAIN rules, so the agreement of the two checks both.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from services.scheduler.figures import EpisodeRecord, TaskRecord
from shared.contracts.assignments import AssignmentAccepted, AssignmentAssigned
from shared.contracts.envelope import Envelope
from shared.contracts.episodes import Cancelled, Returned
from shared.contracts.interviews import InterviewCompleted, InterviewOffered
from shared.contracts.tasks import (
    EpisodeOpened,
    ExploitationAlert,
    InterviewRequested,
    RepeatMissingAlert,
    WindowBreached,
)


@dataclass
class _Episode:
    opened: EpisodeOpened
    child_key: str
    end: str | None = None  # "returned", "cancelled" or "kind_changed"
    returned_at: datetime | None = None
    task_id: str | None = None


@dataclass
class _Task:
    requested: InterviewRequested
    offers: list[datetime] = field(default_factory=list)  # offers and interviews, as reported
    completions: list[tuple[datetime, str]] = field(default_factory=list)
    accepted: bool = False

    def closed_before(self, moment: datetime) -> bool:
        """The interview was reported done before this moment (a task stays open at its own instant)."""
        return any(at < moment for at, _ in self.completions)


@dataclass
class _Log:
    episodes: dict[str, _Episode] = field(default_factory=dict)
    tasks: dict[str, _Task] = field(default_factory=dict)
    returns: dict[str, list[datetime]] = field(default_factory=dict)  # by child
    cancels: dict[str, list[datetime]] = field(default_factory=dict)  # by child
    task_of_assignment: dict[str, str] = field(default_factory=dict)
    accepted_tasks: set[str] = field(default_factory=set)
    reports: list[InterviewOffered | InterviewCompleted] = field(default_factory=list)
    breached: set[str] = field(default_factory=set)
    repeat: set[str] = field(default_factory=set)
    exploitation: dict[str, int] = field(default_factory=dict)


def records(envelopes: Iterable[Envelope]) -> tuple[list[EpisodeRecord], list[TaskRecord]]:
    """Every episode and task the topics tell of, with what the figures need."""
    facts = _collect(envelopes)
    for child, episodes in _by_child(facts).items():
        _close_episodes(episodes, facts.returns.get(child, []), facts.cancels.get(child, []))
    _attach_reports(facts)
    for child, episodes in _by_child(facts).items():
        _join_tasks(episodes, [t for t in facts.tasks.values() if t.requested.child_key == child])
    return _episode_records(facts), _task_records(facts)


def _collect(envelopes: Iterable[Envelope]) -> _Log:
    facts = _Log()
    for envelope in envelopes:
        data = envelope.data
        if isinstance(data, EpisodeOpened):
            facts.episodes[data.episode_id] = _Episode(data, data.child_key)
        elif isinstance(data, InterviewRequested):
            facts.tasks[data.task_id] = _Task(data)
        elif isinstance(data, Returned):
            facts.returns.setdefault(data.child_key, []).append(data.returned_at)
        elif isinstance(data, Cancelled):
            # A cancellation takes effect when it is reported: the CloudEvent's time.
            facts.cancels.setdefault(data.child_key, []).append(envelope.time)
        elif isinstance(data, AssignmentAssigned):
            facts.task_of_assignment[data.assignment_id] = data.task_id
        elif isinstance(data, AssignmentAccepted):
            facts.task_of_assignment.setdefault(data.assignment_id, data.task_id)
            facts.accepted_tasks.add(data.task_id)
        elif isinstance(data, InterviewOffered | InterviewCompleted):
            facts.reports.append(data)
        elif isinstance(data, WindowBreached):
            facts.breached.add(data.episode_id)
        elif isinstance(data, RepeatMissingAlert):
            facts.repeat.add(data.episode_id)
        elif isinstance(data, ExploitationAlert):
            facts.exploitation[data.episode_id] = facts.exploitation.get(data.episode_id, 0) + 1
    return facts


def _by_child(facts: _Log) -> dict[str, list[_Episode]]:
    children: dict[str, list[_Episode]] = {}
    for episode in sorted(facts.episodes.values(), key=lambda e: (e.opened.started_at, e.opened.episode_id)):
        children.setdefault(episode.child_key, []).append(episode)
    return children


def _close_episodes(episodes: list[_Episode], returns: list[datetime], cancels: list[datetime]) -> None:
    """Walk the child's time line: a new episode ends the one before (away <-> missing), a return or a
    cancellation ends the open one, and one with nothing open to end changes nothing. At one instant a
    start comes before a return, and a return before a cancellation."""
    moments = (
        [(e.opened.started_at, 0, i) for i, e in enumerate(episodes)]
        + [(at, 1, -1) for at in returns]
        + [(at, 2, -1) for at in cancels]
    )
    current: _Episode | None = None
    for at, kind, index in sorted(moments):
        if kind == 0:
            if current is not None:
                current.end = "kind_changed"
            current = episodes[index]
        elif current is not None:
            current.end = "returned" if kind == 1 else "cancelled"
            current.returned_at = at if kind == 1 else None
            current = None


def _attach_reports(facts: _Log) -> None:
    for task in facts.tasks.values():
        task.accepted = task.requested.task_id in facts.accepted_tasks
    for report in facts.reports:
        found = facts.tasks.get(facts.task_of_assignment.get(report.assignment_id, ""))
        if found is None:
            continue
        task = found
        if isinstance(report, InterviewOffered):
            task.offers.append(report.offered_at)
        else:  # an interview that took place, or was declined, was offered
            task.offers.append(report.completed_at)
            task.completions.append((report.completed_at, report.outcome))


def _join_tasks(episodes: list[_Episode], tasks: list[_Task]) -> None:
    """A task is opened by a return; an episode that starts while the child's task is still open
    (no interview yet) is covered by that task too (DOMAIN rule 8)."""
    for task in tasks:
        first = task.requested.episode_id
        for episode in episodes:
            if episode.opened.episode_id == first:
                episode.task_id = task.requested.task_id
    for episode in episodes:
        if episode.task_id is not None:
            continue
        start = episode.opened.started_at
        open_tasks = [t for t in tasks if t.requested.returned_at < start and not t.closed_before(start)]
        if open_tasks:
            episode.task_id = max(open_tasks, key=lambda t: t.requested.returned_at).requested.task_id


def _episode_records(facts: _Log) -> list[EpisodeRecord]:
    found = []
    for episode in facts.episodes.values():
        task = facts.tasks.get(episode.task_id) if episode.task_id else None
        returned = episode.returned_at
        offered = None
        interviewed = None
        if task is not None and returned is not None:
            offered = min((at for at in task.offers if at >= returned), default=None)
            if task.completions:
                at, outcome = max(task.completions)
                interviewed = at if outcome == "completed" else None
        opened = episode.opened
        found.append(
            EpisodeRecord(
                episode_id=opened.episode_id,
                child_key=episode.child_key,
                responsible_authority=opened.responsible_authority,
                placement_authority=opened.placement_authority,
                started_at=opened.started_at,
                cancelled=episode.end == "cancelled",
                returned_at=returned,
                offered_at=offered,
                interviewed_at=interviewed,
                breach_alert=opened.episode_id in facts.breached,
                repeat_alert=opened.episode_id in facts.repeat,
                exploitation_alerts=facts.exploitation.get(opened.episode_id, 0),
            )
        )
    return found


def _task_records(facts: _Log) -> list[TaskRecord]:
    found = []
    for task in facts.tasks.values():
        first = facts.episodes.get(task.requested.episode_id)
        if first is None:
            continue
        found.append(
            TaskRecord(
                task_id=task.requested.task_id,
                responsible_authority=task.requested.responsible_authority,
                started_at=first.opened.started_at,
                accepted=task.accepted,
            )
        )
    return found
