"""Publishing each authority's figures (docs/domain.md rule 21) for the senior manager's page.

Intake renders the page but may not read the scheduler's tables: the scheduler counts the figures
(the same counting as `mtp report --source database`) and publishes them on `mtp.figures.v1`, counts
only. A round looks for authorities whose figures may have changed since the last round: a child of
theirs had a new event or a timer fired, a fact stamped ahead of its arrival reached its moment, or a
window of theirs closed (a window that closes turns "still open" into "closed" or a breach without any
event). For each, it counts every month, quarter and financial year of this financial year and the last
one at one moment (`as_of`, taken under the authority's lock; `mtp report --as-of` with it counts the
same), and publishes the periods whose figures differ from what it last published for them
(`scheduler.figures_sent`): a period's latest event holds its figures from its `as_of` until a later
one. The first round after a start, and the first of each day (a new month or year begins; an erasure
or a changed window may have changed old figures), counts every local authority in the directory.

Rounds of two scheduler instances do not double up: an authority is counted under a transaction-level
advisory lock, and an instance that cannot take it leaves that authority to the one that holds it.
"""

import asyncio
import hashlib
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import asyncpg
import structlog
from pydantic import ValidationError

from services.scheduler.report.database import load_records
from services.scheduler.report.figures import LOCAL, EpisodeRecord, Figures, Period, TaskRecord, compute
from services.scheduler.settle import SOURCE
from services.scheduler.store import SCHEMA
from shared import outbox, topics
from shared.clock import Clock
from shared.contracts.envelope import Envelope
from shared.contracts.figures import FiguresPublished, PeriodKind
from shared.db import LOOP_ERRORS
from shared.directory import LiveDirectory
from shared.waits import wait_any

log = structlog.get_logger()

# Changes committed this long after the moment they were stamped with are still found by the next round.
COMMIT_MARGIN = timedelta(minutes=1)

# Authorities with a child whose history grew, whose timers fired, or whose window closed, since $1;
# and those with a fact stamped ahead of its arrival (senders' clocks may run fast) whose moment came.
CHANGED_AUTHORITIES = """
SELECT split_part(child_key, '/', 1) AS authority FROM scheduler.facts WHERE received_at >= $1
UNION
SELECT split_part(child_key, '/', 1) FROM scheduler.facts WHERE time >= $1 AND time <= $2 AND time > received_at
UNION
SELECT split_part(child_key, '/', 1) FROM scheduler.timers WHERE fired_at >= $1
UNION
SELECT responsible_authority FROM scheduler.episodes WHERE offer_due_at >= $1 AND offer_due_at <= $2
"""
LOCK_AUTHORITY = "SELECT pg_try_advisory_xact_lock(hashtext('scheduler.figures'), hashtext($1))"
SELECT_SENT = "SELECT period, digest FROM scheduler.figures_sent WHERE authority = $1"
UPSERT_SENT = """
INSERT INTO scheduler.figures_sent (authority, period, digest, as_of) VALUES ($1, $2, $3, $4)
ON CONFLICT (authority, period) DO UPDATE SET digest = EXCLUDED.digest, as_of = EXCLUDED.as_of
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


class FiguresLoop:
    """Publishes changed authorities' figures every `interval_seconds` until stopped."""

    def __init__(
        self,
        pool: asyncpg.Pool,
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
        """Count again the figures of every authority that may have changed since `since` (all of them
        when None) and publish the periods that did; return how many were published."""
        authorities: set[str] = set()
        if since is None or since.astimezone(LOCAL).date() != now.astimezone(LOCAL).date():
            # at start, and on each new day (a new month or year begins, figures may have been erased)
            directory = self._directory.current
            authorities |= {
                org.authority_code for org in directory.of_kind("local_authority") if org.authority_code
            }
        if since is not None:
            async with self._pool.acquire() as conn:
                rows = await conn.fetch(CHANGED_AUTHORITIES, since - COMMIT_MARGIN, now)
            authorities |= {row["authority"] for row in rows}
        published = 0
        for authority in sorted(authorities):
            try:
                periods = await self._publish(authority)
            except ValidationError as exc:  # figures no event can carry: say so, count the others
                log.error("figures_not_publishable", authority=authority, errors=exc.error_count())
                continue
            if periods:
                log.info("figures_published", authority=authority, periods=periods)
            published += periods
        return published

    async def _publish(self, authority: str) -> int:
        window_hours = self._directory.current.timing_for(authority).interview_window_hours
        async with self._pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval(LOCK_AUTHORITY, authority):
                return 0  # another instance is counting it now
            # Counted at a moment taken under the lock, so of two counts the later one is the newer.
            as_of = self._clock.now()
            periods = periods_around(as_of.astimezone(LOCAL).date())
            span = Period(periods[0][0].first, periods[-1][0].last)
            sent = {row["period"]: row["digest"] for row in await conn.fetch(SELECT_SENT, authority)}
            episodes, tasks = await load_records(conn, authority, span)
            counted = _counted(authority, periods, episodes, tasks, as_of=as_of, window_hours=window_hours)
            changed = [(f, _digest(f)) for f in counted if sent.get(f.period) != _digest(f)]
            await conn.executemany(
                UPSERT_SENT, [(authority, f.period, digest, as_of) for f, digest in changed]
            )
            await outbox.enqueue(conn, SCHEMA, [(self._topic, authority, _envelope(f)) for f, _ in changed])
        return len(changed)


def _digest(figures: FiguresPublished) -> str:
    """What identifies a period's figures, whenever they were counted."""
    counts = figures.model_dump_json(exclude={"as_of"})
    return hashlib.sha256(counts.encode()).hexdigest()


def _counted(
    authority: str,
    periods: Iterable[tuple[Period, PeriodKind]],
    episodes: list[EpisodeRecord],
    tasks: list[TaskRecord],
    *,
    as_of: datetime,
    window_hours: float,
) -> list[FiguresPublished]:
    window = timedelta(hours=window_hours)
    return [
        published(
            authority,
            period,
            kind,
            compute(episodes, tasks, authority=authority, period=period, window=window, as_of=as_of),
            as_of=as_of,
            window_hours=window_hours,
        )
        for period, kind in periods
    ]


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
