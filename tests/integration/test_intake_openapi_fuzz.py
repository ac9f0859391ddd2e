"""Property-based fuzz of the intake API against its own OpenAPI document (schemathesis): whatever
is sent, no answer is a server error and every answer matches what the document says."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory, key_for
from tools.embedded import free_port

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# Each caller is tried on every operation: a valid key of each kind, and a key nobody has.
KEYS = [key_for(org) for org in ("south-wales-police", "cardiff", "nyas-cymru", "ops")] + ["not-a-key"]
EXAMPLES_PER_OPERATION = 80
# schemathesis's own strategies use `random` internally; that is theirs to change, not a failure here.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")


@pytest.fixture
async def served(place: Place, directory: DirectoryFactory) -> AsyncIterator[str]:
    """Intake on a real port, in this event loop, so a worker thread can send it requests."""
    # Reports on the made-up assignments fuzzing sends are refused after a short wait, not the full one.
    kwargs = {**place.settings_kwargs(directory.write()), "assignment_wait_seconds": 0.1}
    app = create_app(IntakeSettings(**kwargs))  # type: ignore[arg-type]
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)  # poll until the server listens
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def fuzz(base_url: str, document: dict[str, Any]) -> None:
    schema = schemathesis.openapi.from_dict(document)
    for result in schema.get_all_operations():
        operation = result.ok()
        cases = st.one_of(
            operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        )

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=cases, key=st.sampled_from(KEYS))
        def check(case: Any, key: str) -> None:
            response = case.call(base_url=base_url, headers={"authorization": f"Bearer {key}"}, timeout=10)
            case.validate_response(response, checks=CHECKS)

        check()


async def test_the_api_answers_as_its_openapi_document_says(served: str) -> None:
    async with httpx.AsyncClient(base_url=served) as client:
        document = (await client.get("/openapi.json")).json()
    await asyncio.to_thread(fuzz, served, document)


async def test_the_document_shows_every_event_type_and_docs_render(intake: httpx.AsyncClient) -> None:
    from services.intake.submission import ACCEPTED_TYPES

    document = (await intake.get("/openapi.json")).json()
    content = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    examples = content["application/cloudevents+json"]["examples"]
    assert {example["value"]["type"] for example in examples.values()} == ACCEPTED_TYPES
    for path in ("/v1/events", "/v1/children/{authority}/{child_ref}", "/v1/audit"):
        for operation in document["paths"][path].values():
            problems = {status for status, answer in operation["responses"].items() if status >= "400"}
            for status in problems:
                assert "application/problem+json" in operation["responses"][status]["content"]
    docs = await intake.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text
