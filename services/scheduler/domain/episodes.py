"""A child's episodes: reports grouped into absences by what happened, named by what was known first.

Reports describe absences; an episode is one absence, however many organisations report it
(docs/domain.md rules 22-26). Which reports are one absence, and the name it keeps, is worked out in
absences.py; here each absence becomes an episode:

- A withdrawal (`missing.cancelled`, reported in error) takes back the sender's own report; the
  episode ends as cancelled only when none of its reports stands. `left_care` ends the open absence.
- What the standing reports say adds up: the more serious kind, the highest risk, the union of
  indicators, Welsh if anyone said Welsh, the placement most recently reported, the earliest start,
  and the earliest return after it.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.scheduler.domain.absences import Absence, episode_names, group_reports, report_of
from services.scheduler.domain.history import Entry, KnownKey
from shared.contracts.common import EpisodeKind, ExploitationIndicator, Language, RiskLevel
from shared.contracts.episodes import Cancelled, MissingReported, Returned, RiskChanged

RISK_ORDER: tuple[RiskLevel, ...] = ("no_apparent_risk", "low", "medium", "high")
LEFT_CARE = "left_care"
# What an episode's end says happened.
RETURNED, CANCELLED, KIND_CHANGED = "returned", "cancelled", "kind_changed"


@dataclass(frozen=True)
class Snapshot:
    """What an episode says at one moment: compared between moments to tell what changed."""

    placement_authority: str
    kind: EpisodeKind
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    risk_level: RiskLevel
    indicators: frozenset[ExploitationIndicator]
    preferred_language: Language | None
    reports: frozenset[str]
    standing: frozenset[str]


@dataclass
class Episode:
    """One absence of the child, and (filled in by the fold) its return-interview window."""

    episode_id: str
    child_ref: str
    responsible_authority: str
    placement_authority: str
    kind: EpisodeKind
    started_at: datetime
    risk_level: RiskLevel
    preferred_language: Language | None
    known_at: KnownKey  # when the system learnt of it
    named_by: str  # the report it was first known by (it keeps that report's name)
    reports: list[str]  # keys of every report of it, withdrawn or not
    standing: list[str]  # the reports not withdrawn
    indicators: dict[ExploitationIndicator, datetime] = field(default_factory=dict)  # first seen
    high_risk_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None
    return_known: KnownKey | None = None  # when its return first became known
    # The return-interview window, set by the fold from the episode's task:
    task_id: str | None = None
    offer_due_at: datetime | None = None
    offered_at: datetime | None = None
    declined_at: datetime | None = None
    decline_reason: str | None = None
    attempted_at: datetime | None = None  # the provider could not reach the child
    not_offered_at: datetime | None = None
    not_offered_reason: str | None = None
    _snapshot: Snapshot | None = field(default=None, repr=False, compare=False)

    @property
    def out_of_area(self) -> bool:
        """Placed outside the responsible authority."""
        return self.placement_authority != self.responsible_authority

    @property
    def returned_at(self) -> datetime | None:
        """When the child came back, if this episode ended in a return."""
        return self.ended_at if self.end_reason == RETURNED else None

    @property
    def live(self) -> bool:
        """Not withdrawn, and not ended because the child left care."""
        return self.end_reason not in (CANCELLED, LEFT_CARE)

    @property
    def window_settled_at(self) -> datetime | None:
        """When the window's duty was settled: an offer, the child declining, or 'not offered'."""
        moments = [m for m in (self.offered_at, self.declined_at, self.not_offered_at) if m is not None]
        return min(moments) if moments else None

    @property
    def offered_late(self) -> bool | None:
        """Whether the offer came after the window closed (None while no offer is made)."""
        if self.offered_at is None or self.offer_due_at is None:
            return None
        return self.offered_at > self.offer_due_at

    def breached(self, now: datetime) -> bool:
        """The window closed with its duty unsettled; a late offer never undoes a breach."""
        due = self.offer_due_at
        settled = self.window_settled_at
        return due is not None and due <= now and (settled is None or settled > due)

    def snapshot(self) -> Snapshot:
        """The episode as it stands, for comparison (made once: an episode is not changed once made)."""
        if self._snapshot is None:
            self._snapshot = self._snap()
        return self._snapshot

    def _snap(self) -> Snapshot:
        return Snapshot(
            self.placement_authority,
            self.kind,
            self.started_at,
            self.ended_at,
            self.end_reason,
            self.risk_level,
            frozenset(self.indicators),
            self.preferred_language,
            frozenset(self.reports),
            frozenset(self.standing),
        )


