"""Publishing each authority's figures (docs/domain.md rule 21) for the senior manager's page.

Intake renders the page but may not read the scheduler's tables: the scheduler counts the figures
(the same counting as `mtp report --source database`) and publishes them on `mtp.figures.v1`, counts
only. A round costs what changed, not what there is: it asks PostgreSQL for the months (UK time) whose
figures may have changed since the last round (a read-model row of theirs was written, a window of
theirs closed, or a moment stamped ahead of its writing came: a window that closes turns "still open"
into "closed" or a breach without any event), has PostgreSQL count those months again, and makes each
quarter and financial year holding one of them from its months (the children, who may go missing in
several months, counted over the whole period). Of this financial year and the last one, it publishes
the periods whose figures differ from what it last published for them (`scheduler.figures_sent`, which
also keeps each month's counts): a period's latest event holds its figures from its `as_of` until a
later one. All of it is counted at one moment (`as_of`, taken under the authority's lock; `mtp report
--as-of` with it counts the same). The first round after a start, and the first of each day (a new
month or year begins; an erasure or a changed window may have changed old figures), counts every month
of every local authority in the directory.

Rounds of two scheduler instances do not double up: an authority is counted under a transaction-level
advisory lock, and an instance that cannot take it leaves that authority to the one that holds it.
"""

import asyncio
import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime, timedelta

import structlog
from pydantic import ValidationError

from services.scheduler.report import store as report_store
from services.scheduler.report.figures import LOCAL, Figures, Period, combine
from services.scheduler.report.voice import VoiceRules
from services.scheduler.settle import SOURCE
from services.scheduler.store import tables
from services.scheduler.store.tables import SCHEMA
from shared import outbox, topics
from shared.clock import Clock
from shared.contracts.envelope import Envelope
from shared.contracts.figures import FiguresPublished, PeriodKind
from shared.db import LOOP_ERRORS
from shared.live_directory import LiveDirectory
from shared.waits import wait_any

log = structlog.get_logger()

# Changes committed this long after the moment they were stamped with are still found by the next round.
COMMIT_MARGIN = timedelta(minutes=1)

LOCK_AUTHORITY = "SELECT pg_try_advisory_xact_lock(hashtext('scheduler.figures'), hashtext($1))"
SELECT_SENT = "SELECT period, digest, figures FROM scheduler.figures_sent WHERE authority = $1"
UPSERT_SENT = """
INSERT INTO scheduler.figures_sent (authority, period, digest, as_of, figures) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (authority, period) DO UPDATE
SET digest = EXCLUDED.digest, as_of = EXCLUDED.as_of, figures = EXCLUDED.figures
"""


def periods_around(today: date) -> list[tuple[Period, PeriodKind]]:
    """This financial year and the last one: each year, its quarters and its months."""
    this_year = Period.financial_year(today)
    last_year = Period.financial_year(this_year.first - timedelta(days=1))
    found: list[tuple[Period, PeriodKind]] = []
    for year in (last_year, this_year):
        found.append((year, "year"))
        found.extend((quarter, "quarter") for quarter in year.quarters())
        found.extend((month, "month") for month in year.months())
    return found


def published(
    authority: str,
    period: Period,
    kind: PeriodKind,
    figures: Figures,
    *,
    as_of: datetime,
    window_hours: float,
) -> FiguresPublished:
    """The event for one period's figures."""
    counts = {name: value for name, value in vars(figures).items() if name != "period"}
    return FiguresPublished(
        authority=authority,
        period=period.label,
        kind=kind,
        first_day=period.first,
        last_day=period.last,
        as_of=as_of,
        window_hours=window_hours,
        **counts,
    )


def assemble(
    periods: Iterable[tuple[Period, PeriodKind]],
    months: Mapping[str, Figures],
    counted: Collection[str],
    children: Mapping[str, int],
) -> list[tuple[Period, PeriodKind, Figures]]:
    """The periods a recount of the `counted` months changes, with their figures: those months, and each
    quarter and year holding one, made from `months` (every month's figures, by label) and `children`
    (how many children each of those quarters and years had, by label)."""
    found: list[tuple[Period, PeriodKind, Figures]] = []
    for period, kind in periods:
        if kind == "month":
            if period.label in counted:
                found.append((period, kind, months[period.label]))
            continue
        parts = [month.label for month in period.months()]
        if any(label in counted for label in parts):
            whole = combine(period, [months[label] for label in parts], children[period.label])
            found.append((period, kind, whole))
    return found


