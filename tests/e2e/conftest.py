"""End-to-end fixtures: a receiver on 127.0.0.1 and the three services as processes."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import Place, least_privilege
from tests.directory_factory import DirectoryFactory
from tests.e2e.stack import Stack, running_stack, service_env
from tests.receiver import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as running:
        yield running


@pytest.fixture
async def logins(place: Place) -> dict[str, str]:
    """Each service's own database role, as `mtp run` and compose give them."""
    return await least_privilege(place)


@pytest.fixture
def stack(
    place: Place, directory: DirectoryFactory, receiver: Receiver, logins: dict[str, str], tmp_path: Path
) -> Iterator[Stack]:
    env = service_env(place.env(directory.write(receiver.url)))
    with running_stack(env, tmp_path, logins) as running:
        yield running
