"""Webhook deliveries as organisations see them through the API (topics `mtp.deliveries.v1` and
`mtp.redeliveries.v1`, both keyed by the receiving organisation's id).

The notifier publishes every attempt it makes; intake keeps the latest of each delivery and its
attempts, so an organisation can list its own (`GET /v1/deliveries`). When an organisation asks for a
delivery again (`POST /v1/deliveries/{webhook_id}/redeliver`), intake publishes the request and the
notifier sends the same webhook, under the same `webhook-id`, as a new round of attempts. Neither
carries a webhook's body (bodies name children): ids, types, times, states and answer codes only.
"""

from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.common import EventData, Timestamp

DeliveryState = Literal["pending", "delivered", "failed", "gone", "disabled", "refused"]

STATES: dict[str, str] = {
    "pending": "not delivered yet: another attempt is due at `next_attempt_at`",
    "delivered": "the receiver answered 2xx",
    "failed": "every attempt of the round was answered with an error or nothing; no more are made",
    "gone": "the receiver answered 410 Gone: nothing more goes to that URL until it is re-enabled",
    "disabled": "not sent: the URL answered 410 Gone earlier and has not been re-enabled",
    "refused": "not sent: the URL is not allowed (not https, or a private address) or no secret is known",
}
# Webhooks that carry a child's referral packet: asked for again only while the assignment is held.
REFERRALS: tuple[str, ...] = ("assignment.offered", "assignment.updated")
# States a delivery can be asked for again in: every one but `pending` (its attempts go on anyway).
REDELIVERABLE: tuple[str, ...] = tuple(state for state in STATES if state != "pending")


class DeliveryAttempted(EventData):
    """One attempt to deliver a webhook, and the state it left the delivery in."""

    type_name: ClassVar[str] = "delivery.attempted"

    webhook_id: str = Field(description="The `webhook-id` header the receiver saw; the delivery's id.")
    org_id: str = Field(description="Directory id of the receiving organisation.")
    event_type: str = Field(description="The webhook's `type`, e.g. assignment.offered.")
    queued_at: Timestamp = Field(description="When the webhook was queued.")
    round: int = Field(ge=0, description="0 for the first round of attempts, one more for each redelivery.")
    attempt: int = Field(ge=1, description="The attempt's number within its round.")
    attempted_at: Timestamp
    status: int | None = Field(description="The receiver's HTTP status; null when there was none.")
    latency_ms: float = Field(ge=0)
    error: str | None = Field(
        description="Why there was no answer, as a code (timeout, ClientConnectorError, not_https, ...)."
    )
    state: DeliveryState = Field(description="The delivery's state after this attempt.")
    next_attempt_at: Timestamp | None = Field(description="When the next attempt is due, while pending.")
    assignment_id: str | None = Field(
        None,
        description="The assignment a referral webhook (assignment.offered, assignment.updated) is about: "
        "it is sent again only while its provider holds the assignment or is still being offered it.",
    )


class RedeliveryRequested(EventData):
    """An organisation asked for one of its webhooks again."""

    type_name: ClassVar[str] = "delivery.redelivery_requested"

    webhook_id: str
    org_id: str = Field(description="The organisation that asked (the delivery's receiver).")
    requested_at: Timestamp
    api_key_id: str = Field(description="The key the request was made with (as in the audit trail).")


DELIVERY_EVENTS: tuple[type[EventData], ...] = (DeliveryAttempted,)
REDELIVERY_EVENTS: tuple[type[EventData], ...] = (RedeliveryRequested,)
