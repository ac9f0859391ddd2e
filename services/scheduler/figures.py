"""The figures councils return for an authority and a period (DOMAIN rule 21), from per-episode records.

Pure counting, no I/O: the records come either from the scheduler's read models (`report_store`) or
from a replay of the topics (`replay`), and the two must give the same figures.

Every figure is counted by when the episode began: an episode belongs to the month it started in, and
an interview task to the month its first episode started in. Episodes cancelled as reported in error
are left out. A window figure is decided once it is known: an offer made within the window counts as
soon as it is made, a window that closed without one counts as missed; a window still open with no
offer yet counts for neither.
"""

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta


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
class Period:
    """From the first to the last day, both included (UTC)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        """The first instant after the period."""
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)

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

    @property
    def label(self) -> str:
        whole_month = self.first.day == 1 and (self.last + timedelta(days=1)).day == 1
        if whole_month and self.first.month == self.last.month:
            return self.first.strftime("%Y-%m")
        return f"{self.first.isoformat()}..{self.last.isoformat()}"


@dataclass(frozen=True)
class Figures:
    """Rule 21's figures for one authority and period."""

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
    breaches: int  # windows closed with no offer made inside them
    breach_alerts: int  # `window.breached` raised; a late-reported offer never withdraws one
    tasks: int
    accepted: int
    repeat_missing_alerts: int
    exploitation_alerts: int

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
        return {
            **asdict(self),
            "pct_offered_within_window": _round(self.pct_offered),
            "pct_accepted": _round(self.pct_accepted),
            "pct_completed_within_window": _round(self.pct_completed),
        }


@dataclass(frozen=True)
class Report:
    """The figures for a whole period and for each of its months."""

    authority: str
    source: str  # "database" or "topics"
    as_of: datetime
    window_hours: float
    total: Figures
    months: list[Figures]


def compute(
    episodes: Iterable[EpisodeRecord],
    tasks: Iterable[TaskRecord],
    *,
    authority: str,
    period: Period,
    window: timedelta,
    as_of: datetime,
) -> Figures:
    """The figures for episodes of `authority` (as responsible authority) that began in `period`."""
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
        offers_decided=len(closed | offered),
        offered_within_window=len(offered),
        interviews_decided=len(closed | completed),
        completed_within_window=len(completed),
        breaches=len(closed - offered),
        breach_alerts=sum(1 for e in mine if e.breach_alert),
        tasks=len(my_tasks),
        accepted=sum(1 for t in my_tasks if t.accepted),
        repeat_missing_alerts=sum(1 for e in mine if e.repeat_alert),
        exploitation_alerts=sum(e.exploitation_alerts for e in mine),
    )


def by_month(
    episodes: Sequence[EpisodeRecord],
    tasks: Sequence[TaskRecord],
    *,
    authority: str,
    period: Period,
    window: timedelta,
    as_of: datetime,
) -> list[Figures]:
    """The same figures for each calendar month of the period."""
    return [
        compute(episodes, tasks, authority=authority, period=month, window=window, as_of=as_of)
        for month in period.months()
    ]


def _returned(episode: EpisodeRecord) -> datetime:
    assert episode.returned_at is not None
    return episode.returned_at


def _due(episode: EpisodeRecord, window: timedelta) -> datetime:
    return _returned(episode) + window


def _pct(part: int, whole: int) -> float | None:
    return 100.0 * part / whole if whole else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
