"""In-process services against the session's real broker and a fresh database."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.intake.app import create_app as create_intake
from services.intake.settings import IntakeSettings
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory


@pytest.fixture
async def intake(place: Place, directory: DirectoryFactory) -> AsyncIterator[httpx.AsyncClient]:
    app = create_intake(IntakeSettings(**place.settings_kwargs(directory.write())))  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            yield client


def as_org(org_id: str) -> dict[str, str]:
    from tests.directory_factory import key_for

    return {"authorization": f"Bearer {key_for(org_id)}", "content-type": "application/cloudevents+json"}


def directory_path(factory: DirectoryFactory) -> Path:
    return factory.folder / "directory.yaml"
