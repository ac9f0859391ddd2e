"""The notifier against real Kafka, PostgreSQL and a webhook receiver on 127.0.0.1."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from standardwebhooks.webhooks import Webhook

from services.notifier.app import create_app
from services.notifier.core.settings import NotifierSettings
from services.notifier.webhooks import store as delivery_store
from shared import topics
from shared.contracts.deliveries import RedeliveryRequested
from shared.contracts.tasks import WindowBreached
from tests.conftest import Place
from tests.directory_factory import DirectoryFactory, secret_for
from tests.events import CARDIFF, NEWPORT, interview_requested, publish
from tests.kafka_reader import headers_of, poll, read_topic
from tests.receiver import Receiver


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with Receiver() as running:
        yield running


@pytest.fixture
async def notifier(place: Place, directory: DirectoryFactory, receiver: Receiver) -> AsyncIterator[FastAPI]:
    settings = NotifierSettings(
        **place.settings_kwargs(directory.write(receiver.url)),  # type: ignore[arg-type]
        webhook_allow_http_loopback=True,
        retry_base_seconds=0.2,
        webhook_timeout_seconds=2,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def test_an_interview_request_reaches_an_independent_provider_signed(
    notifier: FastAPI, place: Place, receiver: Receiver
) -> None:
    await publish(
        place.bootstrap,
        topics.named(place.namespace, topics.TASKS),
        f"{CARDIFF}/C-300",
        interview_requested("C-300"),
    )
    offers = await poll(lambda: receiver.delivered(type_="assignment.offered"))
    offer = offers[0]
    assert offer.org == "nyas-cymru"  # never Cardiff's own in-house team for a Cardiff child
    event = Webhook(secret_for("nyas-cymru")).verify(offer.body, offer.headers)
    assert event["data"]["referral"]["child_ref"] == "C-300"
    assert event["id"] == offer.headers["webhook-id"]
    facts = await read_topic(place.bootstrap, topics.named(place.namespace, topics.ASSIGNMENTS), at_least=1)
    assert headers_of(facts[0])["ce_type"] == "assignment.assigned"
    assert json.loads(facts[0].value)["provider_id"] == "nyas-cymru"


async def test_a_failing_receiver_gets_the_event_once_delivered_with_the_same_webhook_id(
    notifier: FastAPI, place: Place, receiver: Receiver
) -> None:
    receiver.fail_first["nyas-cymru"] = 3
    await publish(
        place.bootstrap,
        topics.named(place.namespace, topics.TASKS),
        f"{CARDIFF}/C-301",
        interview_requested("C-301"),
    )
    delivered = await poll(lambda: receiver.delivered("nyas-cymru"), timeout=30)
    attempts = [r for r in receiver.requests if r.org == "nyas-cymru"]
    assert len(attempts) == 4
    assert len(delivered) == 1
    assert len({r.headers["webhook-id"] for r in attempts}) == 1


async def test_a_breach_reaches_both_councils_and_the_responsible_councils_senior_manager(
    notifier: FastAPI, place: Place, receiver: Receiver
) -> None:
    """docs/domain.md rule 6: the coordinator and the LA's senior manager are told; the host council too,
    for a child placed out of area (rule 8)."""
    now = datetime.now(UTC)
    breach = WindowBreached(
        child_ref="C-302",
        responsible_authority=CARDIFF,
        placement_authority=NEWPORT,
        episode_id="ep-302",
        task_id="t-302",
        returned_at=now - timedelta(hours=73),
        offer_due_at=now - timedelta(hours=1),
        breached_at=now - timedelta(hours=1),
    )
    await publish(place.bootstrap, topics.named(place.namespace, topics.TASKS), f"{CARDIFF}/C-302", breach)
    await poll(lambda: len(receiver.delivered(type_="window.breached")) == 3)
    got = receiver.delivered(type_="window.breached")
    assert {r.org for r in got} == {"cardiff", "newport", "cardiff-senior-manager"}
    for request in got:
        council = request.org.removesuffix("-senior-manager")  # signed with the council's secret
        Webhook(secret_for(council)).verify(request.body, request.headers)
    assert len({r.headers["webhook-id"] for r in got}) == 3


async def test_nobody_independent_left_tells_the_council(
    notifier: FastAPI, place: Place, receiver: Receiver
) -> None:
    # Swansea: only Cardiff's providers exist and none covers Swansea.
    request = interview_requested("C-303", placement="W06000011")
    await publish(place.bootstrap, topics.named(place.namespace, topics.TASKS), f"{CARDIFF}/C-303", request)
    exhausted = await poll(lambda: receiver.delivered("cardiff", "assignment.exhausted"))
    data = json.loads(exhausted[0].body)["data"]
    assert data["task_id"] == request.task_id
    # The council sees why, to know what to do: nobody covers Swansea.
    assert data["excluded"] == {
        "nyas-cymru": "does_not_cover_host_authority",
        "cardiff-youth-support": "employed_by_responsible_authority",
    }
    assert receiver.delivered(type_="assignment.offered") == []


async def test_a_provider_whose_endpoint_is_gone_is_not_offered_work(
    notifier: FastAPI, place: Place, receiver: Receiver
) -> None:
    """NYAS's URL answered 410 Gone earlier: a new Cardiff task is not parked with NYAS for hours;
    nobody else independent covers Cardiff here, so the council is told at once."""
    conn = await asyncpg.connect(place.database_url)
    try:
        await conn.execute(
            "INSERT INTO notifier.disabled_endpoints (url, org_id, webhook_id, disabled_at) VALUES ($1, $2, $3, $4)",
            f"{receiver.url}/nyas-cymru",
            "nyas-cymru",
            "msg_earlier",
            datetime.now(UTC),
        )
    finally:
        await conn.close()
    request = interview_requested("C-304")
    await publish(place.bootstrap, topics.named(place.namespace, topics.TASKS), f"{CARDIFF}/C-304", request)
    exhausted = await poll(lambda: receiver.delivered("cardiff", "assignment.exhausted"))
    data = json.loads(exhausted[0].body)["data"]
    assert (data["task_id"], data["excluded"]["nyas-cymru"]) == (request.task_id, "endpoint_disabled")
    conn = await asyncpg.connect(place.database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM notifier.assignments") == 0
    finally:
        await conn.close()


async def test_a_delivery_queued_to_a_url_the_directory_no_longer_names_goes_to_the_current_one(
    notifier: FastAPI, place: Place, receiver: Receiver
) -> None:
    """An http URL fixed to https, a provider that moved after a 410: retries and replays follow the
    directory, not the URL of the moment the webhook was queued."""
    conn = await asyncpg.connect(place.database_url)
    try:
        await delivery_store.add_delivery(
            conn,
            webhook_id="msg_queued_before_the_move",
            org_id="nyas-cymru",
            url="http://127.0.0.1:9/old-endpoint",
            event_type="assignment.withdrawn",
            body=b'{"type":"assignment.withdrawn"}',
            now=datetime.now(UTC),
        )
        await conn.execute(delivery_store.WAKE_WORKERS)
    finally:
        await conn.close()
    delivered = await poll(lambda: receiver.delivered("nyas-cymru", "assignment.withdrawn"))
    assert delivered[0].headers["webhook-id"] == "msg_queued_before_the_move"
    Webhook(secret_for("nyas-cymru")).verify(delivered[0].body, delivered[0].headers)


async def test_a_redelivery_request_sends_the_organisations_own_delivery_again_once(
    notifier: FastAPI, place: Place, receiver: Receiver
) -> None:
    """Through mtp.redeliveries.v1: the same webhook again, as a new round with its attempts counted
    afresh, only for the organisation it went to, and not while it is still being sent; each attempt
    is published on mtp.deliveries.v1 (no body)."""
    await publish(
        place.bootstrap,
        topics.named(place.namespace, topics.TASKS),
        f"{CARDIFF}/C-305",
        interview_requested("C-305"),
    )
    offer = (await poll(lambda: receiver.delivered("nyas-cymru", "assignment.offered")))[0]
    webhook_id = offer.headers["webhook-id"]
    redeliveries = topics.named(place.namespace, topics.REDELIVERIES)

    def asked(org: str, n: int) -> RedeliveryRequested:
        return RedeliveryRequested(
            webhook_id=webhook_id, org_id=org, requested_at=datetime.now(UTC), api_key_id=f"k{n}"
        )

    await publish(
        place.bootstrap, redeliveries, "newport", asked("newport", 1), source="/mtp/intake"
    )  # not theirs
    request = await publish(
        place.bootstrap, redeliveries, "nyas-cymru", asked("nyas-cymru", 2), source="/mtp/intake"
    )
    await publish(  # the same request again (at least once): applied once
        place.bootstrap,
        redeliveries,
        "nyas-cymru",
        asked("nyas-cymru", 2),
        source="/mtp/intake",
        id_=request.id,
    )
    again = await poll(lambda: receiver.delivered("nyas-cymru", "assignment.offered")[1:] or None)
    assert again[0].headers["webhook-id"] == webhook_id
    assert again[0].body == offer.body

    def attempted(record: Any) -> dict[str, Any]:
        return dict(json.loads(record.value))

    facts = await read_topic(
        place.bootstrap,
        topics.named(place.namespace, topics.DELIVERIES),
        until=lambda records: any(
            attempted(r)["webhook_id"] == webhook_id and attempted(r)["round"] == 1 for r in records
        ),
    )
    rounds = sorted(
        (f["round"], f["attempt"], f["state"], f["status"])
        for f in map(attempted, facts)
        if f["webhook_id"] == webhook_id
    )
    assert rounds == [(0, 1, "delivered", 204), (1, 1, "delivered", 204)]
    assert all("body" not in f and "child_ref" not in json.dumps(f) for f in map(attempted, facts))
    conn = await asyncpg.connect(place.database_url)
    try:
        row = await conn.fetchrow(
            "SELECT round, attempts, state FROM notifier.deliveries WHERE webhook_id = $1", webhook_id
        )
    finally:
        await conn.close()
    assert tuple(row) == (1, 1, "delivered")
    assert len(receiver.delivered("nyas-cymru", "assignment.offered")) == 2  # newport's request moved nothing


async def test_a_late_outcome_does_not_undo_a_newer_claim(place: Place, notifier: FastAPI) -> None:
    """An attempt's outcome written after its delivery was claimed again (a lease run out, a replay or
    a redelivery begun) leaves the newer claim's state alone."""
    pool = await asyncpg.create_pool(place.database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await delivery_store.add_delivery(
                conn,
                webhook_id="msg_late",
                org_id="nyas-cymru",
                url="https://nyas.example/hooks",
                event_type="webhook.test",
                body=b"{}",
                now=datetime.now(UTC) + timedelta(hours=1),  # not due: the worker leaves it alone
            )
            row = await conn.fetchrow("SELECT * FROM notifier.deliveries WHERE webhook_id = 'msg_late'")
        now = datetime.now(UTC)
        first = delivery_store.Claimed(
            row["id"], "msg_late", "nyas-cymru", row["url"], "webhook.test", b"{}", 1, 0, False, now
        )
        # meanwhile, the delivery was asked for again: round 1, pending
        await pool.execute(
            "UPDATE notifier.deliveries SET round = 1, attempts = 0, state = 'pending' WHERE id = $1",
            row["id"],
        )
        outcome = delivery_store.Outcome(first, "failed", now, now, 503, 1.0, None)
        await delivery_store.record_outcomes(pool, [outcome], [])
        await delivery_store.finish_attempt(pool, outcome, ("t", "k", b"{}", "{}"))
        state = await pool.fetchrow("SELECT state, round FROM notifier.deliveries WHERE id = $1", row["id"])
        assert tuple(state) == ("pending", 1)
        assert (
            await pool.fetchval(
                "SELECT count(*) FROM notifier.delivery_attempts WHERE delivery_id = $1", row["id"]
            )
            == 1
        )
    finally:
        await pool.close()
