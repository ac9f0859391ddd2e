"""Logs never carry a child's details: sentinels in every reference and reason field never appear."""

import json
from datetime import UTC, datetime, timedelta

import httpx
from aiokafka import AIOKafkaProducer

from shared import topics
from tests.conftest import Place
from tests.directory_factory import key_for
from tests.e2e.stack import Stack
from tests.events import cloud_event, report, returned
from tests.kafka_reader import headers_of, poll, read_topic
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


WORDS = "qqwordsentinel"  # in the child's own words only


async def test_the_childs_words_reach_the_council_and_no_log_metric_or_dead_letter_reason(
    stack: Stack, receiver: Receiver, place: Place
) -> None:
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        for event in (
            report("V-1", since=now - timedelta(hours=4)),
            returned("V-1", at=now - timedelta(hours=1)),
        ):
            assert (await client.post("/v1/events", json=event, headers=POLICE)).status_code == 202
        offer = (await poll(lambda: receiver.delivered(type_="assignment.offered"), timeout=60))[0]
        provider = {
            "authorization": f"Bearer {key_for(offer.org)}",
            "content-type": "application/cloudevents+json",
        }
        assignment = json.loads(offer.body)["data"]["assignment_id"]
        data = {"assignment_id": assignment, "completed_at": now.isoformat(), "outcome": "completed"}
        too_long = cloud_event(
            "interview.completed", {**data, "findings": {"child_words": f"{WORDS} " * 300}}
        )
        held = cloud_event(
            "interview.completed",
            {**data, "findings": {"reasons": ["boredom"], "child_words": f"I was bored. {WORDS}"}},
        )
        assert (await client.post("/v1/events", json=too_long, headers=provider)).status_code == 422
        assert (await client.post("/v1/events", json=held, headers=provider)).status_code == 202
    # A message on the topic whose findings do not fit is dead-lettered, naming the field, not the words.
    producer = AIOKafkaProducer(bootstrap_servers=place.bootstrap)
    await producer.start()
    try:
        poison = {**data, "findings": {"reasons": [WORDS], "child_words": WORDS}}
        await producer.send_and_wait(
            topics.named(place.namespace, topics.INTERVIEWS),
            json.dumps(poison).encode(),
            key=b"W06000015/V-1",
            headers=[
                ("ce_specversion", b"1.0"),
                ("ce_id", b"poison-words"),
                ("ce_source", f"/orgs/{offer.org}".encode()),
                ("ce_time", now.isoformat().encode()),
                ("ce_type", b"interview.completed"),
            ],
        )
    finally:
        await producer.stop()

    heard = await poll(lambda: receiver.delivered("cardiff", "interview.findings"), timeout=60)
    assert WORDS in json.loads(heard[0].body)["data"]["findings"]["child_words"]
    dead = await read_topic(
        place.bootstrap, topics.dlq(topics.named(place.namespace, topics.INTERVIEWS)), at_least=2
    )
    reasons = [headers_of(record)["mtp_dlq_reason"] for record in dead]
    assert any("findings" in reason for reason in reasons), reasons
    assert not any(WORDS in reason for reason in reasons)
    assert WORDS not in stack.all_logs()
    async with httpx.AsyncClient() as client:
        for label in stack.ports:
            assert WORDS not in (await client.get(f"{stack.metrics_url(label)}/metrics")).text, label
