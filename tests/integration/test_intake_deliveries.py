"""An organisation's own webhook deliveries through the API: built from the notifier's attempts on
`mtp.deliveries.v1` (late, repeated or out of order), shown only to the organisation they went to,
and asked for again through `mtp.redeliveries.v1`."""

import json
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from services.intake.deliveries import store as delivery_store
from shared import topics
from shared.contracts.deliveries import DeliveryAttempted
from tests.conftest import Place
from tests.events import publish
from tests.integration.conftest import as_org
from tests.kafka_reader import poll, read_topic

NOW = datetime.now(UTC).replace(microsecond=0)


def attempt(
    webhook_id: str,
    number: int,
    state: str,
    *,
    status: int | None,
    org: str = "nyas-cymru",
    round_: int = 0,
    assignment_id: str | None = "asg-held",
) -> DeliveryAttempted:
    """An attempt of an `assignment.offered` webhook (a referral), about `assignment_id`."""
    return DeliveryAttempted(
        webhook_id=webhook_id,
        org_id=org,
        event_type="assignment.offered",
        queued_at=NOW - timedelta(minutes=10),
        round=round_,
        attempt=number,
        attempted_at=NOW - timedelta(minutes=10 - number - 3 * round_),
        status=status,
        latency_ms=12.5,
        error=None if status else "timeout",
        state=state,  # type: ignore[arg-type]  # one of the contract's states, as a literal
        next_attempt_at=NOW + timedelta(minutes=1) if state == "pending" else None,
        assignment_id=assignment_id,
    )


async def holding(place: Place, assignment_id: str, status: str, provider: str = "nyas-cymru") -> None:
    """Intake's read model learns where the assignment stands (as from mtp.assignments.v1)."""
    conn = await asyncpg.connect(place.database_url)
    try:
        await conn.execute(
            "INSERT INTO intake.assignments (assignment_id, provider_id, child_key, task_id, status, updated_at)"
            " VALUES ($1, $2, 'W06000015/C-1', 'task-1', $3, now())"
            " ON CONFLICT (assignment_id) DO UPDATE SET status = EXCLUDED.status",
            assignment_id, provider, status,
        )  # fmt: skip
    finally:
        await conn.close()


async def send(place: Place, *facts: DeliveryAttempted) -> None:
    for fact in facts:
        await publish(
            place.bootstrap,
            topics.named(place.namespace, topics.DELIVERIES),
            fact.org_id,
            fact,
            source="/mtp/notifier",
            id_=f"attempt-{fact.webhook_id}-{fact.round}-{fact.attempt}",
        )


async def shown(intake: httpx.AsyncClient, org: str, webhook_id: str, attempts: int) -> dict[str, object]:
    async def seen() -> dict[str, object] | None:
        answer = await intake.get(f"/v1/deliveries/{webhook_id}", headers=as_org(org))
        body: dict[str, object] = answer.json()
        return body if answer.status_code == 200 and len(body["attempts"]) == attempts else None  # type: ignore[arg-type]

    found: dict[str, object] = await poll(seen)
    return found


async def test_the_latest_attempt_wins_whatever_order_the_attempts_come_in(
    intake: httpx.AsyncClient, place: Place
) -> None:
    first = attempt("msg_a", 1, "pending", status=503)
    second = attempt("msg_a", 2, "pending", status=None)
    third = attempt("msg_a", 3, "delivered", status=204)
    await send(place, third, first, first, second)  # late, repeated, out of order

    delivery = await shown(intake, "nyas-cymru", "msg_a", attempts=3)
    assert delivery["state"] == "delivered"
    assert delivery["next_attempt_at"] is None
    assert [(a["attempt"], a["status"], a["error"], a["state"]) for a in delivery["attempts"]] == [  # type: ignore[attr-defined]
        (1, 503, None, "pending"),
        (2, None, "timeout", "pending"),
        (3, 204, None, "delivered"),
    ]
    assert "body" not in json.dumps(delivery)


async def test_an_organisation_sees_only_its_own_deliveries(intake: httpx.AsyncClient, place: Place) -> None:
    await send(
        place,
        attempt("msg_nyas", 1, "delivered", status=204),
        attempt("msg_newport", 1, "failed", status=500, org="newport"),
        attempt("msg_nyas_2", 1, "failed", status=500),
    )
    await shown(intake, "newport", "msg_newport", attempts=1)
    await shown(intake, "nyas-cymru", "msg_nyas_2", attempts=1)

    listed = await intake.get("/v1/deliveries", headers=as_org("nyas-cymru"))
    assert listed.headers["cache-control"] == "no-store"  # webhook bodies name children
    mine = listed.json()
    assert {d["webhook_id"] for d in mine["items"]} == {"msg_nyas", "msg_nyas_2"}
    failed = (await intake.get("/v1/deliveries?state=failed", headers=as_org("nyas-cymru"))).json()
    assert [d["webhook_id"] for d in failed["items"]] == ["msg_nyas_2"]

    # Another organisation's delivery is not found, whether read or asked for again.
    for answer in (
        await intake.get("/v1/deliveries/msg_newport", headers=as_org("nyas-cymru")),
        await intake.post("/v1/deliveries/msg_newport/redeliver", headers=as_org("nyas-cymru")),
    ):
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
    police = (await intake.get("/v1/deliveries", headers=as_org("south-wales-police"))).json()
    assert police == {"items": [], "next_after": None}
    assert (await intake.get("/v1/deliveries")).status_code == 401

    # Pages: newest first, `next_after` leads to the rest.
    page = (await intake.get("/v1/deliveries?limit=1", headers=as_org("nyas-cymru"))).json()
    rest = (
        await intake.get(f"/v1/deliveries?limit=1&after={page['next_after']}", headers=as_org("nyas-cymru"))
    ).json()
    assert {page["items"][0]["webhook_id"], rest["items"][0]["webhook_id"]} == {"msg_nyas", "msg_nyas_2"}


