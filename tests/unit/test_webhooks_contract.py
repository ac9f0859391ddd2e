"""Intake's OpenAPI document is a contract: valid 3.1, every operation with a stable id for client
generators, and every payload the notifier may send described, to whom, with the signature headers and
an example that its own schema accepts; the notifier refuses to queue a payload the contract does not
list for that kind of organisation."""

from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from openapi_spec_validator import validate

from services.intake.app import create_app
from services.intake.core.settings import IntakeSettings
from services.notifier.store.writes import Writes
from services.notifier.webhooks import queue
from shared.contracts.tasks import WindowBreached
from shared.contracts.webhooks import TO_COUNCILS, TO_OPERATIONS, TO_PROVIDERS, WEBHOOKS
from shared.directory_file import load_directory
from tests.directory_factory import DirectoryFactory


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("directory")
    settings = IntakeSettings(  # never started: only its document is read
        directory=DirectoryFactory(folder).write(),
        database_url="postgresql://nobody@127.0.0.1:1/none",
        kafka_bootstrap="127.0.0.1:1",
    )
    openapi: dict[str, Any] = create_app(settings).openapi()
    return openapi


def test_the_document_is_valid_openapi_3_1_with_every_webhook(document: dict[str, Any]) -> None:
    validate(document)  # openapi-spec-validator: raises on any fault
    assert document["openapi"].startswith("3.1")
    assert set(document["webhooks"]) == {model.type_name for model in WEBHOOKS}
    for model in TO_PROVIDERS:
        assert "providers" in document["webhooks"][model.type_name]["post"]["summary"]
    for model in TO_COUNCILS:
        assert "councils" in document["webhooks"][model.type_name]["post"]["summary"]
    for model in TO_OPERATIONS:
        assert "operations" in document["webhooks"][model.type_name]["post"]["summary"]


def test_every_operation_has_a_stable_id_for_client_generators(document: dict[str, Any]) -> None:
    operations = {
        (path, method): operation["operationId"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }
    assert operations[("/v1/events", "post")] == "postEvents"
    assert operations[("/v1/children/{authority}/{child_ref}", "get")] == "getChild"
    assert operations[("/v1/audit", "get")] == "listAudit"
    assert all(operation.get("tags") for item in document["paths"].values() for operation in item.values())


def test_every_webhook_says_how_it_is_signed_and_its_example_fits_its_schema(
    document: dict[str, Any],
) -> None:
    for name, item in document["webhooks"].items():
        operation = item["post"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}, name
        assert {"200", "410", "default"} <= set(operation["responses"]), name
        content = operation["requestBody"]["content"]["application/cloudevents+json"]
        schema = {**content["schema"], "components": document["components"]}
        jsonschema.validate(content["example"], schema, cls=jsonschema.Draft202012Validator)
        assert content["example"]["type"] == name
        wrong = {**content["example"], "type": "something.else"}
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(wrong, schema, cls=jsonschema.Draft202012Validator)


def test_the_notifier_refuses_to_queue_what_the_contract_does_not_list(tmp_path: Any) -> None:
    directory = load_directory(DirectoryFactory(tmp_path).write())
    provider = directory.get("nyas-cymru")
    assert provider is not None
    breach = WindowBreached(
        child_ref="C-1",
        responsible_authority="W06000015",
        placement_authority="W06000015",
        episode_id="e-1",
        task_id="t-1",
        returned_at=datetime(2026, 11, 1, tzinfo=UTC),
        offer_due_at=datetime(2026, 11, 4, tzinfo=UTC),
        breached_at=datetime(2026, 11, 4, tzinfo=UTC),
    )
    with pytest.raises(TypeError, match=r"window\.breached is not a webhook a provider receives"):
        queue.enqueue(Writes(), org=provider, cause="x", data=breach, now=datetime.now(UTC))
    council = directory.authority("W06000015")
    assert council is not None
    assert queue.enqueue(Writes(), org=council, cause="x", data=breach, now=datetime.now(UTC))
