"""A child's kept state held in memory, loaded and written by the same rules as PostgreSQL's
(`store/`): to fold a history again from its start (a child's first settle after an upgrade, or an
event that changes the order everything was learnt in), and for the tests that hold the kept state to
the fold.

Rows are kept in their JSON form, as the database keeps them, so what is read back is what was written;
and they are found through indexes as the database finds them, so folding a long history again costs
in proportion to its length.
"""

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.scheduler.domain.history import Entry
from services.scheduler.domain.notices import Raised, publishing_order
from services.scheduler.domain.read_model import episode_row, task_row
from services.scheduler.domain.triggers import Outgoing
from services.scheduler.kept.engine import Settled, settle
from services.scheduler.kept.loaded import NO_REGION, Loaded, Need
from services.scheduler.kept.rows import (
    FactNote,
    Json,
    child_from,
    child_json,
    episode_row_json,
    happened_at,
    subject,
    task_row_json,
)
from shared.contracts.assignments import AssignmentFact
from shared.contracts.episodes import Cancelled, InterviewNotOffered, Returned
from shared.directory import TimingSettings

LIVE_ENDS = ("cancelled", "left_care")  # an episode that ended so is not live


@dataclass
class Archive:
    """One child's kept state and history, as PostgreSQL would hold them."""

    child_key: str
    child: Json | None = None
    notes: dict[str, FactNote] = field(default_factory=dict)
    episodes: dict[str, Json] = field(default_factory=dict)
    tasks: dict[str, Json] = field(default_factory=dict)
    emitted: set[str] = field(default_factory=set)  # the keys of what was published
    held: dict[str, set[str]] = field(default_factory=dict)  # report -> tasks whose interview was held for it
    timers: set[datetime] = field(default_factory=set)
    read: dict[str, Json] = field(default_factory=dict)  # the read models' rows, episodes' and tasks', by id
    facts: dict[str, Entry] = field(default_factory=dict)
    # The indexes (facts_by_happened, facts_by_subject, facts_by_child_seq, episodes_by_child_start, ...).
    _timeline: list[tuple[datetime, str]] = field(default_factory=list, repr=False)
    _returns: list[tuple[datetime, str]] = field(default_factory=list, repr=False)
    _subjects: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _numbers: list[tuple[int, str]] = field(default_factory=list, repr=False)
    _starts: list[tuple[datetime, str]] = field(default_factory=list, repr=False)
    _published: dict[str, set[str]] = field(default_factory=dict, repr=False)
    _noted: dict[str, Raised] = field(default_factory=dict, repr=False)  # set aside while folding again

    def __post_init__(self) -> None:
        facts, self.facts = self.facts, {}
        self.add(facts.values())
        emitted, self.emitted = self.emitted, set()
        self._publish(emitted)

    def add(self, facts: Iterable[Entry]) -> set[str]:
        """Add events to the history (the first of repeats); return the keys that were new."""
        added = set()
        for fact in facts:
            if fact.key in self.facts:
                continue
            self.facts[fact.key] = fact
            added.add(fact.key)
            moment = happened_at(fact)
            if moment is not None:
                bisect.insort(self._timeline, (moment, fact.key))
                if isinstance(fact.data, Returned):
                    bisect.insort(self._returns, (moment, fact.key))
            about = subject(fact)
            if about is not None:
                self._subjects.setdefault(about, []).append(fact.key)
            if fact.seq is not None:
                bisect.insort(self._numbers, (fact.seq, fact.key))
        return added

    def settle(
        self, new: Sequence[Entry], *, now: datetime, timing: TimingSettings, publish: bool = True
    ) -> list[Outgoing]:
        """Add events to the history and settle the child at `now`; return what it published."""
        added = self.add(new)
        loaded = self._load(added, timing)
        asked: list[Need] = []
        while True:
            result = settle(loaded, now=now, timing=timing, publish=publish)
            if isinstance(result, Settled):
                break
            if result.rebuild:
                return self.rebuild(now=now, timing=timing)
            if result in asked:
                raise RuntimeError(f"asked again for what was loaded: {result}")
            asked.append(result)
            self._more(loaded, result, timing)
        self._write(result, now)
        return result.outgoing

    def rebuild(self, *, now: datetime, timing: TimingSettings) -> list[Outgoing]:
        """Fold the whole history again from its start (what was published stays published), and
        publish what is due at `now`."""
        history = Archive(self.child_key)
        intake = sorted((f for f in self.facts.values() if f.from_intake), key=lambda f: f.known)
        legacy = [f for f in intake if f.seq is None]
        numbered = [f for f in intake if f.seq is not None]
        others = [f for f in self.facts.values() if not f.from_intake]
        for step in ([legacy] if legacy else []) + [[f] for f in numbered]:
            history.settle(step, now=now, timing=timing, publish=False)
        history.settle(others, now=now, timing=timing, publish=False)
        # The notices raised along the way wait to be published, but for those that were already.
        history.emitted, history._published = set(), {}
        history._publish(self.emitted)
        assert history.child is not None
        child = child_from(history.child)
        child.pending = sorted(
            (note for key, note in history._noted.items() if key not in self.emitted), key=publishing_order
        )
        history.child = child_json(child)
        loaded = history._load(set(), timing, everything=True)
        while not isinstance(result := settle(loaded, now=now, timing=timing), Settled):
            history._more(loaded, result, timing)  # only ids that do not exist: everything is loaded
        history._write(result, now)
        self.__dict__.update(history.__dict__)
        return result.outgoing

    # -- loading, as store.load does ---------------------------------------------------------------

    def _folded_seq(self) -> int:
        return child_from(self.child).seq if self.child is not None else 0

    def _load(self, added: set[str], timing: TimingSettings, *, everything: bool = False) -> Loaded:
        child = child_from(self.child) if self.child is not None else None
        since = None if everything or child is None or child.steps == 0 else self._since(added)
        loaded = Loaded(self.child_key, self.child, since, new=added)
        self._region(loaded, timing)
        for key in [*added, *self._unfolded()]:
            fact = self.facts[key]
            loaded.facts[key] = fact
            target = _target(fact)
            if target in self.facts:
                loaded.facts[target] = self.facts[target]
        if child is not None:
            for key in child.waiting + child.orphans:
                loaded.facts[key] = self.facts[key]
        for eid, row in self.episodes.items():
            if row["live"] or everything:
                loaded.episodes[eid] = row
        for tid, row in self.tasks.items():
            if row["live"] or everything:
                loaded.tasks[tid] = row
        self._rows_facts(loaded)
        return loaded

    def _unfolded(self) -> list[str]:
        """Numbered events not folded yet (waiting for an earlier number, or arriving now)."""
        start = bisect.bisect_right(self._numbers, (self._folded_seq(), "\uffff"))
        return [key for _, key in self._numbers[start:]]

    def _since(self, added: set[str]) -> datetime | None:
        """Where the region begins: the last return folded before that is no later than anything the
        events to fold report (or `NO_REGION` when none reports anything about an episode)."""
        unfolded = [self.facts[key] for key in {*added, *self._unfolded()}]
        reaches = [self._reach(f) for f in unfolded if happened_at(f) is not None]
        if not reaches:
            return NO_REGION
        return self._last_return(min(reaches), added)

    def _last_return(self, reach: datetime, added: set[str]) -> datetime | None:
        """The moment of the last return folded before this settle that is no later than `reach`."""
        seq = self._folded_seq()
        end = bisect.bisect_right(self._returns, (reach, "\uffff"))
        for moment, key in reversed(self._returns[:end]):
            fact = self.facts[key]
            if key not in added and (fact.seq is None or fact.seq <= seq):
                return moment
        return None

    def _reach(self, fact: Entry) -> datetime:
        target = self.facts.get(_target(fact) or "")
        return min(fact.happened_at, target.happened_at) if target is not None else fact.happened_at

    def _region(self, loaded: Loaded, timing: TimingSettings) -> None:
        """Every episode event and episode of the region, and what the region's repeat count needs."""
        since = loaded.since
        if since == NO_REGION:
            return
        start = 0 if since is None else bisect.bisect_left(self._timeline, (since, ""))
        region = [key for _, key in self._timeline[start:] if _in_region(self.facts[key], since)]
        for key in region:
            loaded.facts[key] = self.facts[key]
            for other in self._subjects.get(key, []):  # withdrawals naming a report of the region
                if isinstance(self.facts[other].data, Cancelled):
                    loaded.facts[other] = self.facts[other]
            if key in self.held:
                loaded.held_by[key] = sorted(self.held[key])
        first = 0 if since is None else bisect.bisect_left(self._starts, (since, ""))
        for _, eid in self._starts[first:]:
            loaded.episodes[eid] = self.episodes[eid]
        if since is not None:
            earliest = since - timedelta(days=timing.repeat_missing.within_days)
            low = bisect.bisect_left(self._starts, (earliest, ""))
            for started, eid in self._starts[low:first]:
                if self.episodes[eid]["episode"]["end_reason"] not in LIVE_ENDS:
                    loaded.earlier[eid] = started

    def _rows_facts(self, loaded: Loaded) -> None:
        """The events the loaded rows refer to, their notes, and what was published about them."""
        for eid in loaded.episodes:
            for key in self._subjects.get(eid, []):
                if isinstance(self.facts[key].data, InterviewNotOffered):
                    loaded.facts[key] = self.facts[key]
        for tid, row in loaded.tasks.items():
            for key in row["reports"]:
                loaded.facts[key] = self.facts[key]
            for key in self._subjects.get(tid, []):
                if isinstance(self.facts[key].data, AssignmentFact):
                    loaded.facts[key] = self.facts[key]
        for key in loaded.facts:
            if key in self.notes:
                loaded.notes[key] = self.notes[key]
        for about in [*loaded.episodes, *loaded.tasks]:
            loaded.emitted |= self._published.get(about, set())

    def _more(self, loaded: Loaded, need: Need, timing: TimingSettings) -> None:
        """Load what a settle asked for."""
        if need.wider:
            if need.step is not None:
                loaded.caps[need.step] = need.reach
            if loaded.since is not None:  # a region only ever widens
                reach = None if need.reach is None else min(need.reach, loaded.since)
                loaded.since = None if reach is None else self._last_return(reach, loaded.new)
                self._region(loaded, timing)
        for eid in need.episodes:
            if eid in self.episodes:
                loaded.episodes[eid] = self.episodes[eid]
            else:
                loaded.absent.add(eid)
        for tid in need.tasks:
            if tid in self.tasks:
                loaded.tasks[tid] = self.tasks[tid]
            else:
                loaded.absent.add(tid)
        if need.all_tasks:
            loaded.all_tasks = sorted(self.tasks)
        self._rows_facts(loaded)

    # -- writing, as store.write does --------------------------------------------------------------

    def _publish(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.emitted.add(key)
            self._published.setdefault(key.split(":")[1], set()).add(key)

    def _write(self, result: Settled, now: datetime) -> None:
        self.child = child_json(result.child)
        for eid in result.gone:
            self._place(eid, None)
            self.episodes.pop(eid, None)
            self.read.pop(eid, None)
        for eid, row in result.episodes.items():
            self._place(eid, row.episode.started_at)
            self.episodes[eid] = episode_row_json(row)
            self.read[eid] = episode_row(self.child_key, result.state, row.episode, now)
        for task_state in result.state.tasks:
            self.read[task_state.task_id] = task_row(self.child_key, result.state, task_state, now)
        for tid, kept in result.tasks.items():
            self.tasks[tid] = task_row_json(kept)
            for report in kept.task.held_for:
                self.held.setdefault(report, set()).add(tid)
        self.notes.update(result.notes)
        self._publish(item.key for item in result.outgoing)
        for note in result.noted:  # known from now on as raised, as if published
            self._noted[note.key] = note
            self._publish([note.key])
        self.timers |= set(result.timers)

    def _place(self, eid: str, started: datetime | None) -> None:
        """Keep the episodes-by-start index true of an episode's row."""
        old = self.episodes.get(eid)
        if old is not None:
            entry = (datetime.fromisoformat(old["episode"]["started_at"]), eid)
            index = bisect.bisect_left(self._starts, entry)
            if index < len(self._starts) and self._starts[index] == entry:
                del self._starts[index]
        if started is not None:
            bisect.insort(self._starts, (started, eid))


def _target(fact: Entry) -> str | None:
    """The report a withdrawal names, if it names one."""
    data = fact.data
    if isinstance(data, Cancelled) and data.report_id is not None:
        return f"{fact.key.split('|', 1)[0]}|{data.report_id}"
    return None


def _in_region(fact: Entry, since: datetime | None) -> bool:
    if since is None:
        return True
    if isinstance(fact.data, Returned):
        return fact.happened_at > since
    return fact.happened_at >= since
