"""Reports grouped into absences by what happened, named by what was known first (docs/domain.md rules 22-23).

Each absence becomes one episode in episodes.py, however many organisations report it.

- A return separates absences: a report that starts at or after a known return is a new absence, even
  when that return is learnt late. Between two returns, reports with the same police reference are one
  absence, reports with different ones are different absences, and a report with none joins the latest
  absence that had started by then. An organisation reporting a different kind (`away` becoming
  `missing`, or back) closes its absence there and starts the next; the same kinds from different
  organisations are one absence, of the more serious kind.
- An episode is named by its report that the system learnt of first, so later reports, late returns
  and withdrawals never rename it. (Reports from before intake numbered events are named by their
  place among such episodes, as they always were.)
"""

import bisect
from dataclasses import dataclass, field
from datetime import datetime

from services.scheduler.domain.history import Entry, stable_id
from shared.contracts.common import EpisodeKind
from shared.contracts.episodes import MissingReported


@dataclass
class Absence:
    """Reports of one absence, as they are grouped (before withdrawals are applied)."""

    segment: int  # how many returns came before it
    reports: list[Entry] = field(default_factory=list)
    refs: set[tuple[str, str]] = field(default_factory=set)
    name: str | None = None  # the id it was given before, if it contains the report that named it
    kind: EpisodeKind = "away"
    kind_changed_at: datetime | None = None

    @property
    def first_start(self) -> datetime:
        return min(report_of(f).missing_since for f in self.reports)

    def add(self, fact: Entry, name: str | None = None) -> None:
        report = report_of(fact)
        self.reports.append(fact)
        self.name = self.name or name
        if _ref(report) is not None:
            self.refs.add(_ref(report))  # type: ignore[arg-type]
        if report.kind == "missing":
            self.kind = "missing"


def report_of(fact: Entry) -> MissingReported:
    assert isinstance(fact.data, MissingReported)
    return fact.data


def _ref(report: MissingReported) -> tuple[str, str] | None:
    if report.police_force and report.police_reference:
        return (report.police_force, report.police_reference)
    return None


def group_reports(reports: list[Entry], return_times: list[datetime], named: dict[str, str]) -> list[Absence]:
    """Reports in order of when their absences began, each joined to the absence it describes. A
    report that named an episode carries its id like a police reference: never two ids in one group."""
    groups: list[Absence] = []
    for fact in sorted(reports, key=lambda f: (report_of(f).missing_since, f.known)):
        report = report_of(fact)
        segment = bisect.bisect_right(return_times, report.missing_since)
        ref, name = _ref(report), named.get(fact.key)
        same_case = next(
            (
                g
                for g in reversed(groups)
                if g.segment == segment
                and ((ref and ref in g.refs) or (name and g.name == name))
                and _compatible(g.name, name)
            ),
            None,
        )
        if same_case is not None and (name or not _kind_changes(same_case, fact)):
            same_case.add(fact, name)
            continue
        current = same_case or (groups[-1] if groups and groups[-1].segment == segment else None)
        if current is not None:
            other_case = bool(ref and current.refs and ref not in current.refs)
            if _kind_changes(current, fact):
                current.kind_changed_at = report.missing_since
            elif not other_case and _compatible(current.name, name):
                current.add(fact, name)
                continue
        group = Absence(segment)
        group.add(fact, name)
        groups.append(group)
    return groups


def _compatible(one: str | None, other: str | None) -> bool:
    return one is None or other is None or one == other


def _kind_changes(group: Absence, fact: Entry) -> bool:
    """An organisation that reported one kind of absence now reports the other, starting later: the
    first absence ends and the next begins (away becoming missing, or back)."""
    report = report_of(fact)
    if report.kind == group.kind or report.missing_since <= group.first_start:
        return False
    return any(f.org == fact.org and report_of(f).kind != report.kind for f in group.reports)


def episode_names(groups: list[Absence]) -> tuple[list[str], bool]:
    """Each episode keeps the id it was given; a new one is named by its report known first. Reports
    from before intake numbered events give the name by the episode's place among such episodes, as
    they did before numbering existed (the second value says whether any was)."""
    firsts = [min(g.reports, key=lambda f: f.known) for g in groups]
    child = report_of(firsts[0]).child_key if firsts else ""
    legacy = sorted(
        (i for i, first in enumerate(firsts) if first.seq is None and groups[i].name is None),
        key=lambda i: (groups[i].first_start, firsts[i].known),
    )
    position = {i: n for n, i in enumerate(legacy, start=1)}
    names = []
    for i, (group, first) in enumerate(zip(groups, firsts, strict=True)):
        if group.name is not None:
            names.append(group.name)
        elif first.seq is None:
            names.append(stable_id("episode", child, str(position[i])))
        else:
            names.append(stable_id("episode", child, first.key))
    return names, bool(position)
