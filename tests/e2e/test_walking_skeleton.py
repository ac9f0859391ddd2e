"""The whole path, three processes: a police report and return become a signed offer to an
independent provider; a return 72 hours ago becomes a breach notice to the council."""

import json
from datetime import UTC, datetime, timedelta

import httpx
from standardwebhooks.webhooks import Webhook

from tests.directory_factory import key_for, secret_for
from tests.e2e.stack import Stack
from tests.events import CARDIFF, NEWPORT, report, returned
from tests.kafka_reader import poll
from tests.receiver import Receiver

POLICE = {
    "authorization": f"Bearer {key_for('south-wales-police')}",
    "content-type": "application/cloudevents+json",
}


async def post(stack: Stack, event: dict[str, object]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        return await client.post("/v1/events", json=event, headers=POLICE)


async def test_report_and_return_reach_an_independent_provider_as_a_signed_offer(
    stack: Stack, receiver: Receiver
) -> None:
    now = datetime.now(UTC)
    assert (
        await post(stack, report("E-1", since=now - timedelta(hours=6), placement=NEWPORT, language="cy"))
    ).status_code == 202
    assert (await post(stack, returned("E-1", at=now - timedelta(minutes=30)))).status_code == 202

    offers = await poll(lambda: receiver.delivered(type_="assignment.offered"), timeout=60)
    offer = offers[0]
    assert offer.org == "nyas-cymru"  # independent, covers Newport, interviews in Welsh
    event = Webhook(secret_for("nyas-cymru")).verify(offer.body, offer.headers)
    assert event["type"] == "assignment.offered"
    referral = event["data"]["referral"]
    assert (referral["child_ref"], referral["responsible_authority"], referral["placement_authority"]) == (
        "E-1",
        CARDIFF,
        NEWPORT,
    )
    assert referral["preferred_language"] == "cy"
    due = datetime.fromisoformat(event["data"]["offer_due_at"])
    assert due == datetime.fromisoformat(
        returned("E-1", at=now - timedelta(minutes=30))["data"]["returned_at"]
    ) + timedelta(hours=72)
    # The referral packet carries no police reference or other intelligence (docs/domain.md rule 13).
    assert "police_reference" not in json.dumps(event)
    # The out-of-area child's host authority heard of the episode too.
    await poll(lambda: receiver.delivered("newport", "episode.opened"), timeout=30)


async def test_a_return_72_hours_ago_is_breached_to_the_council(stack: Stack, receiver: Receiver) -> None:
    now = datetime.now(UTC)
    assert (await post(stack, report("E-2", since=now - timedelta(hours=80)))).status_code == 202
    assert (await post(stack, returned("E-2", at=now - timedelta(hours=72, minutes=5)))).status_code == 202

    breaches = await poll(lambda: receiver.delivered("cardiff", "window.breached"), timeout=60)
    event = Webhook(secret_for("cardiff")).verify(breaches[0].body, breaches[0].headers)
    assert event["data"]["child_ref"] == "E-2"
    assert len(receiver.delivered("cardiff", "window.breached")) == 1
    escalated = await poll(
        lambda: receiver.delivered("cardiff-senior-manager", "window.breached"), timeout=30
    )
    assert (
        Webhook(secret_for("cardiff")).verify(escalated[0].body, escalated[0].headers)["data"]["child_ref"]
        == "E-2"
    )
    # Logs are JSON lines that never carry the child's reference.
    logs = stack.all_logs()
    assert "E-2" not in logs
    for line in logs.splitlines():
        if line.startswith("{"):
            assert {"event", "service", "level", "timestamp"} <= json.loads(line).keys()
