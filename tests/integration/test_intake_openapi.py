"""Intake against its own OpenAPI document, as an integrator's tools see it.

schemathesis runs every check in every phase (the document's examples, its boundaries, generated
requests, and stateful sequences that follow the document's links from `postEvents` to `getChild`
and between the deliveries operations) as a police force, a council, a provider and operations: a
request the document calls valid is never refused as invalid, one it calls invalid is never accepted,
and every answer is one the document describes."""

import asyncio
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import httpx
import jsonschema
import pytest

from shared import topics
from shared.contracts.deliveries import DeliveryAttempted
from tests.conftest import Place
from tests.directory_factory import key_for
from tests.events import publish
from tests.kafka_reader import poll

ROOT = Path(__file__).resolve().parents[2]
ORGS = ("south-wales-police", "cardiff", "nyas-cymru", "ops")
EXAMPLES_PER_OPERATION = 25


def schemathesis(base_url: str, org: str, report: Path) -> subprocess.CompletedProcess[str]:
    """`st run` with every check and phase, as `org`, the way an integrator runs it."""
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
        "PYTHONPATH": str(ROOT),
    }
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{base_url}/openapi.json",
        "--checks=all",
        "--phases=examples,coverage,fuzzing,stateful",
        f"--header=Authorization: Bearer {key_for(org)}",
        f"--max-examples={EXAMPLES_PER_OPERATION}",
        "--generation-deterministic",
        "--workers=1",
        "--request-timeout=10",
        "--no-color",
        f"--report-junit-path={report}",
        "--report=junit",
    ]
    return subprocess.run(
        command, env=env, cwd=report.parent, capture_output=True, text=True, timeout=280, check=False
    )


async def deliveries_for_each(place: Place, served_intake: str) -> None:
    """Webhooks each organisation was sent, as the notifier reports them: something for the stateful
    phase to list, read and ask for again."""
    now = datetime.now(UTC)
    for org in ORGS:
        for state, status in (("delivered", 204), ("failed", 503)):
            fact = DeliveryAttempted(
                webhook_id=f"msg_{org}_{state}",
                org_id=org,
                event_type="webhook.test",
                queued_at=now - timedelta(minutes=5),
                round=0,
                attempt=1,
                attempted_at=now - timedelta(minutes=4),
                status=status,
                latency_ms=3.0,
                error=None,
                state=state,  # type: ignore[arg-type]  # one of the contract's states, as a literal
                next_attempt_at=None,
            )
            await publish(place.bootstrap, topics.named(place.namespace, topics.DELIVERIES), org, fact)
    async with httpx.AsyncClient(base_url=served_intake) as client:
        for org in ORGS:

            async def listed(org: str = org) -> bool:
                answer = await client.get(
                    "/v1/deliveries", headers={"authorization": f"Bearer {key_for(org)}"}
                )
                return len(answer.json()["items"]) == 2

            await poll(listed)


async def test_every_check_and_phase_passes_for_each_kind_of_organisation(
    served_intake: str, place: Place, tmp_path: Path
) -> None:
    await deliveries_for_each(place, served_intake)
    runs = await asyncio.gather(
        *(asyncio.to_thread(schemathesis, served_intake, org, tmp_path / f"{org}.xml") for org in ORGS)
    )
    for org, run in zip(ORGS, runs, strict=True):
        assert run.returncode == 0, f"as {org}:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
        report = ElementTree.parse(tmp_path / f"{org}.xml")  # noqa: S314  # written by schemathesis, here
        suites = report.getroot().iter("testsuite")
        assert all(int(suite.get("failures", 0)) + int(suite.get("errors", 0)) == 0 for suite in suites), org
        for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):  # each ran, and passed
            assert re.search(rf"✅\s+{phase}", run.stdout), (org, phase, run.stdout[-3000:])
        links = re.search(r"API Links:\s+(\d+) covered", run.stdout)
        assert links, (org, run.stdout[-3000:])
        assert int(links[1]) > 0, (org, "the stateful phase followed no link")


async def test_the_document_shows_every_event_type_and_docs_render(intake: httpx.AsyncClient) -> None:
    from services.intake.events.submission import ACCEPTED_TYPES

    document = (await intake.get("/openapi.json")).json()
    content = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    assert list(content) == ["application/json"]  # one media type described: one call generated
    examples = content["application/json"]["examples"]
    singles = [example["value"] for example in examples.values() if isinstance(example["value"], dict)]
    assert {example["type"] for example in singles} == ACCEPTED_TYPES
    for path in document["paths"]:
        if not path.startswith("/v1/"):
            continue
        for operation in document["paths"][path].values():
            problems = {status for status, answer in operation["responses"].items() if status >= "400"}
            for status in problems:
                assert "application/problem+json" in operation["responses"][status]["content"]
            assert {"401", "500", "503"} <= problems, (path, problems)
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
            assert "Retry-After" in operation["responses"]["503"]["headers"]
    docs = await intake.get("/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text


async def test_each_event_type_has_a_schema_of_its_own_told_apart_by_type(intake: httpx.AsyncClient) -> None:
    """The body of another type is not valid under a type's name (it was, with `data` a free oneOf),
    and every example is valid as the document shows it."""
    document = (await intake.get("/openapi.json")).json()
    event = {"$ref": "#/components/schemas/CloudEvent", "components": document["components"]}
    content = document["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]
    body = {**content["schema"], "components": document["components"]}
    for example in content["examples"].values():
        jsonschema.validate(example["value"], body, cls=jsonschema.Draft202012Validator)
    mixed = {
        "specversion": "1.0",
        "id": "e-1",
        "type": "missing.reported",
        "data": {"reason": "reported_in_error", "assignment_id": "0"},
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(mixed, event, cls=jsonschema.Draft202012Validator)
    declined_without_reason = {
        **content["examples"]["interview.completed"]["value"],
        "data": {
            "assignment_id": "a-1",
            "completed_at": "2026-11-26T11:00:00+00:00",
            "outcome": "child_declined",
        },
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(declined_without_reason, event, cls=jsonschema.Draft202012Validator)
    discriminator = document["components"]["schemas"]["CloudEvent"]["discriminator"]
    assert discriminator["propertyName"] == "type"


async def test_every_answer_has_an_example_valid_by_its_own_schema(intake: httpx.AsyncClient) -> None:
    document = (await intake.get("/openapi.json")).json()
    for path, operations in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                for media, content in answer.get("content", {}).items():
                    assert "example" in content, (method, path, status, media)
                    schema = {**content["schema"], "components": document["components"]}
                    jsonschema.validate(content["example"], schema, cls=jsonschema.Draft202012Validator)
                    if media == "application/problem+json":
                        assert content["example"]["status"] == int(status), (method, path, status)
