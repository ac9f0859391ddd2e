"""The notifier's work on a batch of messages, in one transaction: route interview requests, take in
the scheduler's later word on tasks, apply providers' reports, tell councils what concerns them, and
send again what an organisation asks for again.

Each message is applied once (the inbox); each type has one function, below. Webhooks the batch
queues are written already leased to this instance and go to its delivery worker once committed.
"""

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from services.notifier.assignments import assigning, provider_reports, task_updates
from services.notifier.domain import recipients
from services.notifier.store import tables
from services.notifier.store.writes import Writes
from services.notifier.webhooks import queue
from services.notifier.webhooks import store as delivery_store
from services.notifier.webhooks.handoff import Handoff
from shared.contracts.deliveries import RedeliveryRequested
from shared.contracts.envelope import Envelope
from shared.contracts.interviews import InterviewEvent
from shared.contracts.tasks import InterviewClosed, InterviewRequested, InterviewUpdated, TaskEvent
from shared.directory import Directory

log = structlog.get_logger()
# Messages whose handling may choose a provider: their batch takes the routing lock first.
ROUTING = (InterviewRequested, InterviewUpdated, InterviewClosed, InterviewEvent)


@dataclass
class Batch:
    """What one batch's handlers share: its transaction, its pending rows, what it knows."""

    conn: tables.Connection
    writes: Writes
    directory: Directory
    now: datetime
    new_tasks: dict[str, Any]  # task id -> referral packet, for tasks this batch recorded


async def apply(
    pool: tables.Pool,
    envelopes: Sequence[Envelope],
    *,
    directory: Directory,
    handoff: Handoff,
    namespace: str,
    now: datetime,
) -> None:
    """Apply a batch of messages in one transaction; hand its webhooks to the worker at commit."""
    async with pool.acquire() as conn, conn.transaction():
        # Routing may happen below: take its lock before any row lock, as the acceptance timer does.
        # Batches of council notifications alone route nothing and need not wait for it.
        if any(isinstance(e.data, ROUTING) for e in envelopes):
            await tables.lock_routing(conn)
        applying = await tables.INBOX.first_seen(conn, envelopes, now)
        requests = [e.data for e in applying if isinstance(e.data, InterviewRequested)]
        batch = Batch(
            conn=conn,
            writes=Writes(namespace=namespace, lease_until=handoff.lease_until(now)),
            directory=directory,
            now=now,
            new_tasks=await assigning.record_tasks(conn, requests, directory=directory, now=now),
        )
        for envelope in applying:
            await _handler(envelope)(batch, envelope)
        await batch.writes.flush(conn)
    handoff.put(batch.writes.born)


Handler = Callable[[Batch, Envelope], Awaitable[None]]


async def _route(batch: Batch, envelope: Envelope) -> None:
    """A new task: offer it to the first eligible provider (a task seen before is not routed again)."""
    data = envelope.data
    assert isinstance(data, InterviewRequested)
    packet = batch.new_tasks.pop(assigning.task_key(data.task_id), None)
    if packet is not None:
        await assigning.offer_next(
            batch.conn,
            batch.writes,
            data.task_id,
            data.episode_id,
            packet,
            directory=batch.directory,
            now=batch.now,
            new_task=True,
        )


async def _revise(batch: Batch, envelope: Envelope) -> None:
    assert isinstance(envelope.data, InterviewUpdated)
    await batch.writes.flush(batch.conn)  # it reads the task's assignments: write what is pending first
    await task_updates.revise(
        batch.conn,
        batch.writes,
        envelope.data,
        cause=envelope.event_key,
        directory=batch.directory,
        now=batch.now,
    )


async def _close(batch: Batch, envelope: Envelope) -> None:
    assert isinstance(envelope.data, InterviewClosed)
    await batch.writes.flush(batch.conn)
    await task_updates.close(
        batch.conn, batch.writes, envelope.data, directory=batch.directory, now=batch.now
    )


async def _report(batch: Batch, envelope: Envelope) -> None:
    assert isinstance(envelope.data, InterviewEvent)
    await batch.writes.flush(batch.conn)  # a report reads assignments: write what is pending first
    await provider_reports.apply_report(
        batch.conn, batch.writes, envelope, envelope.data, directory=batch.directory, now=batch.now
    )


async def _tell_councils(batch: Batch, envelope: Envelope) -> None:
    """Episodes, warnings, breaches and alerts: to the councils concerned (and a breach to the senior
    manager too)."""
    data = envelope.data
    assert isinstance(data, TaskEvent)
    for council in recipients.council_recipients(batch.directory, data):
        queue.enqueue(
            batch.writes,
            org=council,
            cause=envelope.event_key,
            data=data,
            now=batch.now,
            subject=data.episode_id,
        )
    for council in recipients.escalations(batch.directory, data):
        queue.enqueue(
            batch.writes,
            org=council,
            cause=f"escalated:{envelope.event_key}",
            data=data,
            now=batch.now,
            subject=data.episode_id,
            url=council.escalation_url,
        )
    log.info("council_notified", event_type=envelope.type, event_id=envelope.id, episode_id=data.episode_id)


async def _redeliver(batch: Batch, envelope: Envelope) -> None:
    """An organisation asked for one of its webhooks again: a new round, same webhook-id."""
    data = envelope.data
    assert isinstance(data, RedeliveryRequested)
    done = await delivery_store.redeliver(batch.conn, data.webhook_id, data.org_id, batch.now)
    log.info("redelivery_requested", webhook_id=data.webhook_id, org=data.org_id, queued=done)


# Each type of message to the function that applies it (the most specific first).
HANDLERS: list[tuple[type, Handler]] = [
    (InterviewRequested, _route),
    (InterviewUpdated, _revise),
    (InterviewClosed, _close),
    (InterviewEvent, _report),
    (TaskEvent, _tell_councils),
    (RedeliveryRequested, _redeliver),
]


def _handler(envelope: Envelope) -> Handler:
    return next(handler for kind, handler in HANDLERS if isinstance(envelope.data, kind))