async def test_a_redelivery_request_is_published_once_and_audited(
    intake: httpx.AsyncClient, place: Place
) -> None:
    await holding(place, "asg-held", "accepted")
    await send(
        place, attempt("msg_lost", 1, "delivered", status=204), attempt("msg_busy", 1, "pending", status=503)
    )
    await shown(intake, "nyas-cymru", "msg_lost", attempts=1)
    await shown(intake, "nyas-cymru", "msg_busy", attempts=1)

    asked = await intake.post("/v1/deliveries/msg_lost/redeliver", headers=as_org("nyas-cymru"))
    assert asked.status_code == 202, asked.text
    assert asked.json()["redelivery_requested_at"] is not None
    again = await intake.post("/v1/deliveries/msg_lost/redeliver", headers=as_org("nyas-cymru"))
    assert again.status_code == 202  # asked already, and not attempted since: nothing more is sent

    busy = await intake.post("/v1/deliveries/msg_busy/redeliver", headers=as_org("nyas-cymru"))
    assert busy.status_code == 409
    assert busy.json()["type"] == "urn:mtp:problem:still-being-delivered"

    records = await read_topic(place.bootstrap, topics.named(place.namespace, topics.REDELIVERIES))
    assert len(records) == 1
    assert records[0].key == b"nyas-cymru"
    assert json.loads(records[0].value)["webhook_id"] == "msg_lost"

    trail = (await intake.get("/v1/audit?org=nyas-cymru", headers=as_org("ops"))).json()
    assert [e["event_id"] for e in trail["items"] if e["action"] == "redeliver:webhook"] == ["msg_lost"]

    # Once the notifier has tried again, the organisation may ask again.
    await send(place, attempt("msg_lost", 1, "delivered", status=204, round_=1))
    await shown(intake, "nyas-cymru", "msg_lost", attempts=2)
    third = await intake.post("/v1/deliveries/msg_lost/redeliver", headers=as_org("nyas-cymru"))
    assert third.status_code == 202
    assert (
        len(await read_topic(place.bootstrap, topics.named(place.namespace, topics.REDELIVERIES), at_least=2))
        == 2
    )


async def test_one_batch_with_repeats_and_rounds_out_of_order_leaves_the_latest(
    intake: httpx.AsyncClient, place: Place
) -> None:
    conn = await asyncpg.connect(place.database_url)
    try:
        async with conn.transaction():
            await delivery_store.apply_attempts(
                conn,
                [
                    attempt("msg_b", 1, "delivered", status=204, round_=1),
                    attempt("msg_b", 2, "failed", status=500),
                    attempt("msg_b", 1, "delivered", status=204, round_=1),
                    attempt("msg_b", 1, "pending", status=503),
                ],
            )
    finally:
        await conn.close()
    delivery = await shown(intake, "nyas-cymru", "msg_b", attempts=3)
    assert delivery["state"] == "delivered"
    assert [(a["round"], a["attempt"]) for a in delivery["attempts"]] == [(0, 1), (0, 2), (1, 1)]  # type: ignore[attr-defined]


async def test_a_page_after_a_delivery_not_theirs_is_refused(intake: httpx.AsyncClient, place: Place) -> None:
    await send(place, attempt("msg_other", 1, "delivered", status=204, org="newport"))
    await shown(intake, "newport", "msg_other", attempts=1)
    for after in ("msg_other", "msg_never"):
        answer = await intake.get(f"/v1/deliveries?after={after}", headers=as_org("nyas-cymru"))
        assert answer.status_code == 404
        assert "`after`" in answer.json()["detail"]


async def test_a_referral_is_sent_again_only_while_the_provider_holds_its_assignment(
    intake: httpx.AsyncClient, place: Place
) -> None:
    await holding(place, "asg-declined", "declined")
    await holding(place, "asg-offered", "offered")
    await send(
        place,
        attempt("msg_declined", 1, "delivered", status=204, assignment_id="asg-declined"),
        attempt("msg_offered", 1, "delivered", status=204, assignment_id="asg-offered"),
        attempt("msg_before", 1, "delivered", status=204, assignment_id=None),  # sent before it was known
    )
    for webhook_id in ("msg_declined", "msg_offered", "msg_before"):
        await shown(intake, "nyas-cymru", webhook_id, attempts=1)

    for webhook_id in ("msg_declined", "msg_before"):
        refused = await intake.post(f"/v1/deliveries/{webhook_id}/redeliver", headers=as_org("nyas-cymru"))
        assert refused.status_code == 409
        assert refused.json()["type"] == "urn:mtp:problem:assignment-not-held"
        assert "declined, expired, withdrawn or completed" in refused.json()["detail"]
    asked = await intake.post("/v1/deliveries/msg_offered/redeliver", headers=as_org("nyas-cymru"))
    assert asked.status_code == 202  # still being offered it: the referral comes again
    records = await read_topic(place.bootstrap, topics.named(place.namespace, topics.REDELIVERIES))
    assert [json.loads(r.value)["webhook_id"] for r in records] == ["msg_offered"]
