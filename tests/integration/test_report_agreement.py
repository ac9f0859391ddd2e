"""The report from the scheduler's stored state and the report from a replay of the topics agree, on a
generated history of several hundred children driven through the real scheduler, Kafka and PostgreSQL."""

from collections.abc import AsyncIterator
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from services.scheduler.app import create_app
from services.scheduler.core.settings import SchedulerSettings
from services.scheduler.report.command import from_database, from_topics
from services.scheduler.report.figures import EpisodeRecord, Period, by_month, compute
from services.scheduler.report.store import children, month_figures, month_of
from services.scheduler.report.topic_log import read_all
from shared import topics
from shared.contracts.envelope import Envelope
from shared.contracts.tasks import InterviewRequested
from shared.kafka import client_options
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory
from tests.events import CARDIFF, NEWPORT
from tests.history import Planned, episode_history, interview_history
from tests.kafka_reader import poll

TOPICS = {
    "episodes": topics.EPISODES,
    "interviews": topics.INTERVIEWS,
    "assignments": topics.ASSIGNMENTS,
}
CHILDREN = 300
SOURCES = {
    "episodes": "/orgs/south-wales-police",
    "interviews": "/orgs/nyas-cymru",
    "assignments": "/mtp/notifier",
}


@pytest.fixture
async def settings(place: Place, directory: DirectoryFactory) -> SchedulerSettings:
    return SchedulerSettings(**place.settings_kwargs(directory.write()))  # type: ignore[arg-type]


@pytest.fixture
async def scheduler(settings: SchedulerSettings) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def publish_all(
    settings: SchedulerSettings, planned: list[Planned], numbers: dict[str, int], first: int = 0
) -> None:
    """Publish as intake and the notifier would: what came through intake numbered per child."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=20)
    await producer.start()
    try:
        for n, item in enumerate(planned, start=first):
            through_intake = item.topic != "assignments"
            if through_intake:
                numbers[item.key] = numbers.get(item.key, 0) + 1
            envelope = Envelope(
                id=f"h-{n}-{item.topic}",
                source=item.source or SOURCES[item.topic],
                type=item.data.type_name,
                time=item.time,
                data=item.data,
                childseq=numbers[item.key] if through_intake else None,
            )
            await producer.send(
                topics.named(settings.topic_namespace, TOPICS[item.topic]),
                envelope.kafka_value(),
                key=item.key.encode(),
                headers=envelope.kafka_headers(),
            )
        await producer.flush()
    finally:
        await producer.stop()


async def settled(settings: SchedulerSettings, published: int) -> None:
    """Poll until the scheduler has applied every event published and its outbox is empty."""

    async def check() -> bool:
        conn = await asyncpg.connect(settings.database_url)
        try:
            applied = await conn.fetchval("SELECT count(*) FROM scheduler.facts")
            backlog = await conn.fetchval("SELECT count(*) FROM scheduler.outbox WHERE sent_at IS NULL")
        finally:
            await conn.close()
        return bool(applied == published and backlog == 0)

    await poll(check, timeout=90, interval=0.3)


async def drive_history(settings: SchedulerSettings, children: int, now: datetime) -> None:
    """A generated history of `children` through the scheduler: the reports, then the notifier's and
    providers' side for the tasks it opened; waits until every event is applied and published."""
    history = episode_history(now, children)
    numbers: dict[str, int] = {}
    await publish_all(settings, history, numbers)
    await settled(settings, len(history))
    reports = interview_history(await _requests(settings), now)
    await publish_all(settings, reports, numbers, first=len(history))
    await settled(settings, len(history) + len(reports))


async def test_the_stored_report_and_the_replayed_report_agree(
    scheduler: FastAPI, settings: SchedulerSettings
) -> None:
    now = datetime.now(UTC)
    await drive_history(settings, CHILDREN, now)

    period = Period((now - timedelta(days=130)).date(), now.date())
    window = timedelta(hours=72)
    as_of = datetime.now(UTC)
    replayed_episodes, replayed_tasks = await from_topics(settings)
    for authority in (CARDIFF, NEWPORT):
        stored_episodes, stored_tasks = await from_database(settings, authority, period)
        mine = sorted(
            (e for e in replayed_episodes if e.responsible_authority == authority), key=lambda e: e.episode_id
        )
        diffs = _differences(stored_episodes, mine)
        assert not diffs, "\n".join(diffs)
        assert sorted(stored_tasks, key=lambda t: t.task_id) == sorted(
            (t for t in replayed_tasks if t.responsible_authority == authority), key=lambda t: t.task_id
        )
        kwargs = {"authority": authority, "period": period, "window": window, "as_of": as_of}
        stored = compute(stored_episodes, stored_tasks, **kwargs)  # type: ignore[arg-type]
        assert stored == compute(replayed_episodes, replayed_tasks, **kwargs)  # type: ignore[arg-type]
        assert by_month(stored_episodes, stored_tasks, **kwargs) == by_month(  # type: ignore[arg-type]
            replayed_episodes,
            replayed_tasks,
            **kwargs,  # type: ignore[arg-type]
        )
        # The history holds every kind of case the figures distinguish, in each authority.
        assert stored.episodes >= 200
        assert stored.out_of_area > 10
        assert stored.repeat_missing_alerts > 5
        assert stored.exploitation_alerts > 5
        assert 0 < stored.offered_within_window < stored.windows_closed
        assert 0 < stored.completed_within_window < stored.offered_within_window
        assert stored.breaches > 0
        assert stored.windows_open > 0
        assert 0 < stored.accepted < stored.tasks
        assert min(stored.not_offered, stored.declined, stored.unable_to_contact) > 0
        await _months_counted_in_sql_agree(settings, authority, period, window, as_of)


async def _months_counted_in_sql_agree(
    settings: SchedulerSettings, authority: str, period: Period, window: timedelta, as_of: datetime
) -> None:
    """The figures loop's months, counted by PostgreSQL, are the report's; so are its children."""
    whole = Period(period.first.replace(day=1), month_of(period.last).last)
    episodes, tasks = await from_database(settings, authority, whole)
    conn = await asyncpg.connect(settings.database_url)
    try:
        for month in whole.months():
            kwargs = {"authority": authority, "period": month, "window": window, "as_of": as_of}
            expected = compute(episodes, tasks, **kwargs)  # type: ignore[arg-type]
            assert await month_figures(conn, authority, month, window=window, as_of=as_of) == expected
        assert (
            await children(conn, authority, whole)
            == compute(
                episodes, tasks, authority=authority, period=whole, window=window, as_of=as_of
            ).children
        )
    finally:
        await conn.close()


async def _requests(settings: SchedulerSettings) -> list[InterviewRequested]:
    envelopes = await read_all(
        client_options(settings), [topics.named(settings.topic_namespace, topics.TASKS)]
    )
    return [e.data for e in envelopes if isinstance(e.data, InterviewRequested)]


def _differences(stored: list[EpisodeRecord], replayed: list[EpisodeRecord]) -> list[str]:
    """Each episode on which the two disagree, field by field (readable when the test fails)."""
    by_id = {e.episode_id: e for e in replayed}
    found = [f"only stored: {e.episode_id}" for e in stored if e.episode_id not in by_id]
    stored_ids = {e.episode_id for e in stored}
    found += [f"only replayed: {i}" for i in by_id if i not in stored_ids]
    for episode in stored:
        other = by_id.get(episode.episode_id)
        if other is None:
            continue
        a, b = asdict(episode), asdict(other)
        found += [f"{episode.episode_id} {k}: stored {a[k]} replayed {b[k]}" for k in a if a[k] != b[k]]
    return found
