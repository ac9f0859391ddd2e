"""Sequences councils, police forces and providers meet every week, through HTTP and webhooks, three
processes: a later absence gets its own interview, a late report renames nothing, a council's
withdrawal leaves the police's episode standing, and a second report's facts reach the provider and
the new host council."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.conftest import Place
from tests.directory_factory import DirectoryFactory, key_for, secret_for
from tests.e2e.stack import Stack, running_stack, service_env
from tests.events import CARDIFF, NEWPORT, cloud_event, report, returned
from tests.kafka_reader import poll
from tests.receiver import Received, Receiver

ENGLISH_ONLY = {
    "id": "english-only",
    "kind": "provider",
    "name": "English-only Advocacy",
    "covers": [CARDIFF, NEWPORT],
    "languages": ["en"],
    "capacity": 60,
}


@pytest.fixture
def stack(
    place: Place, directory: DirectoryFactory, receiver: Receiver, logins: dict[str, str], tmp_path: Path
) -> Iterator[Stack]:
    extra = [
        {
            **ENGLISH_ONLY,
            "webhook_url": f"{receiver.url}/english-only",
            "webhook_secret": secret_for("english-only"),
        }
    ]
    with running_stack(
        service_env(place.env(directory.write(receiver.url, extra=extra))), tmp_path, logins
    ) as running:
        yield running


async def post(stack: Stack, org: str, event: dict[str, Any]) -> None:
    headers = {"authorization": f"Bearer {key_for(org)}", "content-type": "application/cloudevents+json"}
    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        answer = await client.post("/v1/events", json=event, headers=headers)
    assert answer.status_code == 202, answer.text


def data_of(request: Received) -> dict[str, Any]:
    event: dict[str, Any] = Webhook(secret_for(request.org)).verify(request.body, request.headers)
    return event["data"]  # type: ignore[no-any-return]


def about(receiver: Receiver, org: str, type_: str, child: str) -> list[dict[str, Any]]:
    """The data of every webhook of a type an organisation received about a child."""
    found = [data_of(r) for r in receiver.delivered(org, type_)]
    return [d for d in found if d.get("child_ref", d.get("referral", {}).get("child_ref")) == child]


def police_report(child: str, since: datetime, ref: str, **data: Any) -> dict[str, Any]:
    """A police report that says nothing of the child's language."""
    event = report(child, since=since)
    event["data"].pop("preferred_language")
    event["data"].update(police_reference=ref, **data)
    return event


def council_report(child: str, since: datetime, **data: Any) -> dict[str, Any]:
    event = report(child, since=since)
    for name in ("police_force", "police_reference", "preferred_language"):
        event["data"].pop(name)
    event["data"].update(reported_to_police=False, not_reported_reason="whereabouts_known", **data)
    return event


def offers(receiver: Receiver, child: str) -> list[Received]:
    """Every offer of a return interview for the child, to whichever provider."""
    return [
        r
        for r in receiver.delivered(None, "assignment.offered")
        if data_of(r)["referral"]["child_ref"] == child
    ]


async def as_provider(stack: Stack, offer: Received, *steps: tuple[str, dict[str, Any]]) -> None:
    for event_type, data in steps:
        event = cloud_event(event_type, {"assignment_id": data_of(offer)["assignment_id"], **data})
        await post(stack, offer.org, event)


