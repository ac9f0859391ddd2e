"""The broker goes away: intake keeps accepting, and once a broker is back every event accepted in
the meantime is published exactly once per id, in order per child.

The embedded broker keeps its log in memory, so a restarted one starts empty: what is ours to prove
is that events accepted while it was away waited in the outbox and arrived after (docs/operations.md,
Operating). This test has a broker of its own so that stopping it disturbs no other test.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import ConsumerRecord

from services.intake.app import create_app
from services.intake.core.settings import IntakeSettings
from shared import topics
from shared.kafka import create_topics
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory
from tests.events import report, returned
from tests.integration.conftest import as_org
from tests.kafka_reader import headers_of, poll, read_topic
from tools.embedded import Tansu, start_tansu

POLICE = as_org("south-wales-police")


@pytest.fixture
async def brokers() -> AsyncIterator[list[Tansu]]:
    """This test's brokers: the first one, and the one started on its port after it stopped."""
    started = [await asyncio.to_thread(start_tansu)]
    try:
        yield started
    finally:
        for broker in started:
            await asyncio.to_thread(broker.stop)


async def test_events_accepted_while_the_broker_is_down_are_published_once_in_order(
    place: Place, directory: DirectoryFactory, brokers: list[Tansu]
) -> None:
    broker = brokers[0]
    namespace = place.namespace
    episodes = topics.named(namespace, topics.EPISODES)
    await create_topics(broker.bootstrap, topics.all_with_dlq(namespace), partitions=2)
    settings = IntakeSettings(
        **{**place.settings_kwargs(directory.write()), "kafka_bootstrap": broker.bootstrap}  # type: ignore[arg-type]
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://intake") as client,
    ):
        before = report("D-0")
        assert (await client.post("/v1/events", json=before, headers=POLICE)).status_code == 202
        assert await read_topic(broker.bootstrap, episodes, at_least=1)

        await asyncio.to_thread(broker.stop)
        sent: dict[str, list[str]] = {}
        for round_ in range(5):
            for child in ("D-1", "D-2", "D-3"):
                event = report(child) if round_ == 0 else returned(child)
                answer = await client.post("/v1/events", json=event, headers=POLICE)
                assert answer.status_code == 202, answer.text
                sent.setdefault(child, []).append(event["id"])
        # A repeat while the broker is away is answered as before and not published twice.
        assert (await client.post("/v1/events", json=before, headers=POLICE)).status_code == 200

        broker = await asyncio.to_thread(start_tansu, broker.port)
        brokers.append(broker)
        await create_topics(broker.bootstrap, topics.all_with_dlq(namespace), partitions=2)
        wanted = {event_id for ids in sent.values() for event_id in ids}

        def all_arrived(records: list[ConsumerRecord[Any, Any]]) -> bool:
            return wanted <= {headers_of(r)["ce_id"] for r in records}

        records = await read_topic(broker.bootstrap, episodes, until=all_arrived, timeout=60)
        ids = [headers_of(r)["ce_id"] for r in records]
        assert sorted(ids) == sorted(wanted)  # each exactly once, nothing from before the outage
        for child, expected in sent.items():
            key = f"W06000015/{child}".encode()
            assert [headers_of(r)["ce_id"] for r in records if r.key == key] == expected
        await poll(lambda: app.state.runtime.relay.broker_ok, timeout=30)
