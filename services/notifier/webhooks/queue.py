"""Queueing webhooks: the CloudEvent body and a webhook id stable across retries, added to the batch's
pending rows (written with the state change that decided them)."""

import json
import uuid
from datetime import datetime

import structlog

from services.notifier.store.writes import Writes
from shared.contracts.common import EventData
from shared.contracts.envelope import Envelope
from shared.contracts.webhooks import sent_to
from shared.directory import Organisation

log = structlog.get_logger()
SOURCE = "/mtp/notifier"
_NAMESPACE = uuid.UUID("0f6b6a9e-3b7d-4a53-8d0c-56a1f3f0c2de")


def webhook_id(*parts: str) -> str:
    """A Standard Webhooks message id derived from what caused it: the same on every retry."""
    return f"msg_{uuid.uuid5(_NAMESPACE, '|'.join(parts)).hex}"


def body(event_id: str, data: EventData, now: datetime, subject: str | None = None) -> bytes:
    """The webhook body: a CloudEvent in structured JSON mode."""
    envelope = Envelope(id=event_id, source=SOURCE, type=data.type_name, time=now, data=data, subject=subject)
    return json.dumps(envelope.structured(), separators=(",", ":")).encode()


def enqueue(
    writes: Writes,
    *,
    org: Organisation,
    cause: str,
    data: EventData,
    now: datetime,
    subject: str | None = None,
    url: str | None = None,
) -> str | None:
    """Queue one webhook to an organisation, at its usual URL or at `url`, with the transaction's
    other rows; return its webhook id (None if it has no URL)."""
    if not sent_to(org.kind, data):  # the webhooks' contract (shared/contracts/webhooks.py) lists it first
        raise TypeError(f"{data.type_name} is not a webhook a {org.kind} receives")
    url = url or org.delivery_url
    if url is None:
        log.warning("recipient_without_url", org=org.id, event_type=data.type_name)
        return None
    message_id = webhook_id(cause, org.id)
    writes.deliveries.append(
        (message_id, org.id, url, data.type_name, body(message_id, data, now, subject), now)
    )
    return message_id
