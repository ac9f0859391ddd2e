"""Poison messages: unreadable and invalid messages on every topic go to its dead-letter twin with the
reason; consumers keep consuming; `mtp dlq replay` puts them back once the cause is fixed."""

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer

from shared import topics
from tests.conftest import Place
from tests.directory_factory import key_for
from tests.e2e.stack import Stack
from tests.events import report, returned
from tests.kafka_reader import headers_of, poll, read_topic
from tests.receiver import Receiver

POLICE = {
    "authorization": f"Bearer {key_for('south-wales-police')}",
    "content-type": "application/cloudevents+json",
}
GOOD_HEADERS = [
    ("ce_specversion", b"1.0"),
    ("ce_id", b"p-1"),
    ("ce_source", b"/orgs/x"),
    ("ce_time", b"2026-01-01T00:00:00+00:00"),
]
POISONS = {
    "value_not_json": (b"\x00\xff not json", [*GOOD_HEADERS, ("ce_type", b"missing.reported")]),
    "missing_headers": (b"{}", []),
    "invalid_data": (b'{"child_ref": "C-1"}', [*GOOD_HEADERS, ("ce_type", b"missing.returned")]),
    "unknown_type": (b"{}", [*GOOD_HEADERS, ("ce_type", b"missing.teleported")]),
}


async def test_poison_goes_to_the_dead_letter_topic_and_consumers_carry_on(
    stack: Stack, receiver: Receiver, place: Place
) -> None:
    consumed = topics.ALL  # every topic a service reads
    producer = AIOKafkaProducer(bootstrap_servers=place.bootstrap)
    await producer.start()
    try:
        for topic in consumed:
            for value, headers in POISONS.values():
                await producer.send_and_wait(
                    topics.named(place.namespace, topic), value, key=b"poison", headers=headers
                )
    finally:
        await producer.stop()

    # The consumers are still working: a report and a return go all the way to an offer.
    now = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        assert (
            await client.post(
                "/v1/events", json=report("P-1", since=now - timedelta(hours=2)), headers=POLICE
            )
        ).status_code == 202
        assert (
            await client.post(
                "/v1/events", json=returned("P-1", at=now - timedelta(minutes=5)), headers=POLICE
            )
        ).status_code == 202
    await poll(lambda: receiver.delivered(type_="assignment.offered"), timeout=60)

    for topic in consumed:
        dead = await read_topic(
            place.bootstrap, topics.dlq(topics.named(place.namespace, topic)), at_least=len(POISONS)
        )
        reasons = sorted(headers_of(record)["mtp_dlq_reason"].split(":")[0] for record in dead)
        # A topic read by two groups (intake and another service) may dead-letter a message twice.
        assert set(reasons) == set(POISONS), topic
        assert all(record.value in {v for v, _ in POISONS.values()} for record in dead)


async def test_a_replayed_dead_letter_is_applied_once_the_cause_is_gone(
    stack: Stack, receiver: Receiver, place: Place
) -> None:
    # A return whose report had a field this version could not read is set aside...
    now = datetime.now(UTC)
    episodes = topics.named(place.namespace, topics.EPISODES)
    event = returned("P-2", at=now - timedelta(minutes=5))
    async with httpx.AsyncClient(base_url=stack.intake_url) as client:
        assert (
            await client.post(
                "/v1/events", json=report("P-2", since=now - timedelta(hours=1)), headers=POLICE
            )
        ).status_code == 202
    producer = AIOKafkaProducer(bootstrap_servers=place.bootstrap)
    await producer.start()
    try:  # the return, sent by an older client with its data in a form this version rejects
        bad = b'{"child_ref": "P-2", "responsible_authority": "W06000015", "returned_at": "yesterday"}'
        headers = [*GOOD_HEADERS[:1], ("ce_id", b"r-p2"), *GOOD_HEADERS[2:], ("ce_type", b"missing.returned")]
        await producer.send_and_wait(episodes, bad, key=b"W06000015/P-2", headers=headers)
    finally:
        await producer.stop()
    await read_topic(place.bootstrap, topics.dlq(episodes), at_least=1)
    assert receiver.delivered(type_="assignment.offered") == []

    # ...the cause is fixed (here: the message is corrected at the source and re-sent through the DLQ)
    # and `mtp dlq replay` puts it back; replaying again changes nothing.
    fixed = event["data"]
    producer = AIOKafkaProducer(bootstrap_servers=place.bootstrap)
    await producer.start()
    try:
        import json

        await producer.send_and_wait(
            topics.dlq(episodes), json.dumps(fixed).encode(), key=b"W06000015/P-2",
            headers=[*headers, ("mtp_dlq_reason", b"fixed"), ("mtp_dlq_topic", episodes.encode())],
        )  # fmt: skip
    finally:
        await producer.stop()
    env = {
        **os.environ,
        "MTP_KAFKA_BOOTSTRAP": place.bootstrap,
        "MTP_TOPIC_NAMESPACE": place.namespace,
        "MTP_DATABASE_URL": place.database_url,
    }
    for _ in range(2):
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "tools.cli", "dlq", "replay", topics.EPISODES], env=env, capture_output=True, text=True, timeout=60, check=True
        )  # fmt: skip
        assert "replayed" in done.stdout
    await poll(lambda: receiver.delivered(type_="assignment.offered"), timeout=60)
    listing = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "tools.cli", "dlq", "list"], env=env, capture_output=True, text=True, timeout=60, check=True
    )  # fmt: skip
    assert "invalid_data" in listing.stdout
    assert "P-2" not in listing.stdout
    # each replay is in the audit trail: who ran it, on which topic, when
    conn = await asyncpg.connect(place.database_url)
    try:
        actions = await conn.fetch("SELECT org_id, action FROM intake.audit WHERE action LIKE 'cli:%'")
    finally:
        await conn.close()
    assert [(r["org_id"], r["action"]) for r in actions] == [("operator", "cli:dlq:replay:episodes")] * 2
