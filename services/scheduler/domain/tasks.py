"""Return-interview tasks, decided in the order the system learnt of things (docs/domain.md rules 5, 8, 9, 24).

A task is the interview a returned child is owed. Each decision is made with what was known when it
had to be made, and never taken back, so nothing once published about a task becomes untrue:

- A return, once known, joins the task that is open then (the child went missing again before the
  interview: the task covers the new absence too); with none open, it opens a new task, named by it.
- A task ends when the provider reports the interview (held, declined by the child, or the child
  could not be reached), when the responsible authority records every absence it covers as not
  offered, or when every absence it covers is withdrawn or ended because the child left care. An ended
  task covers nothing new.
- An interview held before a return it was told of could not have covered it: such a return leaves
  the task, for a task of its own (unless the council recorded that absence as not offered: nothing
  more is owed for it). A return learnt later can move the child's coming back to before the
  interview after all: the absence goes back under the interview that covered it, and the task it
  had been given ends as covered if it has nothing else to do (its provider is told the task closed).
  Both are looked at again at every step, so the task an absence ends in is the one the final
  timeline says covered it: the earliest interview held once the child was back.
- A return learnt later can also split an absence an interview was held for. The part that keeps the
  absence's id goes where the rule above says; a part that comes out with an id of its own is covered
  by that interview too when the child was back from it before the interview, rather than given a
  second one.
"""

from dataclasses import dataclass, field
from datetime import datetime

from services.scheduler.domain.episodes import CANCELLED, Episode
from services.scheduler.domain.history import Entry, KnownKey, stable_id
from shared.contracts.assignments import assignment_id
from shared.contracts.episodes import InterviewNotOffered
from shared.contracts.interviews import InterviewCompleted, InterviewEvent

# Why a task ended.
NOT_OFFERED, EPISODE_CANCELLED, LEFT_CARE = "not_offered", "episode_cancelled", "left_care"
COVERED = "covered_by_interview"  # its absences turned out to be covered by an interview already held
CLOSED_WITHOUT_INTERVIEW = (NOT_OFFERED, EPISODE_CANCELLED, LEFT_CARE, COVERED)


@dataclass
class Task:
    """One return interview, covering one or more returned episodes."""

    task_id: str
    episode_ids: list[str]
    created: KnownKey
    ended: str | None = None  # an interview outcome, or why it closed without one
    ended_at: datetime | None = None
    reports: list[Entry] = field(default_factory=list)  # the providers' reports on it, in known order
    # The missing reports of the absences its interview covered, as known when it was held.
    held_for: frozenset[str] = frozenset()

    @property
    def open(self) -> bool:
        """Still to be done: covers new returns."""
        return self.ended is None

    @property
    def held_at(self) -> datetime | None:
        """When its interview was held (or attempted), if it ended with one."""
        return (
            self.ended_at if self.ended is not None and self.ended not in CLOSED_WITHOUT_INTERVIEW else None
        )

    def assignment_of(self, provider_id: str) -> str:
        """The id the notifier gives this task's assignment to a provider."""
        return assignment_id(self.task_id, provider_id)