class FiguresLoop:
    """Publishes changed authorities' figures every `interval_seconds` until stopped."""

    def __init__(
        self,
        pool: tables.Pool,
        clock: Clock,
        directory: LiveDirectory,
        *,
        namespace: str,
        interval_seconds: float,
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._directory = directory
        self._topic = topics.named(namespace, topics.FIGURES)
        self._interval = interval_seconds

    async def run(self, stop: asyncio.Event) -> None:
        since: datetime | None = None  # the first round counts every authority
        while not stop.is_set():
            started = self._clock.now()
            try:
                await self.publish_round(since, started)
                since = started
            except LOOP_ERRORS as exc:
                log.warning("figures_round_retrying", error=type(exc).__name__)
            await wait_any(stop, timeout=self._interval)

    async def publish_round(self, since: datetime | None, now: datetime) -> int:
        """Count again the months of every authority that may have changed since `since` (every month
        of every authority when None, or on a new day) and publish the periods that did; return how
        many were published."""
        everything: set[str] = set()
        if since is None or since.astimezone(LOCAL).date() != now.astimezone(LOCAL).date():
            # at start, and on each new day (a new month or year begins, figures may have been erased)
            directory = self._directory.current
            everything = {
                org.authority_code for org in directory.of_kind("local_authority") if org.authority_code
            }
        async with self._pool.acquire() as conn:
            changes = await report_store.changed_months(
                conn, None if since is None else since - COMMIT_MARGIN, now
            )
        published = 0
        for authority in sorted(everything | set(changes.months)):
            months = None if authority in everything else changes.months[authority]
            try:
                periods = await self._publish(authority, months, changes.notes.get(authority, []))
            except ValidationError as exc:  # figures no event can carry: say so, count the others
                log.error("figures_not_publishable", authority=authority, errors=exc.error_count())
                continue
            if periods:
                log.info("figures_published", authority=authority, periods=periods)
            published += periods
        return published

    async def _publish(self, authority: str, months: set[date] | None, notes: list[int]) -> int:
        """Count the authority's `months` (their first days; every month when None) again and publish
        what changed, forgetting the `notes` that asked for it; return how many periods were published."""
        timing = self._directory.current.timing_for(authority)
        window_hours = timing.interview_window_hours
        window = timedelta(hours=window_hours)
        rules = VoiceRules.of(timing)
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval(LOCK_AUTHORITY, authority):
                return 0  # another instance is counting it now
            # Counted at a moment taken under the lock, so of two counts the later one is the newer.
            as_of = self._clock.now()
            periods = periods_around(as_of.astimezone(LOCAL).date())
            sent = {row["period"]: row for row in await conn.fetch(SELECT_SENT, authority)}
            figures: dict[str, Figures] = {}
            counted: list[str] = []
            for month, kind in periods:
                row = sent.get(month.label)
                if kind != "month":
                    continue
                if (months is None or month.first in months) or row is None or row["figures"] is None:
                    figures[month.label] = await report_store.month_figures(
                        conn, authority, month, window=window, as_of=as_of, rules=rules
                    )
                    counted.append(month.label)
                else:
                    figures[month.label] = _stored(month, row["figures"])
            children = {
                period.label: await report_store.children(conn, authority, period)
                for period, kind in periods
                if kind != "month" and any(m.label in counted for m in period.months())
            }
            events = [
                published(authority, period, kind, found, as_of=as_of, window_hours=window_hours)
                for period, kind, found in assemble(periods, figures, counted, children)
            ]
            changed = [
                (f, _digest(f))
                for f in events
                if (row := sent.get(f.period)) is None or row["digest"] != _digest(f)
            ]
            await conn.executemany(
                UPSERT_SENT,
                [(authority, f.period, digest, as_of, _counts(f)) for f, digest in changed],
            )
            await outbox.enqueue(conn, SCHEMA, [(self._topic, authority, _envelope(f)) for f, _ in changed])
            await report_store.forget_changes(conn, notes)
        return len(changed)


def _stored(month: Period, counts: str | dict[str, object]) -> Figures:
    values = json.loads(counts) if isinstance(counts, str) else dict(counts)
    return Figures(period=month.label, **values)


def _counts(figures: FiguresPublished) -> str:
    """A period's counts as `scheduler.figures_sent` keeps them (a Figures, without its label)."""
    names = [name for name in Figures.__dataclass_fields__ if name != "period"]
    return json.dumps({name: getattr(figures, name) for name in names})


def _digest(figures: FiguresPublished) -> str:
    """What identifies a period's figures, whenever they were counted."""
    counts = figures.model_dump_json(exclude={"as_of"})
    return hashlib.sha256(counts.encode()).hexdigest()


def _envelope(figures: FiguresPublished) -> Envelope:
    return Envelope(
        id=f"figures:{figures.authority}:{figures.period}:{figures.as_of.isoformat()}",
        source=SOURCE,
        type=figures.type_name,
        time=figures.as_of,
        data=figures,
        subject=figures.period,
        key=figures.authority,
    )
