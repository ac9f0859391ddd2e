"""A child's episodes and interview tasks, folded from the child's whole history of events.

The state is a pure function of the *set* of events, sorted by when things happened, so events that
arrive late or out of order end in the same state as in order; an event that cannot apply yet (a
return before any report, an offer for an assignment not yet seen) simply has no effect until the
events it needs are in the history.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from shared.contracts.assignments import (
    AssignmentAccepted,
    AssignmentAssigned,
    AssignmentDeclined,
    AssignmentExpired,
    AssignmentFact,
)
from shared.contracts.common import EpisodeKind, EventData, ExploitationIndicator, Language, RiskLevel
from shared.contracts.episodes import Cancelled, MissingReported, Returned, RiskChanged
from shared.contracts.interviews import InterviewCompleted, InterviewOffered

_NAMESPACE = uuid.UUID("8a4e51f5-2c1b-4a57-9d8e-3f8f6a0c9b21")
_RISK_ORDER = ("no_apparent_risk", "low", "medium", "high")
# Same instant: a report before a risk change before assignment and interview news before a return
# before a cancellation.
_RANK = {
    "missing.reported": 0,
    "missing.risk_changed": 1,
    "assignment.assigned": 2,
    "assignment.accepted": 3,
    "assignment.declined": 4,
    "assignment.expired": 4,
    "interview.offered": 5,
    "interview.completed": 6,
    "missing.returned": 7,
    "missing.cancelled": 8,
}


def stable_id(*parts: str) -> str:
    """A deterministic id: reprocessing the same events yields the same ids."""
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


@dataclass(frozen=True)
class Fact:
    """One event in a child's history."""

    key: str  # "<source>|<id>", unique
    type: str
    time: datetime  # the CloudEvent time
    data: EventData

    @property
    def happened_at(self) -> datetime:
        """When the thing this event reports happened."""
        data = self.data
        if isinstance(data, MissingReported):
            return data.missing_since
        if isinstance(data, Returned):
            return data.returned_at
        if isinstance(data, RiskChanged):
            return data.changed_at or self.time
        if isinstance(data, InterviewOffered):
            return data.offered_at
        if isinstance(data, InterviewCompleted):
            return data.completed_at
        if isinstance(data, AssignmentFact):
            return data.at
        return self.time

    def sort_key(self) -> tuple[datetime, int, str]:
        """Order of application: time, then the kind of event, then the id (total and stable)."""
        return (self.happened_at, _RANK.get(self.type, 9), self.key)


@dataclass
class Episode:
    """One period a child is away."""

    episode_id: str
    child_ref: str
    responsible_authority: str
    placement_authority: str
    kind: EpisodeKind
    started_at: datetime
    risk_level: RiskLevel
    preferred_language: Language
    indicators: set[ExploitationIndicator] = field(default_factory=set)
    high_risk_at: datetime | None = None
    exploitation_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    task_id: str | None = None
    offer_due_at: datetime | None = None  # this episode's own window, set on its return
    offered_at: datetime | None = None

    @property
    def out_of_area(self) -> bool:
        """Placed outside the responsible authority."""
        return self.placement_authority != self.responsible_authority

    @property
    def returned_at(self) -> datetime | None:
        """When the child came back, if this episode ended in a return."""
        return self.ended_at if self.end_reason == "returned" else None

    @property
    def offered_late(self) -> bool | None:
        """Whether the offer came after the window closed (None while no offer is made)."""
        if self.offered_at is None or self.offer_due_at is None:
            return None
        return self.offered_at > self.offer_due_at

    def breached(self, now: datetime) -> bool:
        """The window closed with no offer in it; a late offer never undoes a breach."""
        due = self.offer_due_at
        return due is not None and due <= now and (self.offered_at is None or self.offered_at > due)

    def raise_risk(self, level: RiskLevel, at: datetime) -> None:
        self.risk_level = level
        if level == "high" and self.high_risk_at is None:
            self.high_risk_at = at

    def add_indicators(self, indicators: Iterable[ExploitationIndicator], at: datetime) -> None:
        new = set(indicators) - self.indicators
        if new:
            self.indicators |= new
            if self.exploitation_at is None:
                self.exploitation_at = at


