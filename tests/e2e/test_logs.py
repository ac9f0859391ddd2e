"""Logs never carry a child's details: sentinels in every reference and reason field never appear."""

import json
from datetime import UTC, datetime, timedelta

import httpx

from tests.directory_factory import key_for
from tests.e2e.stack import Stack
from tests.events import cloud_event, report, returned
from tests.kafka_reader import poll
from tests.receiver import Receiver

SENTINEL = "zzsentinel"
POLICE = {
    "authorization": f"Bearer {key_for('south-wales-police')}",
    "content-type": "application/cloudevents+json",
}


async def test_no_sentinel_reaches_any_services_log(stack: Stack, receiver: Receiver) -> None:
    now = datetime.now(UTC)
    child, other, away = f"{SENTINEL}-child-1", f"{SENTINEL}-child-2", f"{SENTINEL}-child-3"
    first = report(child, since=now - timedelta(hours=5), indicators=["county_lines"], risk="high")
    first["data"]["police_reference"] = f"{SENTINEL}-ref-1"
    not_reported = report(away, since=now - timedelta(hours=3), kind="away")
    del not_reported["data"]["police_force"], not_reported["data"]["police_reference"]
    not_reported["data"].update(reported_to_police=False, not_reported_reason=f"{SENTINEL}_whereabouts_known")
    cancel = cloud_event(
        "missing.cancelled",
        {"child_ref": other, "responsible_authority": "W06000015", "reason": f"{SENTINEL}_reported_in_error"},
    )
    risk = cloud_event(
        "missing.risk_changed",
        {
            "child_ref": child,
            "responsible_authority": "W06000015",
            "risk_level": "high",
            "exploitation_indicators": ["cse"],
        },
    )
    bad = report(child)
    bad["data"]["kind"] = f"{SENTINEL}-kind"  # refused: the refusal must not echo it into the logs either
    events = [first, risk, not_reported, report(other), cancel, returned(child), bad]
    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        answers = [await client.post("/v1/events", json=event, headers=POLICE) for event in events]
    assert [a.status_code for a in answers] == [202] * 6 + [422]

    # Everything has gone all the way through once the provider has its offer and the council its alerts.
    await poll(lambda: receiver.delivered(type_="assignment.offered"), timeout=60)
    await poll(lambda: receiver.delivered("cardiff", "alert.exploitation"), timeout=30)

    logs = stack.all_logs()
    assert logs.count("\n") > 20
    assert SENTINEL not in logs.lower()
    for line in logs.splitlines():
        if line.startswith("{"):
            assert "child_ref" not in json.loads(line)