@dataclass
class Grouping:
    """A child's episodes from the events learnt so far, with what each withdrawal and risk change applied
    to (so a later look at part of the history can tell whether anything outside it moved)."""

    episodes: list[Episode]
    idle: set[str]  # withdrawals and risk changes that had no episode to apply to
    withdrew: dict[str, list[str]]  # each withdrawal (not `left_care`) -> the reports it withdrew
    risk_targets: dict[str, str | None]  # each risk change -> the episode it applied to
    named_by_position: bool = False  # an episode was named by its place among unnumbered ones


def episodes_of(
    known: Sequence[Entry], named: dict[str, str] | None = None
) -> tuple[list[Episode], set[str]]:
    """The child's episodes from the events learnt so far, and the keys of withdrawals and risk changes
    that had no episode to apply to (see also `unused_returns`). `named` maps each report that named an
    episode before to that episode's id: those ids are kept, and two of them are never merged into one
    episode."""
    found = group_episodes(known, named)
    return found.episodes, found.idle


def group_episodes(known: Sequence[Entry], named: dict[str, str] | None = None) -> Grouping:
    """`episodes_of`, with what each withdrawal and risk change applied to."""
    named = named or {}
    reports = [f for f in known if isinstance(f.data, MissingReported)]
    if not reports:
        idle = {f.key for f in known if isinstance(f.data, Returned | RiskChanged | Cancelled)}
        nothing: dict[str, list[str]] = {
            f.key: [] for f in known if isinstance(f.data, Cancelled) and f.data.reason != LEFT_CARE
        }
        risks: dict[str, str | None] = {f.key: None for f in known if isinstance(f.data, RiskChanged)}
        return Grouping([], idle, nothing, risks)
    returns = sorted(
        (f for f in known if isinstance(f.data, Returned)), key=lambda f: (f.happened_at, f.known)
    )
    return_times = sorted({f.happened_at for f in returns})
    groups = group_reports(reports, return_times, named)
    names, by_position = episode_names(groups)
    withdrawn, left_care, idle = _withdrawals(known, groups)
    episodes = [
        _episode(group, names[i], named, withdrawn, left_care, return_times, returns)
        for i, group in enumerate(groups)
    ]
    risk_targets = _attribute_risk_changes(known, episodes)
    idle |= {key for key, target in risk_targets.items() if target is None}
    episodes.sort(key=lambda e: (e.started_at, e.known_at))
    withdrew: dict[str, list[str]] = {
        f.key: [] for f in known if isinstance(f.data, Cancelled) and f.data.reason != LEFT_CARE
    }
    for report, cancellation in withdrawn.items():
        withdrew[cancellation.key].append(report)
    return Grouping(episodes, idle, withdrew, risk_targets, by_position)


def unused_returns(known: Sequence[Entry], episodes: list[Episode]) -> set[str]:
    """Returns that tell of no episode's end (one reported before any report of the absence)."""
    returns = [f for f in known if isinstance(f.data, Returned)]
    used = {key for e in episodes for key in _return_keys(e, returns, episodes)}
    return {f.key for f in returns if f.key not in used}


def naming_reports(episodes: Sequence[Episode]) -> dict[str, str]:
    """Which report each episode is named by (its first known report), for the next `episodes_of`."""
    return {e.named_by: e.episode_id for e in episodes}


def _withdrawals(
    known: Sequence[Entry], groups: list[Absence]
) -> tuple[dict[str, Entry], list[Entry], set[str]]:
    """Which reports were withdrawn (by which cancellation), the `left_care` notices, and cancellations
    that withdrew nothing."""
    by_key = {f.key: g for g in groups for f in g.reports}
    withdrawn: dict[str, Entry] = {}
    left_care: list[Entry] = []
    idle: set[str] = set()
    for fact in known:
        data = fact.data
        if not isinstance(data, Cancelled):
            continue
        if data.reason == LEFT_CARE:
            left_care.append(fact)
            continue
        source = fact.key.split("|", 1)[0]
        if data.report_id is not None:
            targets = [f"{source}|{data.report_id}"] if f"{source}|{data.report_id}" in by_key else []
        else:  # the sender's reports of the latest absence it reported that had begun by then
            mine = [
                g
                for g in groups
                if g.first_start <= fact.time
                and any(f.org == fact.org and f.key not in withdrawn for f in g.reports)
            ]
            latest = max(mine, key=lambda g: g.first_start, default=None)
            targets = [f.key for f in latest.reports if f.org == fact.org] if latest else []
        fresh = [key for key in targets if key not in withdrawn]
        if not fresh:
            idle.add(fact.key)
        for key in fresh:
            withdrawn[key] = fact
    return withdrawn, left_care, idle


