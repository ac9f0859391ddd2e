"""The figures councils return for an authority and a period (docs/domain.md rule 21), from per-episode records.

Pure counting, no I/O: the records come either from the scheduler's read models (`report_store`) or
from a replay of the topics (`replay`), and the two must give the same figures.

Every figure is counted by when the episode began: an episode belongs to the month it started in, and
an interview task to the month its first episode started in, months and quarters as councils count
them, in UK local time (Europe/London). Episodes cancelled as reported in error are left out. A window
figure is decided once it is known: an offer made within the window counts as soon as it is made, a
window that closed without one counts as missed; a window still open with no offer yet counts for
neither. Only an offer is an offer (docs/domain.md rule 27): a child declining, a provider unable to reach the
child and a window the council recorded as not offered are each counted apart, never as offered.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.scheduler.report.voice import (
    AS_BY_DEFAULT,
    FindingsRecord,
    VoiceFigures,
    VoiceRules,
    add,
    count_voice,
)
from shared.contracts.figures import PERCENTAGES, percentage

LOCAL = ZoneInfo("Europe/London")
FINANCIAL_YEAR_START = 4  # councils' years run from April to March


@dataclass(frozen=True)
class EpisodeRecord:
    """What the figures need to know about one episode."""

    episode_id: str
    child_key: str
    responsible_authority: str
    placement_authority: str
    started_at: datetime
    cancelled: bool
    returned_at: datetime | None
    offered_at: datetime | None  # the first offer (or interview) at or after this episode's return
    interviewed_at: datetime | None  # when the interview took place (outcome `completed`), if it did
    breach_alert: bool  # a `window.breached` was raised for this episode
    repeat_alert: bool  # an `alert.repeat_missing` was raised for this episode
    exploitation_alerts: int  # `alert.exploitation` raised for it (police or interview)
    declined_at: datetime | None = None  # the child declined the interview (after an offer)
    attempted_at: datetime | None = None  # the provider could not reach the child: an attempt
    not_offered_at: datetime | None = None  # the council recorded the window as not offered ...
    not_offered_reason: str | None = None  # ... with this reason code
    arrested: bool = False  # a return at which the child was arrested ended it (rule 34)
    nrm_decision: str | None = None  # the responsible authority's first NRM decision for it

    @property
    def settled_otherwise_at(self) -> datetime | None:
        """When the window's duty was settled without an offer: declined, or recorded as not offered."""
        moments = [m for m in (self.declined_at, self.not_offered_at) if m is not None]
        return min(moments) if moments else None

    @property
    def out_of_area(self) -> bool:
        """Placed outside the responsible authority."""
        return self.placement_authority != self.responsible_authority


@dataclass(frozen=True)
class TaskRecord:
    """A return-interview task, placed in time by its first episode."""

    task_id: str
    responsible_authority: str
    started_at: datetime
    accepted: bool  # an independent provider accepted it


@dataclass(frozen=True)
class Records:
    """Everything the figures are counted from, as one source tells it."""

    episodes: list[EpisodeRecord]
    tasks: list[TaskRecord]
    findings: list[FindingsRecord] = field(default_factory=list)


def month_of_moment(moment: datetime) -> date:
    """The first day of the month (UK time) a moment falls in: the month an episode begun then counts in."""
    return moment.astimezone(LOCAL).date().replace(day=1)


