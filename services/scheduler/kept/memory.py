"""A child's kept state held in memory, loaded and written by the same rules as PostgreSQL's
(`store.py`): to fold a history again from its start (a child's first settle after an upgrade, or an
event that changes the order everything was learnt in), and for the tests that hold the kept state to
the fold.

Rows are kept in their JSON form, as the database keeps them, so what is read back is what was written.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.scheduler.history import Entry
from services.scheduler.kept.engine import EPISODE_EVENTS, NO_REGION, Loaded, Need, Settled, settle
from services.scheduler.kept.rows import (
    FactNote,
    Json,
    child_from,
    child_json,
    episode_row_json,
    task_row_json,
)
from services.scheduler.read_model import episode_row, task_row
from services.scheduler.triggers import Outgoing
from shared.contracts.assignments import AssignmentFact
from shared.contracts.episodes import Cancelled, InterviewNotOffered, Returned
from shared.directory import TimingSettings

LIVE_ENDS = ("cancelled", "left_care")  # an episode that ended so is not live


@dataclass
class Archive:
    """One child's kept state and history, as PostgreSQL would hold them."""

    child_key: str
    child: Json | None = None
    facts: dict[str, Entry] = field(default_factory=dict)
    notes: dict[str, FactNote] = field(default_factory=dict)
    episodes: dict[str, Json] = field(default_factory=dict)
    tasks: dict[str, Json] = field(default_factory=dict)
    emitted: set[str] = field(default_factory=set)  # the keys of what was published
    held: dict[str, set[str]] = field(default_factory=dict)  # report -> tasks whose interview was held for it
    timers: set[datetime] = field(default_factory=set)
    read: dict[str, Json] = field(default_factory=dict)  # the read models' rows, episodes' and tasks', by id

    def settle(
        self, new: Sequence[Entry], *, now: datetime, timing: TimingSettings, publish: bool = True
    ) -> list[Outgoing]:
        """Add events to the history and settle the child at `now`; return what it published."""
        added = {f.key for f in new if f.key not in self.facts}
        for fact in new:
            self.facts.setdefault(fact.key, fact)
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
        history.emitted = set(self.emitted)
        loaded = history._load(set(), timing, everything=True)
        while not isinstance(result := settle(loaded, now=now, timing=timing), Settled):
            history._more(loaded, result, timing)  # only ids that do not exist: everything is loaded
        history._write(result, now)
        self.__dict__.update(history.__dict__)
        return result.outgoing

    # -- loading, as store.load_children does -----------------------------------------------------

    def _load(self, added: set[str], timing: TimingSettings, *, everything: bool = False) -> Loaded:
        child = child_from(self.child) if self.child is not None else None
        since = None if everything or child is None or child.steps == 0 else self._since(added)
        loaded = Loaded(self.child_key, self.child, since, new=added)
        self._region(loaded, timing)
        for key, fact in self.facts.items():
            if key in added or (fact.seq is not None and child is not None and fact.seq > child.seq):
                loaded.facts[key] = fact
        for fact in list(loaded.facts.values()):
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

    def _since(self, added: set[str]) -> datetime | None:
        """Where the region begins: the last return folded before that is no later than anything the
        events to fold report (or `NO_REGION` when none reports anything about an episode)."""
        child = child_from(self.child) if self.child is not None else None
        seq = child.seq if child is not None else 0
        unfolded = [f for key, f in self.facts.items() if key in added or (f.seq is not None and f.seq > seq)]
        reaches = [self._reach(f) for f in unfolded if isinstance(f.data, EPISODE_EVENTS) and f.from_intake]
        if not reaches:
            return NO_REGION
        return self._last_return(min(reaches), added)

    def _last_return(self, reach: datetime, added: set[str]) -> datetime | None:
        """The moment of the last return folded before this settle that is no later than `reach`."""
        seq = child_from(self.child).seq if self.child is not None else 0
        returns = [
            f.happened_at
            for key, f in self.facts.items()
            if isinstance(f.data, Returned)
            and key not in added
            and (f.seq is None or f.seq <= seq)
            and f.happened_at <= reach
        ]
        return max(returns, default=None)

    def _reach(self, fact: Entry) -> datetime:
        target = self.facts.get(_target(fact) or "")
        return min(fact.happened_at, target.happened_at) if target is not None else fact.happened_at

    def _region(self, loaded: Loaded, timing: TimingSettings) -> None:
        """Every episode event and episode of the region, and what the region's repeat count needs."""
        since = loaded.since
        if since == NO_REGION:
            return
        reports = set()
        for key, fact in self.facts.items():
            if isinstance(fact.data, EPISODE_EVENTS) and fact.from_intake and _in_region(fact, since):
                loaded.facts[key] = fact
                reports.add(key)
        for key, fact in self.facts.items():
            if _target(fact) in reports:
                loaded.facts[key] = fact
        for eid, row in self.episodes.items():
            if since is None or datetime.fromisoformat(row["episode"]["started_at"]) >= since:
                loaded.episodes[eid] = row
        if since is not None:
            earliest = since - timedelta(days=timing.repeat_missing.within_days)
            for eid, row in self.episodes.items():
                started = datetime.fromisoformat(row["episode"]["started_at"])
                if earliest <= started < since and row["episode"]["end_reason"] not in LIVE_ENDS:
                    loaded.earlier[eid] = started
        for report in reports:
            if report in self.held:
                loaded.held_by[report] = sorted(self.held[report])

    def _rows_facts(self, loaded: Loaded) -> None:
        """The events the loaded rows refer to, their notes, and what was published about them."""
        for eid in loaded.episodes:
            for key, fact in self.facts.items():
                if isinstance(fact.data, InterviewNotOffered) and fact.data.episode_id == eid:
                    loaded.facts[key] = fact
        for tid, row in loaded.tasks.items():
            for key in row["reports"]:
                loaded.facts[key] = self.facts[key]
            for key, fact in self.facts.items():
                if isinstance(fact.data, AssignmentFact) and fact.data.task_id == tid:
                    loaded.facts[key] = fact
        for key in loaded.facts:
            if key in self.notes:
                loaded.notes[key] = self.notes[key]
        subjects = set(loaded.episodes) | set(loaded.tasks)
        loaded.emitted = {key for key in self.emitted if key.split(":")[1] in subjects}

    def _more(self, loaded: Loaded, need: Need, timing: TimingSettings) -> None:
        """Load what a settle asked for."""
        if need.wider:
            loaded.since = None if need.reach is None else self._last_return(need.reach, loaded.new)
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

    # -- writing, as store.write_settled does ------------------------------------------------------

    def _write(self, result: Settled, now: datetime) -> None:
        self.child = child_json(result.child)
        for eid in result.gone:
            self.episodes.pop(eid, None)
            self.read.pop(eid, None)
        for eid, row in result.episodes.items():
            self.episodes[eid] = episode_row_json(row)
            self.read[eid] = episode_row(self.child_key, result.state, row.episode, now)
        for task_state in result.state.tasks:
            self.read[task_state.task_id] = task_row(self.child_key, result.state, task_state, now)
        for tid, kept in result.tasks.items():
            self.tasks[tid] = task_row_json(kept)
            for report in kept.task.held_for:
                self.held.setdefault(report, set()).add(tid)
        self.notes.update(result.notes)
        self.emitted |= {item.key for item in result.outgoing}
        self.timers |= set(result.timers)


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
