"""Intake's rules for the reports added with the episode model (docs/domain.md rules 25 and 27):
each organisation withdraws only its own reports, only the responsible authority says a child left care
or records an interview as not offered, a child's decline carries a reason code, and every event about a
child is numbered in the order intake accepted it."""

from datetime import UTC, datetime, timedelta

import httpx

from shared import topics
from shared.contracts.tasks import EpisodeOpened
from tests.conftest import Place
from tests.events import CARDIFF, cloud_event, publish, report
from tests.integration.conftest import as_org
from tests.kafka_reader import headers_of, poll, read_topic

CHILD = {"child_ref": "C-120", "responsible_authority": CARDIFF}


def cancellation(reason: str = "reported_in_error", report_id: str | None = None) -> dict[str, object]:
    data: dict[str, object] = {**CHILD, "reason": reason}
    if report_id is not None:
        data["report_id"] = report_id
    return cloud_event("missing.cancelled", data)


async def test_a_council_cannot_withdraw_the_police_report_and_the_police_can(
    intake: httpx.AsyncClient,
) -> None:
    police = report("C-120", id_="swp-120-1")
    assert (
        await intake.post("/v1/events", json=police, headers=as_org("south-wales-police"))
    ).status_code == 202

    for attempt in (cancellation(), cancellation(report_id="swp-120-1")):
        refused = await intake.post("/v1/events", json=attempt, headers=as_org("cardiff"))
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert "only your own reports" in refused.json()["detail"]

    own = await intake.post(
        "/v1/events", json=cancellation(report_id="swp-120-1"), headers=as_org("south-wales-police")
    )
    assert own.status_code == 202
    unknown = await intake.post(
        "/v1/events", json=cancellation(report_id="swp-no-such-report"), headers=as_org("south-wales-police")
    )
    assert unknown.status_code == 403


async def test_only_the_responsible_authority_says_a_child_left_care(intake: httpx.AsyncClient) -> None:
    assert (
        await intake.post("/v1/events", json=report("C-120"), headers=as_org("south-wales-police"))
    ).status_code == 202
    police = await intake.post(
        "/v1/events", json=cancellation("left_care"), headers=as_org("south-wales-police")
    )
    assert police.status_code == 403
    assert "responsible authority" in police.json()["detail"]
    council = await intake.post("/v1/events", json=cancellation("left_care"), headers=as_org("cardiff"))
    assert council.status_code == 202


async def test_not_offered_comes_from_the_responsible_authority_about_an_episode_it_was_told_of(
    intake: httpx.AsyncClient, place: Place
) -> None:
    record = cloud_event(
        "interview.not_offered", {**CHILD, "episode_id": "ep-C-120", "reason": "child_in_custody"}
    )
    assert (
        await intake.post("/v1/events", json=record, headers=as_org("south-wales-police"))
    ).status_code == 403

    unknown = await intake.post("/v1/events", json=record, headers=as_org("cardiff"))
    assert unknown.status_code == 404
    assert "episode_id" in unknown.json()["detail"]

    opened = EpisodeOpened(
        **CHILD,
        placement_authority=CARDIFF,
        episode_id="ep-C-120",
        kind="missing",
        started_at=datetime.now(UTC) - timedelta(hours=8),
        risk_level="low",
    )
    await publish(place.bootstrap, topics.named(place.namespace, topics.TASKS), f"{CARDIFF}/C-120", opened)
    accepted = await poll(
        lambda: _accepted(intake, {**record, "id": f"{record['id']}-again"}), timeout=30, interval=0.5
    )
    assert accepted.status_code == 202


async def _accepted(intake: httpx.AsyncClient, event: dict[str, object]) -> httpx.Response | None:
    answer = await intake.post("/v1/events", json=event, headers=as_org("cardiff"))
    return answer if answer.status_code == 202 else None


async def test_a_decline_by_the_child_needs_a_reason_code_and_only_a_decline_has_one(
    intake: httpx.AsyncClient,
) -> None:
    at = datetime.now(UTC).isoformat()
    base = {
        "assignment_id": "a-1",
        "completed_at": at,
        "exploitation_indicators": [],
        "safeguarding_concern": False,
    }
    for data in (
        {**base, "outcome": "child_declined"},
        {**base, "outcome": "completed", "decline_reason": "does_not_want_to_talk"},
    ):
        answer = await intake.post(
            "/v1/events", json=cloud_event("interview.completed", data), headers=as_org("nyas-cymru")
        )
        assert answer.status_code == 422
        assert [e["pointer"] for e in answer.json()["errors"]] == ["/data/decline_reason"]


async def test_each_childs_events_are_numbered_in_the_order_intake_accepted_them(
    intake: httpx.AsyncClient, place: Place
) -> None:
    police = as_org("south-wales-police")
    first, second, other = report("C-121"), report("C-121"), report("C-122")
    batch = {**police, "content-type": "application/cloudevents-batch+json"}
    assert (await intake.post("/v1/events", json=[first, other], headers=batch)).status_code == 202
    assert (await intake.post("/v1/events", json=second, headers=police)).status_code == 202
    assert (await intake.post("/v1/events", json=first, headers=police)).status_code == 200  # a repeat
    records = await read_topic(place.bootstrap, topics.named(place.namespace, topics.EPISODES), at_least=3)
    numbered = {headers_of(r)["ce_id"]: headers_of(r)["ce_childseq"] for r in records}
    assert numbered == {first["id"]: "1", other["id"]: "1", second["id"]: "2"}


async def test_a_field_the_event_type_does_not_have_is_refused_at_the_door(intake: httpx.AsyncClient) -> None:
    """Consumers read past unknown fields; intake tells the sender of its mistake instead."""
    event = report("C-123")
    event["data"]["eye_colour"] = "blue"
    answer = await intake.post("/v1/events", json=event, headers=as_org("south-wales-police"))
    assert answer.status_code == 422
    assert [(e["pointer"], e["code"]) for e in answer.json()["errors"]] == [
        ("/data/eye_colour", "extra_forbidden")
    ]