@dataclass(frozen=True)
class Period:
    """From the first to the last day, both included, in UK local time."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), LOCAL)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.last + timedelta(days=1), time(), LOCAL)

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def months(self) -> list["Period"]:
        """The calendar months of the period, clipped to it."""
        found: list[Period] = []
        first = self.first
        while first <= self.last:
            following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
            found.append(Period(first, min(following - timedelta(days=1), self.last)))
            first = following
        return found

    def quarters(self) -> list["Period"]:
        """The calendar quarters of the period (January to March, ...), clipped to it."""
        found: list[Period] = []
        first = self.first
        while first <= self.last:
            start_month = 3 * ((first.month - 1) // 3) + 1
            following = date(first.year + (start_month + 2) // 12, (start_month + 2) % 12 + 1, 1)
            found.append(Period(first, min(following - timedelta(days=1), self.last)))
            first = following
        return found

    @classmethod
    def financial_year(cls, day: date) -> "Period":
        """The financial year (April to March) holding a day."""
        start = day.year if day.month >= FINANCIAL_YEAR_START else day.year - 1
        return cls(
            date(start, FINANCIAL_YEAR_START, 1), date(start + 1, FINANCIAL_YEAR_START, 1) - timedelta(days=1)
        )

    @property
    def label(self) -> str:
        whole_months = self.first.day == 1 and (self.last + timedelta(days=1)).day == 1
        months = (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1
        if whole_months and months == 1:
            return self.first.strftime("%Y-%m")
        if whole_months and months == 3 and self.first.month % 3 == 1:
            return f"{self.first.year}-Q{(self.first.month + 2) // 3}"
        if whole_months and months == 12 and self.first.month == FINANCIAL_YEAR_START:
            return f"{self.first.year}/{(self.first.year + 1) % 100:02d}"
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


@dataclass(frozen=True)
class Figures(VoiceFigures):
    """Rule 21's figures for one authority and period, and the child's voice's (rule 35)."""

    period: str
    episodes: int
    children: int
    in_area: int
    out_of_area: int
    returned: int
    windows_closed: int
    windows_open: int
    offers_decided: int  # window closed, or an offer made within it
    offered_within_window: int
    interviews_decided: int  # window closed, or the interview held within it
    completed_within_window: int
    breaches: int  # windows closed with no offer, decline or 'not offered' inside them
    breach_alerts: int  # `window.breached` raised; a late-reported offer never withdraws one
    declined: int  # the child declined (after an offer)
    unable_to_contact: int  # the provider tried and could not reach the child: not an offer
    not_offered: int  # the council recorded the window as not offered, with a reason code
    tasks: int
    accepted: int
    repeat_missing_alerts: int
    exploitation_alerts: int
    not_offered_by_reason: dict[str, int] = field(default_factory=dict)

    @property
    def pct_offered(self) -> float | None:
        return _pct(self.offered_within_window, self.offers_decided)

    @property
    def pct_completed(self) -> float | None:
        return _pct(self.completed_within_window, self.interviews_decided)

    @property
    def pct_accepted(self) -> float | None:
        return _pct(self.accepted, self.tasks)

    def as_dict(self) -> dict[str, object]:
        """Counts and percentages (one decimal; None where nothing was due)."""
        percentages = {
            name: percentage(getattr(self, part), getattr(self, whole))
            for name, (part, whole) in PERCENTAGES.items()
        }
        return {**asdict(self), **percentages}


@dataclass(frozen=True)
class Report:
    """The figures for a whole period and for each of its months."""

    authority: str
    source: str  # "database" or "topics"
    as_of: datetime
    window_hours: float
    total: Figures
    months: list[Figures]
    quarters: list[Figures] = field(default_factory=list)


def compute(
    episodes: Iterable[EpisodeRecord],
    tasks: Iterable[TaskRecord],
    *,
    authority: str,
    period: Period,
    window: timedelta,
    as_of: datetime,
    findings: Iterable[FindingsRecord] = (),
    rules: VoiceRules = AS_BY_DEFAULT,
) -> Figures:
    """The figures for episodes of `authority` (as responsible authority) that began in `period`, and
    for the findings of its children's interviews held in it."""
    mine = [
        e
        for e in episodes
        if e.responsible_authority == authority and not e.cancelled and period.holds(e.started_at)
    ]
    returned = [e for e in mine if e.returned_at is not None]
    closed = {e.episode_id for e in returned if _due(e, window) <= as_of}
    # Offers and interviews are judged by when they happened, counted once they are known.
    offered = {
        e.episode_id
        for e in returned
        if e.offered_at is not None and e.offered_at <= min(_due(e, window), as_of)
    }
    completed = {
        e.episode_id
        for e in returned
        if e.interviewed_at is not None and _returned(e) <= e.interviewed_at <= min(_due(e, window), as_of)
    }
    settled_otherwise = {
        e.episode_id
        for e in returned
        if e.episode_id not in offered
        and (moment := e.settled_otherwise_at) is not None
        and moment <= min(_due(e, window), as_of)
    }
    not_offered = [e for e in returned if e.not_offered_at is not None]
    my_tasks = [t for t in tasks if t.responsible_authority == authority and period.holds(t.started_at)]
    return Figures(
        period=period.label,
        episodes=len(mine),
        children=len({e.child_key for e in mine}),
        in_area=sum(1 for e in mine if not e.out_of_area),
        out_of_area=sum(1 for e in mine if e.out_of_area),
        returned=len(returned),
        windows_closed=len(closed),
        windows_open=len(returned) - len(closed),
        offers_decided=len(closed | offered | settled_otherwise),
        offered_within_window=len(offered),
        interviews_decided=len(closed | completed),
        completed_within_window=len(completed),
        breaches=len(closed - offered - settled_otherwise),
        breach_alerts=sum(1 for e in mine if e.breach_alert),
        declined=sum(1 for e in returned if e.declined_at is not None),
        unable_to_contact=sum(1 for e in returned if e.attempted_at is not None),
        not_offered=len(not_offered),
        not_offered_by_reason=dict(
            sorted(Counter(e.not_offered_reason or "unknown" for e in not_offered).items())
        ),
        tasks=len(my_tasks),
        accepted=sum(1 for t in my_tasks if t.accepted),
        repeat_missing_alerts=sum(1 for e in mine if e.repeat_alert),
        exploitation_alerts=sum(e.exploitation_alerts for e in mine),
        **vars(_voice(mine, findings, authority=authority, period=period, rules=rules, as_of=as_of)),
    )


