"""Everything the scheduler knows about one child, folded from the child's history.

The fold replays what the system learnt, one event at a time in the order it learnt them (see
history.py): after each, the episodes are worked out again from what happened (episodes.py), the tasks
take in what is new (tasks.py), and every alert the child's state then called for is noted
(notices.py). An alert once called for stays raised, and a change to an episode is noted with the
report that made it, so what the scheduler publishes at any moment stays true of every later state.
The windows are then set from the final state.

The result depends only on the set of events, never on the order the scheduler received them in.
"""

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.scheduler.domain.episodes import (
    RISK_ORDER,
    Episode,
    episodes_of,
    naming_reports,
    unused_returns,
)
from services.scheduler.domain.history import Entry, applicable
from services.scheduler.domain.notices import Raised, publishing_order, raise_notes
from services.scheduler.domain.tasks import CLOSED_WITHOUT_INTERVIEW, LEFT_CARE, Task, TaskBook
from shared.contracts.assignments import (
    AssignmentAccepted,
    AssignmentAssigned,
    AssignmentClosed,
    AssignmentDeclined,
    AssignmentExpired,
)
from shared.contracts.common import ExploitationIndicator, Language, RiskLevel
from shared.contracts.episodes import Cancelled, InterviewNotOffered, MissingReported, Returned, RiskChanged
from shared.contracts.interviews import InterviewCompleted, InterviewOffered
from shared.directory import TimingSettings

_EPISODE_EVENTS = (MissingReported, Returned, RiskChanged, Cancelled)


@dataclass(frozen=True)
class Packet:
    """What the provider of a task is told: the window it must meet and the child's risk (rule 13)."""

    episode_id: str  # whose window
    episode_ids: tuple[str, ...]  # every episode the task covers
    placement_authority: str
    returned_at: datetime
    offer_due_at: datetime
    risk_level: RiskLevel
    indicators: tuple[ExploitationIndicator, ...]
    preferred_language: Language | None


@dataclass
class TaskState:
    """A task with what the providers and the notifier said about it."""

    task: Task
    packets: list[Packet]  # the first as requested, then each change
    assignments: dict[str, str] = field(default_factory=dict)  # assignment id -> provider id
    accepted_at: datetime | None = None
    holds: dict[str, tuple[datetime, datetime | None]] = field(default_factory=dict)  # accepted, released
    offered_at: datetime | None = None
    completed_at: datetime | None = None
    outcome: str | None = None
    interview_indicators: dict[ExploitationIndicator, datetime] = field(default_factory=dict)
    safeguarding_concern: bool = False

    @property
    def task_id(self) -> str:
        return self.task.task_id

    @property
    def episode_ids(self) -> list[str]:
        return self.task.episode_ids

    @property
    def open(self) -> bool:
        return self.task.open

    def held_at(self, moment: datetime) -> bool:
        """A provider had accepted the task by `moment` and had not handed it back."""
        return any(
            accepted <= moment and (released is None or released > moment)
            for accepted, released in self.holds.values()
        )


@dataclass
class ChildState:
    """The child's episodes, tasks and raised notices, and the events that could not apply."""

    episodes: list[Episode] = field(default_factory=list)
    tasks: list[TaskState] = field(default_factory=list)
    raised: list[Raised] = field(default_factory=list)
    unapplied: list[str] = field(default_factory=list)

    def episode(self, episode_id: str) -> Episode:
        return next(e for e in self.episodes if e.episode_id == episode_id)

    def task(self, task_id: str | None) -> TaskState | None:
        return next((t for t in self.tasks if t.task_id == task_id), None)

    @property
    def open_episode(self) -> Episode | None:
        return next((e for e in reversed(self.episodes) if e.ended_at is None and e.live), None)


def fold(facts: Iterable[Entry], timing: TimingSettings) -> ChildState:
    """The child's state from its history; depends only on the set of events."""
    ready, waiting = applicable(list(facts))
    learnt = sorted((f for f in ready if f.from_intake), key=lambda f: f.known)
    folding = Folding(timing)
    for _, step in _steps(learnt):
        folding.step(step)
    return folding.state([f for f in ready if not f.from_intake], waiting)


