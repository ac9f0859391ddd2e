"""Broker outage under load: intake keeps answering 202 while the broker is away; once it is back,
every event accepted meanwhile arrives, once per id and in order per child, and goes all the way.

The embedded broker keeps its log in memory, so the broker that comes back is empty (its topics
are created again); what this proves is ours: events accepted during the outage wait in intake's
outbox and are neither lost nor doubled.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from shared import topics
from shared.kafka import create_topics
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory
from tests.e2e.burst import Burst, offers_by_child
from tests.e2e.stack import Stack, running_stack, service_env
from tests.kafka_reader import headers_of, poll, read_topic
from tests.receiver import Receiver
from tools.embedded import Tansu, free_port, start_tansu


@pytest.fixture
async def broker_place(place: Place) -> AsyncIterator[tuple[Place, list[Tansu]]]:
    """The test's database with a broker of its own, which the test may stop and start."""
    broker = start_tansu(port=free_port())
    own = replace(place, bootstrap=broker.bootstrap)
    await create_topics(own.bootstrap, topics.all_with_dlq(own.namespace), partitions=2)
    brokers = [broker]
    yield own, brokers
    for running in brokers:
        running.stop()


@pytest.fixture
def own_stack(
    broker_place: tuple[Place, list[Tansu]], directory: DirectoryFactory, receiver: Receiver, tmp_path: Path
) -> Iterator[Stack]:
    directory.provider_capacity = 1000
    own, _ = broker_place
    with running_stack(service_env(own.env(directory.write(receiver.url))), tmp_path) as running:
        yield running


async def test_events_accepted_during_an_outage_arrive_once_in_order(
    own_stack: Stack, receiver: Receiver, broker_place: tuple[Place, list[Tansu]]
) -> None:
    own, brokers = broker_place
    before = Burst("O", 50)
    await before.send(own_stack.intake_url)
    await poll(lambda: len(offers_by_child(receiver)) >= 50, timeout=60)

    port = brokers[0].port
    brokers[0].stop()
    during = Burst("W", 100)
    await asyncio.wait_for(during.send(own_stack.intake_url), timeout=60)  # 202s with no broker
    assert during.accepted == set(during.names())

    brokers.append(start_tansu(port=port))
    await create_topics(own.bootstrap, topics.all_with_dlq(own.namespace), partitions=2)

    episodes = topics.named(own.namespace, topics.EPISODES)
    records = await read_topic(own.bootstrap, episodes, at_least=200, timeout=90)
    ids = [headers_of(record)["ce_id"] for record in records]
    assert len(ids) == len(set(ids)) == 200, "each event once"
    by_child: dict[str, list[str]] = {}
    for record in records:
        by_child.setdefault(record.key.decode(), []).append(
            (json.loads(record.value).get("returned_at") and "returned") or "reported"
        )
    assert all(order == ["reported", "returned"] for order in by_child.values()), "in order per child"

    await poll(
        lambda: all(child in offers_by_child(receiver) for child in during.names()), timeout=120, interval=0.5
    )
