"""Two scheduler processes on one database and one topic; one is SIGKILLed while timers are due and
restarted. Every child's reminder, warning and breach reaches `mtp.tasks.v1` once in effect (one
CloudEvent id each; a relay that dies between publishing and marking may repeat an id, never mint a
second one), and none is missing."""

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from shared import topics
from shared.contracts.common import EventData
from shared.contracts.envelope import Envelope
from shared.contracts.episodes import MissingReported, Returned
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory
from tests.e2e.stack import Stack, service_env
from tests.events import CARDIFF
from tests.kafka_reader import headers_of, read_topic

CHILDREN = 200
# Fractions of an hour: the reminder, warning and breach fall due 11, 14 and 18 seconds after a return.
SETTINGS = {"acceptance_reminder_hours": 0.003, "offer_warning_hours": 0.004, "interview_window_hours": 0.005}


@pytest.fixture
def schedulers(place: Place, directory: DirectoryFactory, tmp_path: Path) -> Iterator[Stack]:
    directory.settings = SETTINGS
    # Small claims, so both instances take turns at the due timers.
    env = service_env(place.env(directory.write(), MTP_TIMER_BATCH="10"))
    running = Stack(env=env, log_dir=tmp_path)
    try:
        running.start("scheduler")
        running.start("scheduler", instance="2")
        running.wait_ready()
        yield running
    finally:
        running.stop()


async def publish_all(bootstrap: str, topic: str, items: list[tuple[str, EventData]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    await producer.start()
    try:
        sent = []
        for key, data in items:
            envelope = Envelope(
                id=uuid.uuid4().hex,
                source="/orgs/test",
                type=data.type_name,
                time=datetime.now(UTC),
                data=data,
            )
            sent.append(
                await producer.send(
                    topic, envelope.kafka_value(), key=key.encode(), headers=envelope.kafka_headers()
                )
            )
        for future in sent:
            await future
    finally:
        await producer.stop()


def report(child: str, since: datetime) -> MissingReported:
    return MissingReported(
        child_ref=child,
        responsible_authority=CARDIFF,
        placement_authority=CARDIFF,
        kind="missing",
        missing_since=since,
        risk_level="medium",
        police_force="south-wales-police",
        police_reference=f"R-{child}",
    )


def window_events(records: list[Any]) -> dict[tuple[str, str, str], set[str]]:
    """(child, type, stage) -> the CloudEvent ids seen for it."""
    found: dict[tuple[str, str, str], set[str]] = {}
    for record in records:
        headers = headers_of(record)
        if headers["ce_type"] in ("window.warning", "window.breached"):
            data = json.loads(record.value)
            found.setdefault((data["child_ref"], headers["ce_type"], data.get("stage", "")), set()).add(
                headers["ce_id"]
            )
    return found


async def test_two_instances_one_killed_while_timers_are_due_fire_every_timer_once(
    schedulers: Stack, place: Place
) -> None:
    episodes = topics.named(place.namespace, topics.EPISODES)
    tasks = topics.named(place.namespace, topics.TASKS)
    # Both consumers have joined once a probe event comes out the other side.
    await publish_all(place.bootstrap, episodes, [(f"{CARDIFF}/P-0", report("P-0", datetime.now(UTC)))])
    await read_topic(place.bootstrap, tasks, at_least=1, timeout=60)

    now = datetime.now(UTC)
    children = [f"K-{n}" for n in range(CHILDREN)]
    # Returns spread over eight seconds: timers keep falling due for 15 seconds, in many claims.
    await publish_all(
        place.bootstrap,
        episodes,
        [(f"{CARDIFF}/{c}", report(c, now - timedelta(hours=1))) for c in children]
        + [
            (f"{CARDIFF}/{c}", Returned(child_ref=c, responsible_authority=CARDIFF, returned_at=back))
            for n, c in enumerate(children)
            for back in [now - timedelta(milliseconds=40 * n)]
        ],
    )
    # Kill one instance once reminders have started firing: warnings and breaches fall due meanwhile.
    await read_topic(
        place.bootstrap,
        tasks,
        until=lambda rs: any(headers_of(r)["ce_type"] == "window.warning" for r in rs),
        timeout=60,
    )
    schedulers.kill("scheduler")
    killed_at = time.monotonic()
    schedulers.start("scheduler")
    schedulers.wait_ready()

    expected = {
        (c, kind, stage)
        for c in children
        for kind, stage in (
            ("window.warning", "no_provider_accepted"),
            ("window.warning", "no_offer_made"),
            ("window.breached", ""),
        )
    }
    records = await read_topic(
        place.bootstrap,
        tasks,
        until=lambda rs: expected <= window_events(rs).keys(),
        timeout=120,
    )
    found = window_events(records)
    assert expected - found.keys() == set(), "missing"
    assert {key: ids for key, ids in found.items() if len(ids) != 1} == {}, "a second id for one event"
    # Every child's request and episode also went out once in effect.
    per_type = Counter(
        headers_of(r)["ce_type"] for r in {headers_of(r)["ce_id"]: r for r in records}.values()
    )
    assert per_type["interview.requested"] == CHILDREN
    assert per_type["episode.opened"] == CHILDREN + 1
    assert time.monotonic() - killed_at < 120
    # Both instances fired timers (the killed one before it died or after its restart).
    assert '"timers_fired"' in schedulers.logs("scheduler")
    assert '"timers_fired"' in schedulers.logs("scheduler2")