@dataclass
class Task:
    """A return-interview task: one per return, covering later episodes until the interview."""

    task_id: str
    episode_ids: list[str]
    returned_at: datetime
    offer_due_at: datetime
    assignments: dict[str, str] = field(default_factory=dict)  # assignment_id -> provider_id
    accepted_at: datetime | None = None  # the first acceptance (reported as "accepted")
    # assignment_id -> (accepted at, handed back at): who held the task when, for the reminder
    holds: dict[str, tuple[datetime, datetime | None]] = field(default_factory=dict)
    offered_at: datetime | None = None
    completed_at: datetime | None = None
    outcome: str | None = None
    interview_indicators: set[ExploitationIndicator] = field(default_factory=set)
    safeguarding_concern: bool = False

    @property
    def open(self) -> bool:
        """Still waiting for the interview to happen (or be declined)."""
        return self.completed_at is None

    def held_at(self, moment: datetime) -> bool:
        """A provider had accepted the task by `moment` and had not handed it back."""
        return any(
            accepted <= moment and (released is None or released > moment)
            for accepted, released in self.holds.values()
        )

    @property
    def completed_within_window(self) -> bool | None:
        """Reported beside the offer duty: the interview took place within the window of the first return."""
        if self.completed_at is None:
            return None
        return self.outcome == "completed" and self.completed_at <= self.offer_due_at


@dataclass
class ChildState:
    """Everything the scheduler knows about one child."""

    episodes: list[Episode] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)
    unapplied: list[str] = field(default_factory=list)  # keys of events that cannot apply yet

    @property
    def open_episode(self) -> Episode | None:
        return next((e for e in reversed(self.episodes) if e.ended_at is None), None)

    @property
    def open_task(self) -> Task | None:
        return next((t for t in reversed(self.tasks) if t.open), None)

    def task(self, task_id: str | None) -> Task | None:
        return next((t for t in self.tasks if t.task_id == task_id), None)

    def task_of_assignment(self, assignment_id: str) -> Task | None:
        return next((t for t in self.tasks if assignment_id in t.assignments), None)

    def episode(self, episode_id: str) -> Episode:
        return next(e for e in self.episodes if e.episode_id == episode_id)


def fold(facts: Iterable[Fact], window: timedelta) -> ChildState:
    """Apply a child's events in the order things happened; the result depends only on the set."""
    facts = list(facts)
    # A provider's report is timed by its own clock (an offer rounded to the minute, say) and can be
    # earlier than the notifier's record of the assignment it is about: it applies once that is known.
    assigned_at: dict[str, datetime] = {}
    for fact in facts:
        if isinstance(fact.data, AssignmentAssigned | AssignmentAccepted):
            known = assigned_at.get(fact.data.assignment_id)
            assigned_at[fact.data.assignment_id] = min(known or fact.happened_at, fact.happened_at)

    def order(fact: Fact) -> tuple[datetime, int, str]:
        when, rank, key = fact.sort_key()
        if isinstance(fact.data, InterviewOffered | InterviewCompleted):
            when = max(when, assigned_at.get(fact.data.assignment_id, when))
        return when, rank, key

    state = ChildState()
    for fact in sorted(facts, key=order):
        if not _apply(state, fact, window):
            state.unapplied.append(fact.key)
    return state