def _voice(
    mine: list[EpisodeRecord],
    findings: Iterable[FindingsRecord],
    *,
    authority: str,
    period: Period,
    rules: VoiceRules,
    as_of: datetime,
) -> VoiceFigures:
    theirs = [f for f in findings if f.responsible_authority == authority]
    return count_voice(theirs, mine, within=period.holds, rules=rules, as_of=as_of)


def combine(period: Period, months: Sequence[Figures], children: int) -> Figures:
    """A period's figures from those of its months: every count is their sum, but for the children, who
    may have gone missing in several months (counted apart, over the whole period)."""
    totals: dict[str, int] = {}
    reasons: Counter[str] = Counter()
    for month in months:
        for name, value in vars(month).items():
            if isinstance(value, int):
                totals[name] = totals.get(name, 0) + value
        reasons.update(month.not_offered_by_reason)
    counts: dict[str, Any] = {name: totals.get(name, 0) for name in _COUNTS}
    counts["children"] = children
    counts.update(add(months))  # each figure of the voice, summed as it is typed
    return Figures(period=period.label, **counts, not_offered_by_reason=dict(sorted(reasons.items())))


def by_month(
    episodes: Sequence[EpisodeRecord],
    tasks: Sequence[TaskRecord],
    *,
    authority: str,
    period: Period,
    window: timedelta,
    as_of: datetime,
    findings: Sequence[FindingsRecord] = (),
    rules: VoiceRules = AS_BY_DEFAULT,
) -> list[Figures]:
    """The same figures for each calendar month of the period."""
    return [
        compute(
            episodes,
            tasks,
            authority=authority,
            period=month,
            window=window,
            as_of=as_of,
            findings=findings,
            rules=rules,
        )
        for month in period.months()
    ]


def by_quarter(
    episodes: Sequence[EpisodeRecord],
    tasks: Sequence[TaskRecord],
    *,
    authority: str,
    period: Period,
    window: timedelta,
    as_of: datetime,
    findings: Sequence[FindingsRecord] = (),
    rules: VoiceRules = AS_BY_DEFAULT,
) -> list[Figures]:
    """The same figures for each calendar quarter of the period."""
    return [
        compute(
            episodes,
            tasks,
            authority=authority,
            period=quarter,
            window=window,
            as_of=as_of,
            findings=findings,
            rules=rules,
        )
        for quarter in period.quarters()
    ]


_COUNTS = [
    f.name
    for f in fields(Figures)
    if f.name not in ("period", "not_offered_by_reason") and f.name not in VoiceFigures.__dataclass_fields__
]


def _returned(episode: EpisodeRecord) -> datetime:
    assert episode.returned_at is not None
    return episode.returned_at


def _due(episode: EpisodeRecord, window: timedelta) -> datetime:
    return _returned(episode) + window


def _pct(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None
