"""Intake against real PostgreSQL and Kafka: accepted only once stored, then on the topic; clear refusals."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from importlib import metadata

import httpx
import pytest

from services.intake.store import base
from services.intake.store import events as event_store
from shared import topics
from shared.http import serve_metrics
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory
from tests.events import CARDIFF, NEWPORT, cloud_event, report, returned
from tests.integration.conftest import as_org, intake_client
from tests.kafka_reader import headers_of, read_topic
from tools.embedded import free_port

POLICE = as_org("south-wales-police")


async def test_a_report_is_accepted_then_published_with_cloudevents_headers_and_the_child_as_key(
    intake: httpx.AsyncClient, place: Place
) -> None:
    event = report("C-100", placement=NEWPORT)
    response = await intake.post("/v1/events", json=event, headers=POLICE)
    assert response.status_code == 202
    assert response.json() == {"id": event["id"], "status": "accepted"}

    records = await read_topic(place.bootstrap, topics.named(place.namespace, topics.EPISODES), at_least=1)
    assert len(records) == 1
    record = records[0]
    assert record.key == f"{CARDIFF}/C-100".encode()
    headers = headers_of(record)
    assert headers["ce_id"] == event["id"]
    assert headers["ce_type"] == "missing.reported"
    assert headers["ce_source"] == "/orgs/south-wales-police"
    assert headers["ce_specversion"] == "1.0"
    assert json.loads(record.value)["placement_authority"] == NEWPORT


async def test_same_id_same_content_is_answered_again_and_different_content_conflicts(
    intake: httpx.AsyncClient, place: Place
) -> None:
    event = report("C-101")
    assert (await intake.post("/v1/events", json=event, headers=POLICE)).status_code == 202
    again = await intake.post("/v1/events", json=event, headers=POLICE)
    assert again.status_code == 200
    assert again.json() == {"id": event["id"], "status": "accepted"}
    changed = {**event, "data": {**event["data"], "risk_level": "high"}}
    conflict = await intake.post("/v1/events", json=changed, headers=POLICE)
    assert conflict.status_code == 409
    assert conflict.headers["content-type"] == "application/problem+json"
    records = await read_topic(
        place.bootstrap, topics.named(place.namespace, topics.EPISODES), at_least=2, timeout=3
    )
    assert [headers_of(r)["ce_id"] for r in records] == [event["id"]]


async def test_the_same_id_from_another_organisation_is_another_event(intake: httpx.AsyncClient) -> None:
    event = report("C-102", id_="shared-id-1")
    assert (await intake.post("/v1/events", json=event, headers=POLICE)).status_code == 202
    assert (await intake.post("/v1/events", json=event, headers=as_org("cardiff"))).status_code == 202


async def test_racing_duplicates_store_one_event(intake: httpx.AsyncClient, place: Place) -> None:
    event = report("C-103")
    answers = await asyncio.gather(*(intake.post("/v1/events", json=event, headers=POLICE) for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [200] * 7 + [202]
    records = await read_topic(
        place.bootstrap, topics.named(place.namespace, topics.EPISODES), at_least=2, timeout=3
    )
    assert len(records) == 1


async def test_authentication_failures_are_401_problems(intake: httpx.AsyncClient) -> None:
    event = report("C-104")
    for headers in ({"content-type": "application/json"}, {**POLICE, "authorization": "Bearer nope"}):
        response = await intake.post("/v1/events", json=event, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:mtp:problem:unauthorised"
        assert response.headers["www-authenticate"].startswith("Bearer ")  # RFC 6750: how to sign in


async def test_a_council_may_report_only_its_own_children(intake: httpx.AsyncClient) -> None:
    own = await intake.post(
        "/v1/events", json=report("C-105", responsible=CARDIFF), headers=as_org("cardiff")
    )
    assert own.status_code == 202
    other = await intake.post(
        "/v1/events", json=report("C-106", responsible=CARDIFF), headers=as_org("newport")
    )
    assert other.status_code == 403
    provider = await intake.post("/v1/events", json=report("C-107"), headers=as_org("nyas-cymru"))
    assert provider.status_code == 403


async def test_validation_names_each_wrong_field(intake: httpx.AsyncClient) -> None:
    event = report("C-108")
    del event["data"]["police_reference"]
    event["data"]["risk_level"] = "extreme"
    event["data"]["placement_authority"] = "W99999999"
    response = await intake.post("/v1/events", json=event, headers=POLICE)
    assert response.status_code == 422
    pointers = {error["pointer"] for error in response.json()["errors"]}
    assert "/data/risk_level" in pointers


async def test_no_police_reference_needs_a_reason(intake: httpx.AsyncClient) -> None:
    event = report("C-109")
    del event["data"]["police_force"], event["data"]["police_reference"]
    refused = await intake.post("/v1/events", json=event, headers=POLICE)
    assert refused.status_code == 422
    event["data"].update(reported_to_police=False, not_reported_reason="whereabouts_known")
    event["data"]["kind"] = "away"
    assert (await intake.post("/v1/events", json=event, headers=POLICE)).status_code == 202


async def test_unknown_authorities_future_and_naive_times_and_unknown_types_are_refused(
    intake: httpx.AsyncClient,
) -> None:
    unknown = report("C-110", placement="W06000099")
    response = await intake.post("/v1/events", json=unknown, headers=POLICE)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/data/placement_authority"

    future = returned("C-110", at=datetime.now(UTC) + timedelta(hours=2))
    response = await intake.post("/v1/events", json=future, headers=POLICE)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/data/returned_at"

    naive = returned("C-110")
    naive["data"]["returned_at"] = "2026-01-01T10:00:00"
    assert (await intake.post("/v1/events", json=naive, headers=POLICE)).status_code == 422

    strange = cloud_event("missing.teleported", {"child_ref": "C-110"})
    response = await intake.post("/v1/events", json=strange, headers=POLICE)
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/type"


async def test_content_type_size_and_json_errors(intake: httpx.AsyncClient) -> None:
    event = report("C-111")
    wrong_type = await intake.post(
        "/v1/events", content=json.dumps(event), headers={**POLICE, "content-type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    big = await intake.post("/v1/events", content=b" " * (1024 * 1024 + 1), headers=POLICE)
    assert big.status_code == 413
    broken = await intake.post("/v1/events", content=b"{not json", headers=POLICE)
    assert broken.status_code == 422
    assert broken.headers["content-type"] == "application/problem+json"
    deep = await intake.post("/v1/events", content=b"[" * 100_000, headers=POLICE)
    assert deep.status_code == 422
    assert deep.headers["content-type"] == "application/problem+json"
    huge = await intake.post("/v1/events", content=b'{"id": ' + b"9" * 5_000 + b"}", headers=POLICE)
    assert (huge.status_code, huge.headers["content-type"]) == (422, "application/problem+json")
    assert huge.json()["detail"] == "The body holds a number too long to read."


async def test_an_assignment_id_is_an_identifier_not_text(intake: httpx.AsyncClient) -> None:
    for odd in ("abc\u0000", "Jo Bloggs", "a" * 65):
        event = cloud_event("interview.accepted", {"assignment_id": odd})
        answer = await intake.post("/v1/events", json=event, headers=as_org("nyas-cymru"))
        assert answer.status_code == 422, odd
        assert [e["pointer"] for e in answer.json()["errors"]] == ["/data/assignment_id"]


async def test_a_failure_of_ours_is_a_problem_document_and_a_database_outage_says_when_to_retry(
    place: Place, directory: DirectoryFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def failing(*_: object) -> None:
        raise failure

    monkeypatch.setattr(event_store, "accept", base.translated(failing))
    async with intake_client(place, directory, raise_app_exceptions=False) as intake:
        failure: Exception = RuntimeError("a bug")
        bug = await intake.post("/v1/events", json=report("C-190"), headers=POLICE)
        failure = ConnectionRefusedError("database restarting")
        outage = await intake.post("/v1/events", json=report("C-191"), headers=POLICE)
    assert (bug.status_code, bug.headers["content-type"]) == (500, "application/problem+json")
    assert (outage.status_code, outage.headers["content-type"]) == (503, "application/problem+json")
    assert outage.headers["retry-after"] == "1"


async def test_a_batch_is_all_or_nothing_and_names_bad_items_by_index(
    intake: httpx.AsyncClient, place: Place
) -> None:
    batch_headers = {**POLICE, "content-type": "application/cloudevents-batch+json"}
    good, bad = report("C-112"), report("C-113")
    bad["data"]["kind"] = "lost"
    refused = await intake.post("/v1/events", json=[good, bad], headers=batch_headers)
    assert refused.status_code == 422
    assert [e["pointer"] for e in refused.json()["errors"]] == ["/1/data/kind"]
    accepted = await intake.post("/v1/events", json=[good, returned("C-112")], headers=batch_headers)
    assert accepted.status_code == 202
    assert [item["status"] for item in accepted.json()] == ["accepted", "accepted"]
    records = await read_topic(place.bootstrap, topics.named(place.namespace, topics.EPISODES), at_least=2)
    assert [headers_of(r)["ce_type"] for r in records] == ["missing.reported", "missing.returned"]


async def test_health_readiness_and_metrics(intake: httpx.AsyncClient) -> None:
    assert (await intake.get("/healthz")).status_code == 200
    ready = await intake.get("/readyz")
    assert ready.json()["checks"]["database"] is True
    # how busy intake is, is nobody's business on the API's public port: its own port serves it
    assert (await intake.get("/metrics")).status_code == 404
    port = free_port()
    serve_metrics("127.0.0.1", port)
    async with httpx.AsyncClient() as client:
        metrics = await client.get(f"http://127.0.0.1:{port}/metrics")
    assert "mtp_intake_events_total" in metrics.text
    assert 'mtp_build_info{python="' in metrics.text
    assert f'service="intake",version="{metadata.version("missing-the-point")}"' in metrics.text


async def test_a_batch_refused_for_some_items_names_them_and_an_array_as_json_is_a_batch(
    intake: httpx.AsyncClient, place: Place
) -> None:
    council = as_org("cardiff")
    newport_child = report("C-116", responsible=NEWPORT)  # not Cardiff's own child
    refused = await intake.post(
        "/v1/events",
        json=[report("C-117"), newport_child],
        headers={**council, "content-type": "application/json"},
    )
    assert refused.status_code == 403, refused.text
    assert [(e["pointer"], e["code"]) for e in refused.json()["errors"]] == [("/1", "forbidden")]
    accepted = await intake.post(
        "/v1/events", json=[report("C-117")], headers={**council, "content-type": "application/json"}
    )
    assert accepted.status_code == 202
    assert [item["status"] for item in accepted.json()] == ["accepted"]


async def test_an_id_twice_in_one_batch_is_stored_once_or_refused_if_it_differs(
    intake: httpx.AsyncClient, place: Place
) -> None:
    batch_headers = {**POLICE, "content-type": "application/cloudevents-batch+json"}
    event = report("C-114")
    twice = await intake.post("/v1/events", json=[event, event], headers=batch_headers)
    assert twice.status_code == 202
    changed = report("C-115")
    other = {**changed, "data": {**changed["data"], "risk_level": "high"}}
    refused = await intake.post("/v1/events", json=[changed, other], headers=batch_headers)
    assert refused.status_code == 409
    assert (await intake.post("/v1/events", json=changed, headers=POLICE)).status_code == 202  # nothing kept
    records = await read_topic(
        place.bootstrap, topics.named(place.namespace, topics.EPISODES), at_least=3, timeout=3
    )
    assert sorted(headers_of(r)["ce_id"] for r in records) == sorted([event["id"], changed["id"]])
