"""Settling one child from its kept state: the fold's next steps, at a cost that does not grow with the
child's history.

`child.fold` replays everything the system learnt of a child, working out the episodes again at every
step. This does the same steps from where the last settle left off, and at each step works out again
only the part of the child's timeline the step can change:

- Returns cut a timeline into stretches (docs/domain.md rule 23: a report that starts after a known
  return is a new absence), and reports group into episodes only within a stretch. A step reporting
  something that happened at a moment can change the stretch holding that moment and what comes after
  it, nothing before. So the step's *region* begins at the last return known before that moment: the
  episodes of the region are grouped again from the region's events; every other episode is as the
  last step left it.
- Two things can reach across that boundary: a withdrawal without a report id (it takes back the
  sender's latest absence that had begun, which may lie before the region) and a risk change made when
  no episode of the region had begun (it applies to the latest that had). What each applied to is
  kept with it; if the region's answer no longer agrees, the region begins a stretch earlier (`Need`).
- Tasks are worked by the same task book as the fold, over the tasks the step can touch: every open
  task, the tasks of the region's episodes, and what those refer to (the episodes a task covers, the
  tasks an episode came from). An ended task no event reaches stays as it was.
- Alerts are noted for the region's episodes only: an episode that did not change calls for nothing new
  (its repeat count looks only at episodes that began before it).

What it needs and does not have, it asks for (`Need`); the caller loads it and settles again from the
start. The differential test holds it to `child.fold` on generated histories, at every prefix and in
every arrival order.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from services.scheduler.domain.child import (
    ChildState,
    Packet,
    TaskState,
    apply_assignments,
    close_for_left_care,
    revise,
    set_windows,
)
from services.scheduler.domain.episodes import LEFT_CARE, Episode, group_episodes, naming_reports
from services.scheduler.domain.history import Entry
from services.scheduler.domain.notices import Raised, publishing_order, raise_notes
from services.scheduler.domain.tasks import TaskBook
from services.scheduler.domain.triggers import Outgoing, due_events, episode_wakeups, task_wakeups, wakeups
from services.scheduler.kept.loaded import Loaded, Need, NeedMore
from services.scheduler.kept.region import EPISODE_EVENTS, attribution, boundary, region_facts
from services.scheduler.kept.rows import (
    ChildRow,
    EpisodeRow,
    FactNote,
    TaskRow,
    child_from,
    episode_row_from,
    task_row_from,
)
from shared.contracts.assignments import AssignmentFact, assignment_id
from shared.contracts.common import ExploitationIndicator
from shared.contracts.episodes import Cancelled, InterviewNotOffered
from shared.contracts.interviews import InterviewEvent
from shared.directory import TimingSettings

# Kinds of notice raised about an episode (their keys are "<kind>:<episode id>[:...]").
RAISED_KINDS = ("opened", "changed", "high_risk", "exploitation", "repeat")


@dataclass
class Settled:
    """What a settle decided: the rows to keep, what to publish, the timers to set."""

    child: ChildRow
    episodes: dict[str, EpisodeRow]  # every loaded or new episode, as it now stands
    gone: set[str]  # episodes that no longer exist (none do, in practice: ids never move)
    tasks: dict[str, TaskRow]
    notes: dict[str, FactNote]  # what each event the settle folded applied to, where it changed
    state: ChildState  # the loaded part of the child's state
    outgoing: list[Outgoing]  # due now, not published before, in the order to publish
    timers: list[datetime]
    unapplied: list[str]
    noted: list[Raised] = field(default_factory=list)  # without `publish`: every notice raised, set aside


def settle(loaded: Loaded, *, now: datetime, timing: TimingSettings, publish: bool = True) -> Settled | Need:
    """Fold the child's next steps from its kept state and say what is due at `now`; or say what must
    be loaded first. With `publish` false, nothing is made due and every notice raised is set aside
    (`Settled.noted`: a history folded again from the start, published in one go at its end)."""
    try:
        return _Settle(loaded, now, timing, publish).run()
    except NeedMore as more:
        return more.need


class _Settle:
    def __init__(self, loaded: Loaded, now: datetime, timing: TimingSettings, publish: bool) -> None:
        self.loaded = loaded
        self.now = now
        self.timing = timing
        self.publish = publish
        self.window = timedelta(hours=timing.interview_window_hours)
        self.child = child_from(loaded.child) if loaded.child is not None else ChildRow()
        self.rows = {eid: episode_row_from(row) for eid, row in loaded.episodes.items()}
        self.episodes: dict[str, Episode] = {eid: row.episode for eid, row in self.rows.items()}
        self.task_rows = {tid: task_row_from(row, loaded.facts) for tid, row in loaded.tasks.items()}
        self.notes = dict(loaded.notes)
        self.changed_notes: dict[str, FactNote] = {}
        self.gone: set[str] = set()

    # -- the steps ------------------------------------------------------------------------------

    def run(self) -> Settled:
        steps = self._steps()
        self._check_references(steps)
        book = self._book()
        raised = self._raised()
        packets = {tid: row.packets for tid, row in self.task_rows.items()}
        before = dict(self.episodes)
        upto = self.child.steps
        for step in steps:
            upto += len(step)
            region: list[Episode] = []
            if any(isinstance(fact.data, EPISODE_EVENTS) for fact in step):
                region = self._regroup(step)
            for fact in step:
                book.step(fact, self.episodes)
                if isinstance(fact.data, Cancelled) and fact.data.reason == LEFT_CARE:
                    close_for_left_care(book, fact)
            if region:
                raise_notes(raised, step[-1], upto, before, region, self._live_starts(), self.timing)
            for task in book.tasks:
                revise(packets.setdefault(task.task_id, []), task, self.episodes, self.window)
            before = dict(self.episodes)
        self._check_waiting(book)
        return self._finish(steps, upto, book, raised, packets)

    def _steps(self) -> list[list[Entry]]:
        """The events to fold now, one step each in the order learnt (the unnumbered ones of a child's
        first settle all in one), stopping at the first number still missing."""
        child = self.child
        intake = [f for f in self.loaded.facts.values() if f.from_intake]
        legacy = sorted(
            (f for f in intake if f.seq is None and (child.steps == 0 or f.key in self.loaded.new)),
            key=lambda f: f.known,
        )
        if legacy and child.steps > 0:
            raise NeedMore(Need(rebuild=True))  # an unnumbered event is learnt before every numbered one
        steps = [legacy] if legacy else []
        numbered = {f.seq: f for f in intake if f.seq is not None and f.seq > child.seq}
        seq = child.seq
        while seq + 1 in numbered:
            seq += 1
            steps.append([numbered[seq]])
        return steps

    def _regroup(self, step: list[Entry]) -> list[Episode]:
        """Work out again the episodes of the region the step can change; return them."""
        last = step[-1].known
        since = boundary(self.loaded, step)
        facts = region_facts(self.loaded, since, last)
        # The report each episode of the region is named by (an id never moves: docs/domain.md rule 22).
        named = naming_reports([e for e in self.episodes.values() if since is None or e.started_at >= since])
        found = group_episodes(sorted(facts.values(), key=lambda f: f.known), named)  # withdrawals in order
        if since is not None and found.named_by_position:  # named by place among every unnumbered one
            raise NeedMore(Need(wider=True, reach=None, step=step[-1].key))
        applied = attribution(
            since,
            facts,
            found.withdrew,
            found.risk_targets,
            found.episodes,
            step[-1].key,
            before=self.episodes,
            notes=self.notes,
        )
        for eid in [eid for eid, e in self.episodes.items() if since is None or e.started_at >= since]:
            del self.episodes[eid]
            self.gone.add(eid)
        for episode in found.episodes:
            self.episodes[episode.episode_id] = episode
            self.gone.discard(episode.episode_id)
        for key, targets in applied.items():
            self._note(key, applied_to=targets)
        return found.episodes

    def _note(self, key: str, *, applied_to: tuple[str, ...]) -> None:
        note = self.notes.get(key, FactNote())
        updated = replace(note, applied_to=applied_to)
        if updated != note:
            self.notes[key] = updated
            self.changed_notes[key] = updated

    def _live_starts(self) -> list[datetime]:
        """When each live episode began that an episode of the region could count as a repeat."""
        starts = {eid: e.started_at for eid, e in self.episodes.items() if e.live}
        for eid, moment in self.loaded.earlier.items():
            starts.setdefault(eid, moment)
        return sorted(starts.values())

    # -- the task book and the notices, from the rows ---------------------------------------------

    def _book(self) -> TaskBook:
        rows = sorted(self.task_rows.values(), key=lambda row: row.place)
        book = TaskBook(tasks=[row.task for row in rows])
        book.task_of = {eid: row.task.task_id for row in rows for eid in row.task.episode_ids}
        book.moved_from = {eid: row.moved_from for eid, row in self.rows.items() if row.moved_from}
        book.waiting = [self.loaded.facts[key] for key in self.child.waiting]
        records = sorted(
            (
                f
                for f in self.loaded.facts.values()
                if isinstance(f.data, InterviewNotOffered) and self._folded(f)
            ),
            key=lambda f: f.known,
        )
        for fact in records:
            assert isinstance(fact.data, InterviewNotOffered)
            book.not_offered.setdefault(fact.data.episode_id, fact)
        book.opened = {eid: list(row.opened) for eid, row in self.rows.items() if row.opened}
        book.places = {row.task.task_id: row.place for row in rows}
        book.next_place = self.child.places
        return book

    def _folded(self, fact: Entry) -> bool:
        """Folded by an earlier settle."""
        if fact.seq is None:
            return self.child.steps > 0
        return fact.seq <= self.child.seq

    def _raised(self) -> dict[str, Raised]:
        """What was noted before about the loaded episodes: published (as a stand-in: only its key, and
        an exploitation alert's indicators, are ever read again) or pending."""
        raised: dict[str, Raised] = {}
        for key in self.loaded.emitted:
            kind, _, rest = key.partition(":")
            eid = rest.split(":", 1)[0]
            if kind not in RAISED_KINDS or eid not in self.rows:
                continue
            row = self.rows[eid]
            indicators: tuple[ExploitationIndicator, ...] = ()
            if key == f"exploitation:{eid}":
                indicators = tuple(row.alerted)
            raised[key] = Raised(key, kind, row.episode.started_at, 0, row.episode, indicators=indicators)
        self.published_raised = set(raised)
        for note in self.child.pending:
            raised[note.key] = note
        return raised

    # -- what is referred to must be loaded -------------------------------------------------------

    def _check_references(self, steps: list[list[Entry]]) -> None:
        need = Need()
        for row in self.rows.values():
            need.tasks |= {tid for tid in (row.task, row.moved_from) if tid}
        for trow in self.task_rows.values():
            need.episodes |= set(trow.task.episode_ids) | set(trow.moved_out)
        need.episodes |= set(self.child.fresh)
        for fact in self.loaded.facts.values():
            data = fact.data
            if isinstance(data, AssignmentFact):
                need.tasks.add(data.task_id)
            elif isinstance(data, InterviewNotOffered):
                need.episodes.add(data.episode_id)
        for tasks in self.loaded.held_by.values():
            need.tasks |= set(tasks)
        need.tasks -= set(self.task_rows) | self.loaded.absent
        need.episodes -= set(self.rows) | self.loaded.absent
        if need:
            raise NeedMore(need)

    def _check_waiting(self, book: TaskBook) -> None:
        """A provider's report still waiting for its task may be about a task not loaded: look among
        them all (rarely: intake takes a report only on an assignment the notifier made)."""
        if not book.waiting:
            return
        if self.loaded.all_tasks is None:
            raise NeedMore(Need(all_tasks=True))
        loaded = {task.task_id for task in book.tasks}
        wanted = set()
        for fact in book.waiting:
            assert isinstance(fact.data, InterviewEvent)
            assert fact.org is not None
            for tid in self.loaded.all_tasks:
                if tid not in loaded and assignment_id(tid, fact.org) == fact.data.assignment_id:
                    wanted.add(tid)
        if wanted:
            raise NeedMore(Need(tasks=wanted))

    # -- the result -------------------------------------------------------------------------------

    def _finish(
        self,
        steps: list[list[Entry]],
        upto: int,
        book: TaskBook,
        raised: dict[str, Raised],
        packets: dict[str, list[Packet]],
    ) -> Settled:
        notes = [r for key, r in raised.items() if key not in self.published_raised]
        state = ChildState(episodes=sorted(self.episodes.values(), key=lambda e: (e.started_at, e.known_at)))
        state.raised = sorted(notes, key=publishing_order)
        state.tasks = [TaskState(task, packets.get(task.task_id, [])) for task in book.tasks]
        assignment_facts = [f for f in self.loaded.facts.values() if isinstance(f.data, AssignmentFact)]
        unknown = apply_assignments(assignment_facts, state)
        known_ids = set(self.episodes)
        orphan_records = {f.key for eid, f in book.not_offered.items() if eid not in known_ids}
        set_windows(state, book.not_offered, self.window)

        outgoing: list[Outgoing] = []
        timers: list[datetime] = []
        pending: list[Raised] = []
        noted = state.raised  # without `publish`: set aside, to be published at the end of the fold
        if self.publish:
            noted = []
            outgoing = [
                item
                for item in due_events(state, self.now, self.timing)
                if item.key not in self.loaded.emitted
            ]
            # Only the next moment: the settle it wakes sets the one after.
            timers = wakeups(state, self.now, self.timing)[:1]
            pending = [r for r in state.raised if r.at > self.now]
        stepped = [fact for step in steps for fact in step]
        child = ChildRow(
            steps=upto,
            seq=max([self.child.seq, *(f.seq for f in stepped if f.seq is not None)]),
            legacy=self.child.legacy + sum(1 for f in stepped if f.seq is None),
            places=book.next_place,
            waiting=[f.key for f in book.waiting],
            orphans=sorted(unknown | orphan_records),
            fresh=sorted(
                e.episode_id
                for e in self.episodes.values()
                if e.returned_at is not None and e.live and e.episode_id not in book.task_of
            ),
            pending=pending,
        )
        episodes = {}
        for eid, episode in self.episodes.items():
            old = self.rows.get(eid)
            alerted = list(old.alerted) if old is not None else []
            first = raised.get(f"exploitation:{eid}")
            if not alerted and first is not None:
                alerted = list(first.indicators)
            episodes[eid] = EpisodeRow(
                episode=episode,
                task=book.task_of.get(eid),
                moved_from=book.moved_from.get(eid),
                opened=book.opened.get(eid, []),
                alerted=alerted,
                live=self.publish and bool(episode_wakeups(episode, state, self.now, self.timing)),
            )
        tasks = {}
        for task_state in state.tasks:
            task = task_state.task
            tasks[task.task_id] = TaskRow(
                task=task,
                packets=task_state.packets,
                place=book.places[task.task_id],
                moved_out=sorted(eid for eid, origin in book.moved_from.items() if origin == task.task_id),
                live=task.open or (self.publish and bool(task_wakeups(state, task_state, self.now))),
            )
        unapplied = sorted(set(child.waiting) | set(child.orphans))
        return Settled(
            child=child,
            episodes=episodes,
            gone=self.gone - set(episodes),
            tasks=tasks,
            notes=self.changed_notes,
            state=state,
            outgoing=outgoing,
            timers=timers,
            unapplied=unapplied,
            noted=noted,
        )
