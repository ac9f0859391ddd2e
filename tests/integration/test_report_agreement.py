"""The report from the scheduler's stored state and the report from a replay of the topics agree, on a
generated history of several hundred children driven through the real scheduler, Kafka and PostgreSQL:
rule 21's figures and the child's voice's (docs/domain.md rule 35)."""

import random
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
from services.scheduler.report.voice import FindingsRecord, VoiceRules
from shared import topics
from shared.contracts.envelope import Envelope
from shared.contracts.tasks import InterviewRequested
from shared.contracts.voice import VOICE_REPORTS, FindingsResponded, NrmDecided
from shared.kafka import client_options
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory
from tests.events import CARDIFF, NEWPORT
from tests.history import (
    HEARD_OFTEN,
    Planned,
    episode_history,
    heard,
    heard_often,
    interview_history,
    nrm_decisions,
)
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
            # Intake numbers what it accepts of the child's timeline (not a council's answers or decisions).
            through_intake = item.topic != "assignments" and not isinstance(item.data, VOICE_REPORTS)
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


async def settled(settings: SchedulerSettings, planned: list[Planned]) -> None:
    """Poll until the scheduler has taken in every event published (the reports as facts, the councils'
    answers and NRM decisions in the voice's tables) and its outbox is empty."""
    answers = sum(isinstance(p.data, FindingsResponded) for p in planned)
    decisions = sum(isinstance(p.data, NrmDecided) for p in planned)
    facts = len(planned) - answers - decisions

    async def check() -> bool:
        conn = await asyncpg.connect(settings.database_url)
        try:
            taken = (
                await conn.fetchval("SELECT count(*) FROM scheduler.facts"),
                await conn.fetchval("SELECT count(*) FROM scheduler.findings_responses"),
                await conn.fetchval("SELECT count(*) FROM scheduler.nrm WHERE decision IS NOT NULL"),
            )
            backlog = await conn.fetchval("SELECT count(*) FROM scheduler.outbox WHERE sent_at IS NULL")
        finally:
            await conn.close()
        return bool(taken == (facts, answers, decisions) and backlog == 0)

    await poll(check, timeout=90, interval=0.3)


async def drive_history(settings: SchedulerSettings, children: int, now: datetime) -> None:
    """A generated history of `children` through the scheduler: the reports, then the notifier's and
    providers' side for the tasks it opened; waits until every event is applied and published. The
    children heard often are interviewed after each absence, before the next is reported."""
    published: list[Planned] = []
    numbers: dict[str, int] = {}

    async def publish(planned: list[Planned]) -> None:
        await publish_all(settings, planned, numbers, first=len(published))
        published.extend(planned)
        await settled(settings, published)

    await publish(episode_history(now, children))
    often = random.Random(24)
    held: set[str] = set()
    for time in range(HEARD_OFTEN):
        await publish(heard_often(now, time))
        fresh = [
            r for r in await _requests(settings) if r.child_ref.startswith("H-") and r.task_id not in held
        ]
        held |= {r.task_id for r in fresh}
        await publish([item for request in fresh for item in heard(often, request, now)])
    requests = [r for r in await _requests(settings) if r.task_id not in held]
    await publish(interview_history(requests, now) + nrm_decisions(requests, now))


async def test_the_stored_report_and_the_replayed_report_agree(
    scheduler: FastAPI, settings: SchedulerSettings
) -> None:
    now = datetime.now(UTC)
    await drive_history(settings, CHILDREN, now)

    period = Period((now - timedelta(days=130)).date(), now.date())
    window = timedelta(hours=72)
    rules = VoiceRules()  # the directory's: a reason said in 3 interviews within 180 days
    as_of = datetime.now(UTC)
    replayed = await from_topics(settings)
    for authority in (CARDIFF, NEWPORT):
        found = await from_database(settings, authority, period, rules)
        stored_episodes, stored_tasks = found.episodes, found.tasks
        mine = sorted(
            (e for e in replayed.episodes if e.responsible_authority == authority), key=lambda e: e.episode_id
        )
        diffs = _differences(stored_episodes, mine)
        assert not diffs, "\n".join(diffs)
        assert sorted(stored_tasks, key=lambda t: t.task_id) == sorted(
            (t for t in replayed.tasks if t.responsible_authority == authority), key=lambda t: t.task_id
        )
        heard = sorted((f for f in replayed.findings if f.responsible_authority == authority), key=_id)
        assert sorted(found.findings, key=_id) == [f for f in heard if f.completed_at >= found_since(period)]
        kwargs = {"authority": authority, "period": period, "window": window, "as_of": as_of, "rules": rules}
        stored = compute(stored_episodes, stored_tasks, findings=found.findings, **kwargs)  # type: ignore[arg-type]
        assert stored == compute(replayed.episodes, replayed.tasks, findings=replayed.findings, **kwargs)  # type: ignore[arg-type]
        assert by_month(stored_episodes, stored_tasks, findings=found.findings, **kwargs) == by_month(  # type: ignore[arg-type]
            replayed.episodes,
            replayed.tasks,
            findings=replayed.findings,
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
        # ... and every kind of case the voice's figures distinguish.
        assert stored.heard > 20
        assert min(stored.heard_in_area, stored.heard_out_of_area, stored.placement_reviews) > 0
        assert min(stored.answered_in_time, stored.answered_late, stored.answer_overdue) > 0
        assert 0 < stored.child_told < stored.heard
        from collections import Counter

        print(
            "PER CHILD",
            sorted(Counter(f.child_key for f in found.findings).values())[-10:],
            len(found.findings),
        )
        assert stored.said_again > 0
        assert min(stored.exploitation_arrested, stored.nrm_decided, stored.nrm_undecided) > 0
        assert stored.exploitation_arrested < stored.exploitation_episodes
        await _months_counted_in_sql_agree(settings, authority, period, window, as_of, rules)


async def _months_counted_in_sql_agree(
    settings: SchedulerSettings,
    authority: str,
    period: Period,
    window: timedelta,
    as_of: datetime,
    rules: VoiceRules,
) -> None:
    """The figures loop's months, counted by PostgreSQL, are the report's; so are its children."""
    whole = Period(period.first.replace(day=1), month_of(period.last).last)
    found = await from_database(settings, authority, whole, rules)
    episodes, tasks = found.episodes, found.tasks
    conn = await asyncpg.connect(settings.database_url)
    try:
        for month in whole.months():
            kwargs = {
                "authority": authority,
                "period": month,
                "window": window,
                "as_of": as_of,
                "rules": rules,
            }
            expected = compute(episodes, tasks, findings=found.findings, **kwargs)  # type: ignore[arg-type]
            counted = await month_figures(conn, authority, month, window=window, as_of=as_of, rules=rules)
            assert counted == expected, month.label
        assert (
            await children(conn, authority, whole)
            == compute(
                episodes, tasks, authority=authority, period=whole, window=window, as_of=as_of
            ).children
        )
    finally:
        await conn.close()


def _id(findings: FindingsRecord) -> str:
    return findings.findings_id


def found_since(period: Period) -> datetime:
    """The earliest interview the database's records hold for a period: those a reason said again
    within the default 180 days looks back on."""
    return period.start - VoiceRules().said_again_within


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
