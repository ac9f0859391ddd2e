"""Everything the scheduler knows about one child, folded from the child's history.

The fold replays what the system learnt, one event at a time in the order it learnt them (see
history.py): after each, the episodes are worked out again from what happened (episodes.py), the tasks
take in what is new (tasks.py), and every alert the child's state then called for is noted. An alert
once called for stays raised, and a change to an episode is noted with the report that made it, so
what the scheduler publishes at any moment stays true of every later state. The windows are then set
from the final state.

The result depends only on the set of events, never on the order the scheduler received them in.
"""

import bisect
import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from services.scheduler.domain.episodes import (
    RISK_ORDER,
    Episode,
    Snapshot,
    episodes_of,
    naming_reports,
    unused_returns,
)
from services.scheduler.domain.history import Entry, applicable
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


@dataclass(frozen=True)
class Raised:
    """Something an event called for, noted when it first did: an episode opened or changed, an alert."""

    key: str
    kind: str  # opened, changed, high_risk, exploitation, repeat
    at: datetime
    step: int  # how many events the system had learnt when it was noted: the order to publish in
    episode: Episode  # as it stood then
    indicators: tuple[ExploitationIndicator, ...] = ()
    count: int = 0
    period_days: int = 0
    by: str | None = None
    changes: tuple[str, ...] = ()
    previous_placement: str | None = None


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


def publishing_order(raised: Raised) -> tuple[int, bool, datetime, str]:
    """In the order learnt; within a step, an episode's opening before anything said about it."""
    return (raised.step, raised.kind != "opened", raised.at, raised.key)


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


def raise_notes(
    raised: dict[str, Raised],
    fact: Entry,
    step: int,
    before: dict[str, Episode],
    episodes: Iterable[Episode],
    live_starts: Sequence[datetime],
    timing: TimingSettings,
) -> None:
    """Note what the `episodes`, as they stand once `fact` is known, call for that was not noted yet.
    `live_starts` holds, in order, when every live episode of the child began that any of them could
    count as a repeat (those that began in the repeat period before each)."""

    # Each step's episodes are made afresh (episodes_of), so a note can keep the episode as it stood;
    # only the final step's are given their windows afterwards, which no notice reads.
    def note(key: str, kind: str, at: datetime, episode: Episode, **extra: Any) -> None:
        if key not in raised:
            raised[key] = Raised(key, kind, at, step, episode, **extra)

    for episode in episodes:
        eid = episode.episode_id
        note(f"opened:{eid}", "opened", episode.started_at, episode)
        previous = before.get(eid)
        now = episode.snapshot()
        # An episode learnt of already ended (its return known first, or split off by a late return
        # with every report of it withdrawn) is announced as opened, then as ended. (Not for events
        # from before numbering, all learnt in one step: they were announced as they came.)
        if previous is not None:
            old = previous.snapshot()
        elif fact.seq is not None and now.end_reason is not None:
            old = replace(now, ended_at=None, end_reason=None)
        else:
            old = now
        if old != now:
            changes = _changes(old, now)
            moved = old.placement_authority if "placement_changed" in changes else None
            note(
                f"changed:{eid}:{fact.key}",
                "changed",
                fact.time,
                episode,
                by=fact.org,
                changes=tuple(changes),
                previous_placement=moved,
            )
        if episode.high_risk_at is not None:
            note(f"high_risk:{eid}", "high_risk", episode.high_risk_at, episode)
        _raise_exploitation(raised, note, episode)
        if episode.live:
            count = _repeat_count(live_starts, episode, timing)
            if count >= timing.repeat_missing.count:
                note(
                    f"repeat:{eid}",
                    "repeat",
                    episode.started_at,
                    episode,
                    count=count,
                    period_days=timing.repeat_missing.within_days,
                )


def _raise_exploitation(raised: dict[str, Raised], note: Callable[..., None], episode: Episode) -> None:
    """One alert for the indicators known when the episode first had any, then one per new indicator."""
    if not episode.indicators:
        return
    eid = episode.episode_id
    first = raised.get(f"exploitation:{eid}")
    if first is None:
        moment = min(episode.indicators.values())
        at_first = tuple(sorted(i for i, t in episode.indicators.items() if t <= moment))
        note(f"exploitation:{eid}", "exploitation", moment, episode, indicators=at_first)
        first = raised[f"exploitation:{eid}"]
    for indicator, seen in sorted(episode.indicators.items()):
        if indicator not in first.indicators:
            note(f"exploitation:{eid}:{indicator}", "exploitation", seen, episode, indicators=(indicator,))


def _repeat_count(live_starts: Sequence[datetime], episode: Episode, timing: TimingSettings) -> int:
    since = episode.started_at - timedelta(days=timing.repeat_missing.within_days)
    return bisect.bisect_right(live_starts, episode.started_at) - bisect.bisect_right(live_starts, since)


def _changes(old: Snapshot, new: Snapshot) -> list[str]:
    """What changed between two snapshots of one episode, as codes (EpisodeChange)."""
    found: list[str] = []
    if new.reports - old.reports:
        found.append("report_added")
    if old.reports - new.reports:
        found.append("split")
    if old.standing - new.standing and new.standing:
        found.append("report_withdrawn")
    if new.kind != old.kind:
        found.append("kind_changed")
    if new.started_at != old.started_at:
        found.append("start_moved")
    if RISK_ORDER.index(new.risk_level) > RISK_ORDER.index(old.risk_level):
        found.append("risk_raised")
    if new.indicators - old.indicators:
        found.append("indicators_added")
    if new.preferred_language != old.preferred_language:
        found.append("language_stated")
    if new.placement_authority != old.placement_authority:
        found.append("placement_changed")
    if new.end_reason != old.end_reason or new.ended_at != old.ended_at:
        if new.end_reason == "returned":
            found.append("returned" if old.end_reason != "returned" else "return_moved")
        elif new.end_reason in ("cancelled", "left_care", "kind_changed"):
            found.append(new.end_reason)
    return found


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
