"""Queueing webhooks: the CloudEvent body, who receives it, and a webhook id stable across retries."""

import json
import uuid
from datetime import datetime

import asyncpg
import structlog

from services.notifier import store
from services.notifier.writes import Writes
from shared.contracts.common import EventData
from shared.contracts.envelope import Envelope
from shared.contracts.tasks import EpisodeChanged, TaskEvent, WindowBreached
from shared.directory import Directory, Organisation

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


def council_recipients(directory: Directory, event: TaskEvent) -> list[Organisation]:
    """The responsible authority, and the host authority too when the child is placed out of area. A
    change to an episode goes to the responsible authority only when another organisation made it
    (DOMAIN rule 25), and to the host authority, which learns so of a placement in its area."""
    responsible = directory.authority(event.responsible_authority)
    found = [responsible] if responsible is not None else []
    if isinstance(event, EpisodeChanged) and responsible is not None and event.by == responsible.id:
        found = []
    if event.placement_authority != event.responsible_authority:
        host = directory.authority(event.placement_authority)
        found += [host] if host is not None else []
    return found


def escalations(directory: Directory, event: TaskEvent) -> list[Organisation]:
    """Councils whose senior manager is told as well: the responsible authority's, of a breach."""
    if not isinstance(event, WindowBreached):
        return []
    council = directory.authority(event.responsible_authority)
    return [council] if council is not None and council.escalation_url is not None else []


async def send(
    conn: asyncpg.Connection,
    *,
    org: Organisation,
    cause: str,
    data: EventData,
    now: datetime,
    subject: str | None = None,
    writes: Writes | None = None,
    url: str | None = None,
) -> str | None:
    """Queue one webhook to an organisation, at its usual URL or at `url`; return its webhook id
    (None if it has no URL).

    With `writes`, the row joins the batch's pending rows instead of being written now."""
    url = url or org.delivery_url
    if url is None:
        log.warning("recipient_without_url", org=org.id, event_type=data.type_name)
        return None
    message_id = webhook_id(cause, org.id)
    content = body(message_id, data, now, subject)
    if writes is not None:
        writes.deliveries.append((message_id, org.id, url, data.type_name, content, now))
        return message_id
    await store.add_delivery(
        conn, webhook_id=message_id, org_id=org.id, url=url, event_type=data.type_name, body=content, now=now
    )
    return message_id