class Folding:
    """The fold from the start of a child's history, one step (an event, in the order learnt) at a
    time: `state` gives the child's state after the steps taken so far."""

    def __init__(self, timing: TimingSettings) -> None:
        self.timing = timing
        self.window = timedelta(hours=timing.interview_window_hours)
        self.learnt: list[Entry] = []
        self.book = TaskBook()
        self.raised: dict[str, Raised] = {}
        self.packets: dict[str, list[Packet]] = {}
        self.before: dict[str, Episode] = {}
        self.episodes: list[Episode] = []
        self.named: dict[str, str] = {}
        self.idle: set[str] = set()

    def step(self, step: list[Entry]) -> None:
        """Take in the next step's events (learnt together: the unnumbered ones, or one event)."""
        self.learnt += step
        upto = len(self.learnt)
        if any(isinstance(fact.data, _EPISODE_EVENTS) for fact in step):
            self.episodes, self.idle = episodes_of(self.learnt, self.named)
            self.named.update(naming_reports(self.episodes))
        now_known = {e.episode_id: e for e in self.episodes}
        for fact in step:
            self.book.step(fact, now_known)
            if isinstance(fact.data, Cancelled) and fact.data.reason == LEFT_CARE:
                close_for_left_care(self.book, fact)
        starts = sorted(e.started_at for e in self.episodes if e.live)
        raise_notes(self.raised, step[-1], upto, self.before, self.episodes, starts, self.timing)
        for task in self.book.tasks:
            revise(self.packets.setdefault(task.task_id, []), task, now_known, self.window)
        self.before = now_known

    def state(self, others: Iterable[Entry] = (), waiting: Iterable[Entry] = ()) -> ChildState:
        """The child's state after the steps so far, with what the notifier said (`others`) and the
        events still waiting for an earlier one; the fold itself is left as it was."""
        episodes = copy.deepcopy(self.episodes)
        book = copy.deepcopy(self.book)
        state = ChildState(episodes=episodes, raised=sorted(self.raised.values(), key=publishing_order))
        state.tasks = [TaskState(task, list(self.packets.get(task.task_id, []))) for task in book.tasks]
        unapplied = self.idle | unused_returns(self.learnt, episodes) | {f.key for f in book.waiting}
        unapplied |= {f.key for f in waiting}
        unapplied |= apply_assignments(list(others), state)
        known_ids = {e.episode_id for e in episodes}
        unapplied |= {f.key for episode_id, f in book.not_offered.items() if episode_id not in known_ids}
        set_windows(state, book.not_offered, self.window)
        state.unapplied = sorted(unapplied)
        return state


def _steps(learnt: list[Entry]) -> Iterable[tuple[int, list[Entry]]]:
    """The events in the order learnt, one step each, with how many were learnt by the end of the step.
    Events from before intake numbered them were all learnt before any numbered one, in no known order
    among themselves: they are one step."""
    legacy = sum(1 for fact in learnt if fact.seq is None)
    if legacy:
        yield legacy, learnt[:legacy]
    for n in range(legacy, len(learnt)):
        yield n + 1, [learnt[n]]


def close_for_left_care(book: TaskBook, fact: Entry) -> None:
    """The child left care: no interview is owed any more."""
    for task in book.tasks:
        if task.open:
            task.ended, task.ended_at = LEFT_CARE, fact.time


def revise(history: list[Packet], task: Task, episodes: dict[str, Episode], window: timedelta) -> None:
    """Note the task's packet if it changed (the first one is what was requested). Once a task has
    ended, only the absences it covers can still change (a return learnt late moved one under its
    interview, or took one out): that is published, so every reader knows which interview covers
    which absence; its provider, done, is not asked anything."""
    packet = _packet(task, episodes, window)
    if packet is None or (history and history[-1] == packet):
        return
    if not task.open and history:
        if set(packet.episode_ids) == set(history[-1].episode_ids):
            return
        packet = replace(history[-1], episode_ids=packet.episode_ids)
    history.append(packet)