def _apply(state: ChildState, fact: Fact, window: timedelta) -> bool:
    data = fact.data
    at = fact.happened_at
    current = state.open_episode
    if isinstance(data, MissingReported):
        if current is not None and current.kind == data.kind:
            _join(current, data, at)
            return True
        if current is not None:  # away <-> missing: the first closes, the next starts where it ended
            current.ended_at, current.end_reason = at, "kind_changed"
        _open(state, data, at)
        return True
    if isinstance(data, RiskChanged):
        target = current or (state.episodes[-1] if state.episodes else None)
        if target is None:
            return False
        target.raise_risk(data.risk_level, at)
        target.add_indicators(data.exploitation_indicators, at)
        return True
    if isinstance(data, Returned):
        if current is None:
            return False
        current.ended_at, current.end_reason = at, "returned"
        current.offer_due_at = at + window
        _cover_with_task(state, current, at, window)
        return True
    if isinstance(data, Cancelled):
        if current is None:
            return False
        current.ended_at, current.end_reason = fact.time, f"cancelled:{data.reason}"
        return True
    if isinstance(data, AssignmentAssigned):
        task = state.task(data.task_id)
        if task is None:
            return False
        task.assignments[data.assignment_id] = data.provider_id
        return True
    if isinstance(data, AssignmentAccepted):
        task = state.task(data.task_id)
        if task is None:
            return False
        task.assignments.setdefault(data.assignment_id, data.provider_id)
        task.accepted_at = task.accepted_at or at
        task.holds.setdefault(data.assignment_id, (at, None))
        return True
    if isinstance(data, AssignmentDeclined | AssignmentExpired):
        task = state.task(data.task_id)
        held = task.holds.get(data.assignment_id) if task is not None else None
        if task is not None and held is not None and held[1] is None:
            task.holds[data.assignment_id] = (held[0], at)  # accepted, then handed back
        return True  # an offer declined or let lapse before acceptance changes nothing here
    if isinstance(data, InterviewOffered | InterviewCompleted):
        task = state.task_of_assignment(data.assignment_id)
        if task is None:
            return False
        _record_offer(state, task, at)
        if isinstance(data, InterviewCompleted):
            task.completed_at, task.outcome = at, data.outcome
            task.interview_indicators |= set(data.exploitation_indicators)
            task.safeguarding_concern = task.safeguarding_concern or data.safeguarding_concern
        return True
    return True  # other facts inform the notifier, not the child's timeline


def _open(state: ChildState, data: MissingReported, at: datetime) -> None:
    # Named by the child and its place in the child's sequence, not by whichever report came first:
    # police and council reports of one episode, in any order, give the same id.
    episode = Episode(
        episode_id=stable_id("episode", data.child_key, str(len(state.episodes) + 1)),
        child_ref=data.child_ref,
        responsible_authority=data.responsible_authority,
        placement_authority=data.placement_authority,
        kind=data.kind,
        started_at=at,
        risk_level=data.risk_level,
        preferred_language=data.preferred_language,
    )
    episode.raise_risk(data.risk_level, at)
    episode.add_indicators(data.exploitation_indicators, at)
    task = state.open_task
    if task is not None:  # missing again before the interview: the open task covers this episode too
        episode.task_id = task.task_id
        task.episode_ids.append(episode.episode_id)
    state.episodes.append(episode)


def _join(episode: Episode, data: MissingReported, at: datetime) -> None:
    """A second report of the same episode (police and council both report)."""
    if _RISK_ORDER.index(data.risk_level) > _RISK_ORDER.index(episode.risk_level):
        episode.raise_risk(data.risk_level, at)
    episode.add_indicators(data.exploitation_indicators, at)


def _cover_with_task(state: ChildState, episode: Episode, returned_at: datetime, window: timedelta) -> None:
    task = state.task(episode.task_id)
    if task is None:
        task = Task(
            task_id=stable_id("task", episode.episode_id),
            episode_ids=[episode.episode_id],
            returned_at=returned_at,
            offer_due_at=returned_at + window,
        )
        episode.task_id = task.task_id
        state.tasks.append(task)


def _record_offer(state: ChildState, task: Task, at: datetime) -> None:
    task.offered_at = task.offered_at or at
    for episode_id in task.episode_ids:
        episode = state.episode(episode_id)
        returned = episode.returned_at
        if returned is not None and returned <= at and episode.offered_at is None:
            episode.offered_at = at