def _episode(
    group: Absence,
    name: str,
    named: dict[str, str],
    withdrawn: dict[str, Entry],
    left_care: list[Entry],
    return_times: list[datetime],
    returns: list[Entry],
) -> Episode:
    standing = [f for f in group.reports if f.key not in withdrawn]
    basis = standing or group.reports
    reports = [report_of(f) for f in basis]
    first = min(group.reports, key=lambda f: f.known)
    latest = max(basis, key=lambda f: f.known)
    languages = {r.preferred_language for r in reports}
    episode = Episode(
        episode_id=name,
        child_ref=reports[0].child_ref,
        responsible_authority=reports[0].responsible_authority,
        placement_authority=report_of(latest).placement_authority,
        kind="missing" if any(r.kind == "missing" for r in reports) else "away",
        started_at=min(r.missing_since for r in reports),
        risk_level="no_apparent_risk",
        preferred_language="cy" if "cy" in languages else "en" if "en" in languages else None,
        known_at=first.known,
        named_by=next(
            (f.key for f in group.reports if group.name and named.get(f.key) == group.name), first.key
        ),
        reports=[f.key for f in group.reports],
        standing=[f.key for f in standing],
    )
    for fact in standing:
        report = report_of(fact)
        raise_risk(episode, report.risk_level, report.missing_since)
        add_indicators(episode, report.exploitation_indicators, report.missing_since)
    if not standing:
        episode.ended_at = max(withdrawn[f.key].time for f in group.reports)
        episode.end_reason = CANCELLED
        return episode
    ends: list[tuple[datetime, str]] = []
    if group.segment < len(return_times):
        ends.append((return_times[group.segment], RETURNED))
    if group.kind_changed_at is not None:
        ends.append((group.kind_changed_at, KIND_CHANGED))
    ends += [(f.time, LEFT_CARE) for f in left_care if f.time >= episode.started_at]
    if ends:
        episode.ended_at, episode.end_reason = min(ends, key=lambda end: end[0])
        if episode.end_reason == RETURNED:
            episode.return_known = min(f.known for f in returns if f.happened_at == episode.ended_at)
    return episode


def _return_keys(episode: Episode, returns: list[Entry], episodes: list[Episode]) -> list[str]:
    """The returns that report this episode's end: its own and later ones before the next absence."""
    if episode.returned_at is None:
        return []
    later_starts = [e.started_at for e in episodes if e.started_at >= episode.returned_at]
    until = min(later_starts, default=None)
    return [
        f.key
        for f in returns
        if f.happened_at >= episode.returned_at and (until is None or f.happened_at < until)
    ]


def _attribute_risk_changes(known: Sequence[Entry], episodes: list[Episode]) -> dict[str, str | None]:
    """A risk change applies to the absence open when it was made (one the sender reported, if it
    reported one), or to the latest that had begun by then; none begun, none applies. Returns the
    episode each applied to."""
    targets: dict[str, str | None] = {}
    for fact in known:
        data = fact.data
        if not isinstance(data, RiskChanged):
            continue
        target = _risk_target(fact, episodes)
        targets[fact.key] = target.episode_id if target is not None else None
        if target is None:
            continue
        raise_risk(target, data.risk_level, fact.happened_at)
        add_indicators(target, data.exploitation_indicators, fact.happened_at)
    return targets


def _risk_target(fact: Entry, episodes: list[Episode]) -> Episode | None:
    """The episode a risk change is about."""
    at = fact.happened_at
    begun = [e for e in episodes if e.live and e.started_at <= at]
    open_then = [e for e in begun if e.ended_at is None or e.ended_at > at]
    mine = [e for e in open_then if any(key.startswith(f"/orgs/{fact.org}|") for key in e.standing)]
    for candidates in (mine, open_then, begun):
        if candidates:
            return max(candidates, key=lambda e: (e.started_at, e.known_at))
    return None


def raise_risk(episode: Episode, level: RiskLevel, at: datetime) -> None:
    """Risk takes the highest grade reported; a `high` grade is noted with when it was first given."""
    if RISK_ORDER.index(level) > RISK_ORDER.index(episode.risk_level):
        episode.risk_level = level
    if level == "high" and (episode.high_risk_at is None or at < episode.high_risk_at):
        episode.high_risk_at = at


def add_indicators(episode: Episode, indicators: Sequence[ExploitationIndicator], at: datetime) -> None:
    """Indicators are the union of what was reported, each with when it was first reported."""
    for indicator in indicators:
        seen = episode.indicators.get(indicator)
        if seen is None or at < seen:
            episode.indicators[indicator] = at
