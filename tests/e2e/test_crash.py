"""Crash: SIGKILL the scheduler, then the notifier, then intake (with its relay) during a burst of 500
returned episodes, restart each; nothing is lost and nothing is doubled."""

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

CHILDREN = 500


@pytest.fixture(autouse=True)
def room_for_everyone(directory: DirectoryFactory) -> None:
    directory.provider_capacity = 10 * CHILDREN


async def test_kill_each_service_once_during_a_burst(stack: Stack, receiver: Receiver, place: Place) -> None:
    burst = Burst("K", CHILDREN)
    sending = asyncio.create_task(burst.send(intake=lambda: stack.intake_url))

    for label, after in (("scheduler", 0.1), ("notifier", 0.3), ("intake", 0.5)):
        await poll(lambda after=after: len(offers_by_child(receiver)) >= CHILDREN * after, timeout=120)
        await asyncio.to_thread(stack.kill, label)
        await asyncio.to_thread(stack.restart, label)

    await sending
    assert burst.accepted == set(burst.names())
    await all_delivered(receiver, burst.names())
    assert_nothing_lost_or_doubled(receiver, burst.names())
    await assert_one_task_and_one_current_assignment(place.database_url, burst.names())
