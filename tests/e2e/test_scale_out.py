"""Scale-out: two instances of each service share the work (consumer groups, SKIP LOCKED claims)
and the outcome is what one instance of each gives: every child one task, one assignment, one notice."""

import asyncio

import pytest

from tests.conftest import Place
from tests.directory_factory import DirectoryFactory
from tests.e2e.burst import (
    Burst,
    all_delivered,
    assert_nothing_lost_or_doubled,
    assert_one_task_and_one_current_assignment,
)
from tests.e2e.stack import SERVICES, Stack
from tests.receiver import Receiver

CHILDREN = 300


@pytest.fixture(autouse=True)
def room_for_everyone(directory: DirectoryFactory) -> None:
    directory.provider_capacity = 10 * CHILDREN


async def test_two_of_each_service_do_the_work_of_one(stack: Stack, receiver: Receiver, place: Place) -> None:
    for name in SERVICES:
        stack.start(name, instance="2")
    await asyncio.to_thread(stack.wait_ready)
    first, second = Burst("A", CHILDREN // 2), Burst("B", CHILDREN // 2)
    await asyncio.gather(
        first.send(stack.intake_url), second.send(f"http://127.0.0.1:{stack.ports['intake2']}")
    )
    children = first.names() + second.names()
    await all_delivered(receiver, children)
    assert_nothing_lost_or_doubled(receiver, children)
    await assert_one_task_and_one_current_assignment(place.database_url, children)
    # Both instances of the consumers did some of it.
    for name in ("scheduler", "notifier"):
        assert '"messages_handled"' in stack.logs(name), name
        assert '"messages_handled"' in stack.logs(f"{name}2"), name
