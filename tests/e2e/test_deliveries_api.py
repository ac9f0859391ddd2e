"""A provider lost a webhook: it finds the delivery through the API, asks for it again, and the notifier
sends the same webhook under the same webhook-id; a delivery still being retried cannot be asked for."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.directory_factory import key_for
from tests.e2e.stack import Stack
from tests.events import NEWPORT, report, returned
from tests.kafka_reader import poll
from tests.receiver import Receiver


def as_org(org: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key_for(org)}", "content-type": "application/cloudevents+json"}


async def deliveries(stack: Stack, org: str, **params: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        answer = await client.get("/v1/deliveries", params=params, headers=as_org(org))
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_a_lost_offer_is_asked_for_again_and_comes_under_the_same_webhook_id(
    stack: Stack, receiver: Receiver
) -> None:
    receiver.status_for["cardiff"] = 503  # the council's receiver is down: its webhooks stay pending
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        for event in (
            report("D-1", since=now - timedelta(hours=6), placement=NEWPORT),
            returned("D-1", at=now - timedelta(minutes=30)),
        ):
            answer = await client.post("/v1/events", json=event, headers=as_org("south-wales-police"))
            assert answer.status_code == 202, answer.text

    offers = await poll(lambda: receiver.delivered("nyas-cymru", "assignment.offered"), timeout=60)
    webhook_id = offers[0].headers["webhook-id"]

    async def delivered_once() -> dict[str, Any] | None:
        found = await deliveries(stack, "nyas-cymru", event_type="assignment.offered")
        return found[0] if found and found[0]["state"] == "delivered" else None

    delivery = await poll(delivered_once, timeout=30)
    assert delivery["webhook_id"] == webhook_id
    assert [(a["round"], a["attempt"], a["status"]) for a in delivery["attempts"]] == [(0, 1, 204)]

    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        # Newport (the host council) cannot see or ask for the provider's delivery.
        seen = await client.get(f"/v1/deliveries/{webhook_id}", headers=as_org("newport"))
        assert seen.status_code == 404
        other = await client.post(f"/v1/deliveries/{webhook_id}/redeliver", headers=as_org("newport"))
        assert other.status_code == 404
        assert webhook_id not in {d["webhook_id"] for d in await deliveries(stack, "newport")}
        asked = await client.post(f"/v1/deliveries/{webhook_id}/redeliver", headers=as_org("nyas-cymru"))
        assert asked.status_code == 202, asked.text

    again = await poll(lambda: receiver.delivered("nyas-cymru", "assignment.offered")[1:] or None, timeout=30)
    assert again[0].headers["webhook-id"] == webhook_id
    assert again[0].body == offers[0].body  # the same webhook, not a new offer

    async def second_round() -> dict[str, Any] | None:
        found = await deliveries(stack, "nyas-cymru", event_type="assignment.offered")
        return found[0] if len(found[0]["attempts"]) == 2 else None

    delivery = await poll(second_round, timeout=30)
    assert [(a["round"], a["attempt"], a["status"]) for a in delivery["attempts"]] == [
        (0, 1, 204),
        (1, 1, 204),
    ]
    assert delivery["state"] == "delivered"

    # The council's own webhooks are still being retried: listed as pending, not to be asked for.
    pending = await poll(lambda: deliveries(stack, "cardiff", state="pending"), timeout=30)
    assert pending[0]["attempts"][0]["status"] == 503
    assert pending[0]["next_attempt_at"] is not None
    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        busy = await client.post(
            f"/v1/deliveries/{pending[0]['webhook_id']}/redeliver", headers=as_org("cardiff")
        )
    assert busy.status_code == 409
    assert busy.headers["content-type"] == "application/problem+json"
