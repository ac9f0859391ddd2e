"""Database restart: PostgreSQL restarts under load; the services reconnect by themselves; nothing lost."""

import asyncio

import pytest

from tests.conftest import Place
from tests.directory_factory import DirectoryFactory
from tests.e2e.burst import (
    Burst,
    all_delivered,
    assert_nothing_lost_or_doubled,
    assert_one_task_and_one_current_assignment,
    offers_by_child,
)
from tests.e2e.stack import Stack
from tests.kafka_reader import poll
from tests.receiver import Receiver
from tests.servers import Servers

CHILDREN = 300


@pytest.fixture(autouse=True)
def room_for_everyone(directory: DirectoryFactory) -> None:
    directory.provider_capacity = 10 * CHILDREN


async def test_services_ride_through_a_database_restart(
    stack: Stack, receiver: Receiver, place: Place, servers: Servers
) -> None:
    burst = Burst("D", CHILDREN)
    sending = asyncio.create_task(burst.send(intake=lambda: stack.intake_url))
    await poll(lambda: len(offers_by_child(receiver)) >= CHILDREN * 0.2, timeout=120)
    await asyncio.to_thread(servers.restart_database)
    await sending
    await all_delivered(receiver, burst.names())
    assert_nothing_lost_or_doubled(receiver, burst.names())
    await assert_one_task_and_one_current_assignment(place.database_url, burst.names())
    for label, process in stack.processes.items():
        assert process.poll() is None, f"{label} died instead of reconnecting"