async def test_a_later_absence_is_offered_anew_and_a_late_report_renames_nothing(
    stack: Stack, receiver: Receiver
) -> None:
    now = datetime.now(UTC)
    # 1. The interview is held; the child goes missing again and comes back: a second offer.
    await post(stack, "south-wales-police", police_report("E-10", now - timedelta(hours=30), "SWP-10-A"))
    await post(stack, "south-wales-police", returned("E-10", at=now - timedelta(hours=20)))
    first = (await poll(lambda: offers(receiver, "E-10"), timeout=60))[0]
    held = (now - timedelta(hours=2)).isoformat()
    await as_provider(
        stack,
        first,
        ("interview.accepted", {}),
        ("interview.offered", {"offered_at": held}),
        (
            "interview.completed",
            {"completed_at": held, "outcome": "completed", "exploitation_indicators": []},
        ),
    )
    await poll(lambda: about(receiver, "cardiff", "interview.completed", "E-10"), timeout=60)
    await post(stack, "south-wales-police", police_report("E-10", now - timedelta(hours=1.5), "SWP-10-B"))
    await post(stack, "south-wales-police", returned("E-10", at=now - timedelta(minutes=20)))
    await poll(lambda: len(offers(receiver, "E-10")) == 2, timeout=60)
    second = data_of(offers(receiver, "E-10")[1])
    assert second["assignment_id"] != data_of(first)["assignment_id"]
    assert datetime.fromisoformat(second["offer_due_at"]) == now - timedelta(minutes=20) + timedelta(hours=72)

    # 4. An offer is made in time; then another force reports an earlier, separate absence, late.
    await post(stack, "south-wales-police", police_report("E-11", now - timedelta(hours=10), "SWP-11"))
    await post(stack, "south-wales-police", returned("E-11", at=now - timedelta(hours=5)))
    offer = (await poll(lambda: offers(receiver, "E-11"), timeout=60))[0]
    await as_provider(
        stack,
        offer,
        ("interview.accepted", {}),
        ("interview.offered", {"offered_at": (now - timedelta(hours=4)).isoformat()}),
    )
    opened = await poll(lambda: about(receiver, "cardiff", "episode.opened", "E-11"), timeout=60)
    late = report("E-11", since=now - timedelta(hours=60))
    late["data"].update(police_force="gwent-police", police_reference="GP-11")
    await post(stack, "gwent-police", late)
    await post(stack, "gwent-police", returned("E-11", at=now - timedelta(hours=55)))
    await poll(lambda: len(about(receiver, "cardiff", "episode.opened", "E-11")) == 2, timeout=60)
    ids = [o["episode_id"] for o in about(receiver, "cardiff", "episode.opened", "E-11")]
    assert ids[0] == opened[0]["episode_id"]  # the first episode kept its id
    assert len(set(ids)) == 2
    # The holder is told the task now covers the late absence too; nobody is offered it twice, and
    # the offer made in time is not set aside: no breach reaches the council or its senior manager.
    updated = await poll(lambda: about(receiver, offer.org, "assignment.updated", "E-11"), timeout=60)
    assert updated[0]["assignment_id"] == data_of(offer)["assignment_id"]
    assert len(offers(receiver, "E-11")) == 1
    assert about(receiver, "cardiff", "window.breached", "E-11") == []
    assert about(receiver, "cardiff-senior-manager", "window.breached", "E-11") == []


async def test_a_councils_withdrawal_leaves_the_police_episode_and_a_second_reports_facts_reach_everyone(
    stack: Stack, receiver: Receiver
) -> None:
    now = datetime.now(UTC)
    # 3. The council withdraws its own duplicate report of a high-risk police episode.
    await post(
        stack,
        "south-wales-police",
        police_report("E-12", now - timedelta(hours=30), "SWP-12", risk_level="high"),
    )
    await post(stack, "cardiff", council_report("E-12", now - timedelta(hours=29)))
    await post(
        stack,
        "cardiff",
        cloud_event(
            "missing.cancelled",
            {"child_ref": "E-12", "responsible_authority": CARDIFF, "reason": "reported_in_error"},
        ),
    )
    await post(stack, "south-wales-police", returned("E-12", at=now - timedelta(minutes=30)))
    offered = await poll(lambda: offers(receiver, "E-12"), timeout=60)
    assert data_of(offered[0])["referral"]["risk_level"] == "high"
    assert len(about(receiver, "cardiff", "alert.high_risk", "E-12")) == 1
    changes = await poll(lambda: about(receiver, "cardiff", "episode.changed", "E-12"), timeout=60)
    assert {c["by"] for c in changes} == {
        "south-wales-police"
    }  # told of the police's return, not its own acts
    assert "returned" in changes[-1]["changes"]

    # 5. The police say nothing of language; the council says Welsh, and moves the placement to Newport.
    await post(stack, "south-wales-police", police_report("E-13", now - timedelta(hours=6), "SWP-13"))
    await post(
        stack,
        "cardiff",
        council_report(
            "E-13", now - timedelta(hours=5), preferred_language="cy", placement_authority=NEWPORT
        ),
    )
    await post(stack, "south-wales-police", returned("E-13", at=now - timedelta(minutes=30)))
    welsh = (await poll(lambda: about(receiver, "nyas-cymru", "assignment.offered", "E-13"), timeout=60))[0]
    assert (welsh["referral"]["preferred_language"], welsh["referral"]["placement_authority"]) == (
        "cy",
        NEWPORT,
    )
    assert about(receiver, "english-only", "assignment.offered", "E-13") == []
    moved = await poll(lambda: about(receiver, "newport", "episode.changed", "E-13"), timeout=60)
    assert moved[0]["previous_placement_authority"] == CARDIFF
    assert "placement_changed" in moved[0]["changes"]
