"""In-process services against the session's real broker and a fresh database."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from services.intake.app import create_app as create_intake
from services.intake.core.settings import IntakeSettings
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory
from tests.kafka_reader import poll
from tools.embedded import free_port


@asynccontextmanager
async def intake_client(
    place: Place, directory: DirectoryFactory, *, raise_app_exceptions: bool = True, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """Intake in this process (its relay and read model running), with settings of the test's own.
    With `raise_app_exceptions=False` the client gets what a caller would see when intake fails."""
    kwargs = {**place.settings_kwargs(directory.write()), **settings}
    app = create_intake(IntakeSettings(**kwargs))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=raise_app_exceptions)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield client


@pytest.fixture
async def intake(place: Place, directory: DirectoryFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with intake_client(place, directory) as client:
        yield client


def as_org(org_id: str) -> dict[str, str]:
    from tests.directory_factory import key_for

    return {"authorization": f"Bearer {key_for(org_id)}", "content-type": "application/cloudevents+json"}


def directory_path(factory: DirectoryFactory) -> Path:
    return factory.folder / "directory.yaml"


@pytest.fixture
async def served_intake(place: Place, directory: DirectoryFactory) -> AsyncIterator[str]:
    """Intake on a real port, in this event loop, so a worker thread (or a tool in a process of its
    own) can send it requests."""
    # Reports on assignments it has not heard of are refused at once, not after the wait for one.
    kwargs = {**place.settings_kwargs(directory.write()), "assignment_wait_seconds": 0.0}
    app = create_intake(IntakeSettings(**kwargs))  # type: ignore[arg-type]
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    await poll(lambda: server.started or task.done(), timeout=60, interval=0.05)  # until it listens
    if task.done():
        task.result()  # it could not start: say why
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
