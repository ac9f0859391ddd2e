"""An organisation's own webhook deliveries: list them with every attempt, read one, and ask for one
again. Intake learns of attempts from `mtp.deliveries.v1` (the notifier's) and passes a redelivery
request on through `mtp.redeliveries.v1`; it never reads the notifier's tables. An organisation sees
only deliveries to itself; anyone else's is "not found". No webhook body is shown (it names a child)."""

import uuid
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, Path, Query, Request

from services.intake.core.auth import Caller, caller
from services.intake.core.deps import Deps, not_stored
from services.intake.core.errors import NoLongerHeld, NotFound, StillPending
from services.intake.deliveries import store as delivery_store
from services.intake.docs.answers import PROBLEM_CONTENT, problem_answers
from services.intake.reads.views import DeliveryAttemptView, DeliveryPage, DeliveryView
from services.intake.store.audit import record_access
from shared import topics
from shared.contracts.deliveries import DeliveryState, RedeliveryRequested
from shared.contracts.envelope import Envelope

log = structlog.get_logger()
router = APIRouter(dependencies=[Depends(not_stored)])
SOURCE = "/mtp/intake"

WebhookId = Annotated[
    str,
    Path(pattern=r"^[A-Za-z0-9_.-]{1,128}$", description="The `webhook-id` the receiver was sent."),
]
REFUSALS: dict[int, str] = {
    401: "No or unknown API key.",
    404: "No delivery with this id to the caller's organisation.",
    409: "Still being delivered: its next attempt is due at the time in `detail`.",
    422: "A parameter is not valid; each is named.",
}


def _view(delivery: dict[str, Any], attempts: list[dict[str, Any]]) -> DeliveryView:
    return DeliveryView(
        webhook_id=delivery["webhook_id"],
        event_type=delivery["event_type"],
        queued_at=delivery["queued_at"],
        state=delivery["state"],
        next_attempt_at=delivery["next_attempt_at"],
        redelivery_requested_at=delivery["redelivery_requested_at"],
        attempts=[DeliveryAttemptView(**{k: v for k, v in a.items() if k != "webhook_id"}) for a in attempts],
    )


@router.get(
    "/v1/deliveries",
    operation_id="listDeliveries",
    tags=["deliveries"],
    summary="The webhooks sent to the caller's organisation, newest first, with every attempt",
    response_model=DeliveryPage,
    responses={
        **problem_answers(REFUSALS, 401, 422),
        404: {
            "description": "`after` names no delivery to the caller's organisation (one no longer kept).",
            "content": PROBLEM_CONTENT,
        },
    },
)
async def list_deliveries(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    state: Annotated[
        list[DeliveryState] | None, Query(description="Only deliveries in this state (repeatable).")
    ] = None,
    event_type: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z_]+(\.[a-z_]+)+$", description="Only webhooks of this type, e.g. window.warning."
        ),
    ] = None,
    after: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z0-9_.-]{1,128}$", description="`next_after` of the previous page."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> DeliveryPage:
    """Deliveries appear once their first attempt is made (within seconds of being queued) and are
    kept while the notifier keeps them: delivered ones for the retention period, others until sent."""
    deps: Deps = request.app.state.deps
    found = await delivery_store.page(
        deps.pool,
        who.org.id,
        states=list(state) if state else None,
        event_type=event_type,
        after=after,
        limit=limit,
    )
    if found is None:
        raise NotFound(
            "No delivery of yours has the id given as `after` (kept no longer?): start again without it."
        )
    await record_access(deps.pool, deps.clock.now(), who.org.id, who.key_id, "read:deliveries", None)
    items = [_view(d, found.attempts[d["webhook_id"]]) for d in found.deliveries]
    return DeliveryPage(items=items, next_after=items[-1].webhook_id if len(items) == limit else None)


@router.get(
    "/v1/deliveries/{webhook_id}",
    operation_id="getDelivery",
    tags=["deliveries"],
    summary="One webhook sent to the caller's organisation, with every attempt",
    response_model=DeliveryView,
    responses=problem_answers(REFUSALS, 401, 404, 422),
)
async def get_delivery(
    request: Request, webhook_id: WebhookId, who: Annotated[Caller, Depends(caller)]
) -> DeliveryView:
    deps: Deps = request.app.state.deps
    found = await delivery_store.one(deps.pool, who.org.id, webhook_id)
    if not found.deliveries:
        raise NotFound()
    await record_access(deps.pool, deps.clock.now(), who.org.id, who.key_id, "read:deliveries", None)
    return _view(found.deliveries[0], found.attempts[webhook_id])


@router.post(
    "/v1/deliveries/{webhook_id}/redeliver",
    operation_id="redeliverDelivery",
    tags=["deliveries"],
    summary="Send one of the caller's webhooks again, under the same webhook-id",
    status_code=202,
    response_model=DeliveryView,
    responses={
        202: {
            "description": "Asked for: the notifier sends it again as a new round of attempts (within "
            "seconds), and its attempts appear here. Asking again within five minutes, before that round's "
            "first attempt, sends nothing more."
        },
        **problem_answers(REFUSALS, 401, 404, 409, 422),
    },
)
async def redeliver(
    request: Request, webhook_id: WebhookId, who: Annotated[Caller, Depends(caller)]
) -> DeliveryView:
    """For a webhook the receiver lost, failed to handle, or never got (failed, gone, disabled or
    refused). The same `webhook-id` lets a receiver that did handle it recognise the repeat. A URL
    disabled after a 410 Gone stays disabled (the attempt is recorded as `disabled`) until operations
    re-enable it."""
    deps: Deps = request.app.state.deps
    now = deps.clock.now()
    data = RedeliveryRequested(
        webhook_id=webhook_id, org_id=who.org.id, requested_at=now, api_key_id=who.key_id
    )
    envelope = Envelope(
        id=f"redeliver-{uuid.uuid4()}", source=SOURCE, type=data.type_name, time=now, data=data
    )
    delivery, asked = await delivery_store.request_redelivery(
        deps.pool,
        who.org.id,
        webhook_id,
        api_key_id=who.key_id,
        at=now,
        request=envelope,
        topic=topics.named(deps.settings.topic_namespace, topics.REDELIVERIES),
    )
    if delivery is None:
        raise NotFound()
    if delivery.get("referral_not_held"):
        raise NoLongerHeld(
            "A referral is sent again only while your organisation holds the assignment or is still "
            "being offered it: this one was declined, expired, withdrawn or completed."
        )
    if delivery["state"] == "pending":
        raise StillPending(
            f"Its next attempt is due at {delivery['next_attempt_at'].isoformat()} (as last reported)."
        )
    log.info("redelivery_asked", org=who.org.id, webhook_id=webhook_id, published=asked)
    found = await delivery_store.one(deps.pool, who.org.id, webhook_id)
    return _view(found.deliveries[0], found.attempts[webhook_id])
