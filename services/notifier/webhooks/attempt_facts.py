"""Every delivery attempt as a fact on `mtp.deliveries.v1`, written to the outbox with the attempt,
so intake can show each organisation its own deliveries (`GET /v1/deliveries`). Ids, times, states
and answer codes only: never the body, which names a child."""

import json

from services.notifier.webhooks import queue
from services.notifier.webhooks import store as delivery_store
from shared import outbox, topics
from shared.contracts.deliveries import REFERRALS, DeliveryAttempted
from shared.contracts.envelope import Envelope


def attempt_fact(outcome: delivery_store.Outcome, namespace: str) -> delivery_store.OutboxRow:
    """The outbox row publishing one attempt, keyed by the receiving organisation."""
    claimed = outcome.claimed
    data = DeliveryAttempted(
        webhook_id=claimed.webhook_id,
        org_id=claimed.org_id,
        event_type=claimed.event_type,
        queued_at=claimed.queued_at,
        round=claimed.round,
        attempt=claimed.attempt,
        attempted_at=outcome.at,
        status=outcome.status,
        latency_ms=round(outcome.latency_ms, 3),
        error=outcome.error,
        state=outcome.state,
        next_attempt_at=outcome.next_attempt_at if outcome.state == "pending" else None,
        assignment_id=_assignment_of(claimed),
    )
    envelope = Envelope(
        id=queue.webhook_id("attempt", claimed.webhook_id, str(claimed.round), str(claimed.attempt)),
        source=queue.SOURCE,
        type=data.type_name,
        time=outcome.at,
        data=data,
        subject=claimed.webhook_id,
    )
    return outbox.row(topics.named(namespace, topics.DELIVERIES), claimed.org_id, envelope)


def _assignment_of(claimed: delivery_store.Claimed) -> str | None:
    """The assignment a referral webhook is about, read from its body (only referrals are read)."""
    if claimed.event_type not in REFERRALS:
        return None
    assignment_id = json.loads(claimed.body).get("data", {}).get("assignment_id")
    return assignment_id if isinstance(assignment_id, str) else None