def _packet(task: Task, episodes: dict[str, Episode], window: timedelta) -> Packet | None:
    members = [episodes[i] for i in task.episode_ids if i in episodes and episodes[i].live]
    returned = [(e.returned_at, e) for e in members if e.returned_at is not None]
    if not returned:
        return None
    offers = _offer_times(task)
    unsettled = [(back, e) for back, e in returned if not any(o >= back for o in offers)]
    back, latest = max(unsettled or returned, key=lambda pair: (pair[0], pair[1].known_at))
    languages = {e.preferred_language for e in members}
    return Packet(
        episode_id=latest.episode_id,
        episode_ids=tuple(task.episode_ids),  # every episode it covers, withdrawn ones too
        placement_authority=latest.placement_authority,
        returned_at=back,
        offer_due_at=back + window,
        risk_level=max((e.risk_level for e in members), key=RISK_ORDER.index),
        indicators=tuple(sorted({i for e in members for i in e.indicators})),
        preferred_language="cy" if "cy" in languages else "en" if "en" in languages else None,
    )


def _offer_times(task: Task) -> list[datetime]:
    """When the child was offered the interview: reported offers, and interviews that took place."""
    times = []
    for fact in task.reports:
        data = fact.data
        if isinstance(data, InterviewOffered):
            times.append(data.offered_at)
        elif isinstance(data, InterviewCompleted) and data.outcome == "completed":
            times.append(data.completed_at)
    return times


def apply_assignments(facts: list[Entry], state: ChildState) -> set[str]:
    """Who was offered and who holds each task, from the notifier; returns facts of unknown tasks."""
    unknown: set[str] = set()
    for fact in sorted(facts, key=lambda f: (f.happened_at, f.key)):
        data = fact.data
        if not isinstance(
            data,
            AssignmentAssigned
            | AssignmentAccepted
            | AssignmentDeclined
            | AssignmentExpired
            | AssignmentClosed,
        ):
            continue
        task = state.task(data.task_id)
        if task is None:
            unknown.add(fact.key)
            continue
        task.assignments.setdefault(data.assignment_id, data.provider_id)
        if isinstance(data, AssignmentAccepted):
            task.accepted_at = min(task.accepted_at or data.at, data.at)
            task.holds.setdefault(data.assignment_id, (data.at, None))
        elif not isinstance(data, AssignmentAssigned):
            held = task.holds.get(data.assignment_id)
            if held is not None and held[1] is None:
                task.holds[data.assignment_id] = (held[0], data.at)  # accepted, then handed back
    return unknown


def set_windows(state: ChildState, not_offered: Mapping[str, Entry], window: timedelta) -> None:
    """Each returned episode's window and what settled it: an offer, the child declining, or the
    council recording it as not offered (`not_offered`: its record, by episode; or the task closing
    without an interview)."""
    by_id = {e.episode_id: e for e in state.episodes}
    for episode in state.episodes:
        if episode.returned_at is not None and episode.live:
            episode.offer_due_at = episode.returned_at + window
        record = not_offered.get(episode.episode_id)
        if record is not None and isinstance(record.data, InterviewNotOffered):
            episode.not_offered_at, episode.not_offered_reason = record.time, record.data.reason
    for task in state.tasks:
        offers = _offer_times(task.task)
        task.offered_at = min(offers, default=None)
        for fact in task.task.reports:
            data = fact.data
            if isinstance(data, InterviewCompleted):
                task.completed_at, task.outcome = data.completed_at, data.outcome
                for indicator in data.exploitation_indicators:
                    task.interview_indicators.setdefault(indicator, data.completed_at)
                task.safeguarding_concern = task.safeguarding_concern or data.safeguarding_concern
        for episode_id in task.episode_ids:
            member = by_id.get(episode_id)
            returned = member.returned_at if member is not None else None
            if member is None or returned is None:
                continue
            episode = member
            episode.task_id = task.task_id
            episode.offered_at = min((o for o in offers if o >= returned), default=None)
            outcomes = sorted(
                (
                    (fact.data.completed_at, fact.data.outcome, fact.data.decline_reason)
                    for fact in task.task.reports
                    if isinstance(fact.data, InterviewCompleted) and fact.data.completed_at >= returned
                ),
                key=lambda outcome: (outcome[0], outcome[1]),
            )
            declined = next((o for o in outcomes if o[1] == "child_declined"), None)
            if declined is not None:
                episode.declined_at, episode.decline_reason = declined[0], declined[2]
            episode.attempted_at = next((o[0] for o in outcomes if o[1] == "unable_to_contact"), None)
            if task.task.ended in CLOSED_WITHOUT_INTERVIEW and episode.not_offered_at is None:
                episode.not_offered_at, episode.not_offered_reason = task.task.ended_at, task.task.ended
