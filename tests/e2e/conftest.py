"""End-to-end fixtures: a receiver on 127.0.0.1 and the three services as processes."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import Place
from tests.directory_factory import DirectoryFactory
from tests.e2e.stack import Stack, running_stack, service_env
from tests.receiver import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as running:
        yield running


@pytest.fixture
def stack(place: Place, directory: DirectoryFactory, receiver: Receiver, tmp_path: Path) -> Iterator[Stack]:
    with running_stack(service_env(place.env(directory.write(receiver.url))), tmp_path) as running:
        yield running
