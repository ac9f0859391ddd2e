"""The scheduler against real Kafka and PostgreSQL: episodes in, tasks and alerts out, once each."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI

from services.scheduler.app import create_app
from services.scheduler.core.settings import SchedulerSettings
from shared import topics
from shared.contracts.episodes import MissingReported, Returned, RiskChanged
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory
from tests.events import CARDIFF, NEWPORT, publish
from tests.kafka_reader import headers_of, read_topic


@pytest.fixture
async def scheduler(place: Place, directory: DirectoryFactory) -> AsyncIterator[FastAPI]:
    app = create_app(SchedulerSettings(**place.settings_kwargs(directory.write())))  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        yield app


def reported(child: str, since: datetime, placement: str = CARDIFF) -> MissingReported:
    return MissingReported(
        child_ref=child,
        responsible_authority=CARDIFF,
        placement_authority=placement,
        kind="missing",
        missing_since=since,
        risk_level="medium",
        police_force="south-wales-police",
        police_reference="R1",
    )


async def test_a_return_opens_the_window_and_a_return_72_hours_ago_is_breached(
    scheduler: FastAPI, place: Place
) -> None:
    episodes = topics.named(place.namespace, topics.EPISODES)
    now = datetime.now(UTC)
    key = f"{CARDIFF}/C-200"
    await publish(place.bootstrap, episodes, key, reported("C-200", now - timedelta(hours=80), NEWPORT))
    await publish(
        place.bootstrap,
        episodes,
        key,
        Returned(child_ref="C-200", responsible_authority=CARDIFF, returned_at=now - timedelta(hours=73)),
    )

    records = await read_topic(
        place.bootstrap,
        topics.named(place.namespace, topics.TASKS),
        until=lambda rs: any(headers_of(r)["ce_type"] == "window.breached" for r in rs),
    )
    by_type: dict[str, list[dict[str, object]]] = {}
    for record in records:
        by_type.setdefault(headers_of(record)["ce_type"], []).append(json.loads(record.value))
        assert record.key == key.encode()
    requested = by_type["interview.requested"][0]
    assert requested["offer_due_at"] == (now - timedelta(hours=73) + timedelta(hours=72)).isoformat().replace(
        "+00:00", "Z"
    )
    assert len(by_type["window.breached"]) == 1
    assert {w["stage"] for w in by_type["window.warning"]} == {"no_provider_accepted", "no_offer_made"}
    assert by_type["episode.opened"][0]["placement_authority"] == NEWPORT
    # Long-missing alerts depend on whether the report was handled before the return arrived
    # (then the child had been missing 80 hours on what was known); virtual-time tests cover them.


async def test_a_redelivered_event_changes_nothing(scheduler: FastAPI, place: Place) -> None:
    episodes = topics.named(place.namespace, topics.EPISODES)
    now = datetime.now(UTC)
    key = f"{CARDIFF}/C-201"
    report_event = reported("C-201", now - timedelta(hours=3))
    await publish(place.bootstrap, episodes, key, report_event, id_="dup-1")
    back = Returned(child_ref="C-201", responsible_authority=CARDIFF, returned_at=now - timedelta(hours=1))
    await publish(place.bootstrap, episodes, key, back, id_="dup-2")
    await publish(place.bootstrap, episodes, key, back, id_="dup-2")  # at-least-once: a repeat
    # A later event for the same child (same partition, so handled after the repeat) marks the end.
    high = RiskChanged(child_ref="C-201", responsible_authority=CARDIFF, risk_level="high", changed_at=now)
    await publish(place.bootstrap, episodes, key, high, id_="dup-3")
    records = await read_topic(
        place.bootstrap, topics.named(place.namespace, topics.TASKS), at_least=3, timeout=20
    )
    types = sorted(headers_of(r)["ce_type"] for r in records)
    assert types == ["alert.high_risk", "episode.opened", "interview.requested"]


async def test_an_unreadable_message_goes_to_the_dead_letter_topic_with_its_reason(
    scheduler: FastAPI, place: Place
) -> None:
    from aiokafka import AIOKafkaProducer

    episodes = topics.named(place.namespace, topics.EPISODES)
    producer = AIOKafkaProducer(bootstrap_servers=place.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            episodes, b"not json", key=b"x", headers=[("ce_type", b"missing.reported")]
        )
    finally:
        await producer.stop()
    now = datetime.now(UTC)
    await publish(place.bootstrap, episodes, f"{CARDIFF}/C-202", reported("C-202", now - timedelta(hours=1)))
    dead = await read_topic(place.bootstrap, topics.dlq(episodes), at_least=1)
    assert headers_of(dead[0])["mtp_dlq_reason"].startswith("missing_headers")
    assert dead[0].value == b"not json"
    # ...and the consumer kept consuming.
    records = await read_topic(place.bootstrap, topics.named(place.namespace, topics.TASKS), at_least=1)
    assert headers_of(records[0])["ce_type"] == "episode.opened"