@dataclass
class TaskBook:
    """Every task of a child, as decided so far."""

    tasks: list[Task] = field(default_factory=list)
    task_of: dict[str, str] = field(default_factory=dict)  # episode id -> task id
    not_offered: dict[str, Entry] = field(default_factory=dict)  # episode id -> the council's record
    waiting: list[Entry] = field(default_factory=list)  # reports on a task not known yet
    moved_from: dict[str, str] = field(default_factory=dict)  # episode id -> task whose interview preceded it
    opened: dict[str, list[str]] = field(default_factory=dict)  # episode id -> the tasks opened for it
    places: dict[str, int] = field(default_factory=dict)  # task id -> its place in the order opened
    next_place: int = 0

    def task(self, task_id: str | None) -> Task | None:
        return next((t for t in self.tasks if t.task_id == task_id), None)

    def step(self, fact: Entry, episodes: dict[str, Episode]) -> None:
        """Take in one event, learnt after every event taken in before it, with the episodes as they
        stand once it is known."""
        if isinstance(fact.data, InterviewNotOffered):
            self.not_offered.setdefault(fact.data.episode_id, fact)
        self._cover_returns(episodes)
        if isinstance(fact.data, InterviewEvent):
            self.waiting.append(fact)
        self._apply_reports()
        self._reconcile(fact, episodes)
        self._close(fact, episodes)
        for task in self.tasks:
            if not task.held_for and task.held_at is not None:
                task.held_for = frozenset(
                    r for i in task.episode_ids if i in episodes for r in episodes[i].reports
                )

    def _cover_returns(self, episodes: dict[str, Episode]) -> None:
        fresh = [
            e
            for e in episodes.values()
            if e.returned_at is not None and e.live and e.episode_id not in self.task_of
        ]
        for episode in sorted(fresh, key=lambda e: (e.returned_at, e.known_at)):
            # an interview already held for the absence it was part of covers it before any open task
            current = self._held_for(episode) or next((t for t in reversed(self.tasks) if t.open), None)
            if current is not None:
                current.episode_ids.append(episode.episode_id)
                self.task_of[episode.episode_id] = current.task_id
            elif episode.episode_id not in self.not_offered:  # the council said no interview: none opens
                self._open(episode.episode_id, episode.return_known or episode.known_at)

    def _held_for(self, episode: Episode) -> Task | None:
        """A task whose interview was held, after the child came back, for an absence this one was part
        of (until a return learnt later split it off)."""
        returned, reports = episode.returned_at, set(episode.reports)
        for task in self.tasks:
            held = task.held_at
            if held is not None and returned is not None and held >= returned and task.held_for & reports:
                return task
        return None

    def _open(self, episode_id: str, created: KnownKey) -> Task:
        opened = self.opened.setdefault(episode_id, [])
        # The absence may have had a task of its own before (moved back since): each gets an id of its own.
        task_id = stable_id("task", episode_id, *([str(len(opened) + 1)] if opened else []))
        opened.append(task_id)
        task = Task(task_id, [episode_id], created)
        self.tasks.append(task)
        self.places[task_id] = self.next_place
        self.next_place += 1
        self.task_of[episode_id] = task.task_id
        return task

    def _apply_reports(self) -> None:
        still: list[Entry] = []
        for fact in self.waiting:
            task = self._task_of_report(fact)
            if task is None:
                still.append(fact)
                continue
            task.reports.append(fact)
            data = fact.data
            if isinstance(data, InterviewCompleted) and task.open:
                task.ended, task.ended_at = data.outcome, data.completed_at
        self.waiting = still

    def _task_of_report(self, fact: Entry) -> Task | None:
        assert isinstance(fact.data, InterviewEvent)
        if fact.org is None:
            return None
        wanted = fact.data.assignment_id
        return next((t for t in self.tasks if t.assignment_of(fact.org) == wanted), None)

    def _reconcile(self, fact: Entry, episodes: dict[str, Episode]) -> None:
        """Put each absence under the interview that covered it, as the timeline now stands."""
        for task in list(self.tasks):
            held_at = task.held_at
            if held_at is not None:
                self._move_back(task, held_at, fact, episodes)
                self._move_later_returns(task, held_at, episodes)

    def _move_back(self, task: Task, held_at: datetime, fact: Entry, episodes: dict[str, Episode]) -> None:
        """Absences moved out of this task whose child, as now known, came back before its interview."""
        for episode_id, origin in list(self.moved_from.items()):
            episode = episodes.get(episode_id)
            if origin != task.task_id or episode is None or episode.returned_at is None:
                continue
            current = self.task(self.task_of.get(episode_id))
            if episode.returned_at > held_at or current is None:
                continue  # still after the interview
            if current.held_at is not None and current.held_at <= held_at:
                continue  # interviewed where it is, no later
            current.episode_ids.remove(episode_id)
            task.episode_ids.append(episode_id)
            self.task_of[episode_id] = task.task_id
            del self.moved_from[episode_id]
            if not current.episode_ids and current.open:
                current.ended, current.ended_at = COVERED, fact.time

    def _move_later_returns(self, task: Task, held_at: datetime, episodes: dict[str, Episode]) -> None:
        """Returns after the interview was held were not covered by it: they get a task of their own
        (those the council recorded as not offered are owed none and stay)."""
        later = [
            episodes[i]
            for i in task.episode_ids[1:]
            if i in episodes and (episodes[i].returned_at or held_at) > held_at and i not in self.not_offered
        ]
        if not later:
            return
        later.sort(key=lambda e: (e.returned_at, e.known_at))
        for episode in later:
            task.episode_ids.remove(episode.episode_id)
            del self.task_of[episode.episode_id]
            self.moved_from[episode.episode_id] = task.task_id
        successor = self._open(later[0].episode_id, task.created)
        for episode in later[1:]:
            successor.episode_ids.append(episode.episode_id)
            self.task_of[episode.episode_id] = successor.task_id

    def _close(self, fact: Entry, episodes: dict[str, Episode]) -> None:
        for task in self.tasks:
            if not task.open:
                continue
            members = [episodes[i] for i in task.episode_ids if i in episodes]
            live = [e for e in members if e.live]
            if not live:
                cancelled = any(e.end_reason == CANCELLED for e in members)
                task.ended = EPISODE_CANCELLED if cancelled else LEFT_CARE
                task.ended_at = fact.time
            elif all(e.episode_id in self.not_offered for e in live):
                task.ended = NOT_OFFERED
                task.ended_at = max(self.not_offered[e.episode_id].time for e in live)
