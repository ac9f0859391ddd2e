"""The notifier's subscriber: scheduler tasks and provider reports, applied per batch in one transaction."""

from collections.abc import Sequence

import structlog
from faststream.kafka import KafkaBroker

from services.notifier import assigning, outgoing, reports, store, task_updates
from services.notifier.handoff import Handoff
from services.notifier.writes import Writes
from shared import topics
from shared.clock import Clock
from shared.consumer import subscribe
from shared.contracts.envelope import Envelope
from shared.contracts.interviews import InterviewEvent
from shared.contracts.tasks import InterviewClosed, InterviewRequested, InterviewUpdated, TaskEvent
from shared.directory import Directory
from shared.runtime import Runtime

log = structlog.get_logger()
GROUP = "mtp-notifier"
# Messages whose handling may choose a provider: their batch takes the routing lock first.
ROUTING = (InterviewRequested, InterviewUpdated, InterviewClosed, InterviewEvent)


def register(
    broker: KafkaBroker, runtime: Runtime, clock: Clock, directory: Directory, handoff: Handoff
) -> None:
    """Subscribe to the scheduler's tasks and the providers' interview reports (one group, one join).
    Webhooks a batch queues go to this instance's delivery worker (`handoff`) once it commits."""
    namespace = runtime.settings.topic_namespace

    async def apply(envelopes: Sequence[Envelope]) -> None:
        """Route interview requests, apply provider reports, send councils what concerns them."""
        now = clock.now()
        async with runtime.pool.acquire() as conn, conn.transaction():
            # Routing may happen below: take its lock before any row lock, as the acceptance timer does.
            # Batches of council notifications alone route nothing and need not wait for it.
            if any(isinstance(e.data, ROUTING) for e in envelopes):
                await conn.execute(store.LOCK_ROUTING)
            fresh = await store.first_times(conn, [f"{e.source}|{e.id}" for e in envelopes], now)
            applying = []
            for envelope in envelopes:
                key = f"{envelope.source}|{envelope.id}"
                if key in fresh:
                    fresh.discard(key)  # a message redelivered within the batch is applied once
                    applying.append(envelope)
            new_tasks = await assigning.record_tasks(
                conn,
                [e.data for e in applying if isinstance(e.data, InterviewRequested)],
                directory=directory,
                now=now,
            )
            writes = Writes(lease_until=handoff.lease_until(now))
            for envelope in applying:
                data = envelope.data
                if isinstance(data, InterviewRequested):
                    packet = new_tasks.pop(assigning.task_key(data.task_id), None)
                    if packet is not None:
                        await assigning.offer_next(
                            conn,
                            data.task_id,
                            data.episode_id,
                            packet,
                            directory=directory,
                            now=now,
                            namespace=namespace,
                            new_task=True,
                            writes=writes,
                        )
                elif isinstance(data, InterviewUpdated | InterviewClosed):
                    await writes.flush(conn)  # reads the task's assignments: write what is pending first
                    if isinstance(data, InterviewUpdated):
                        await task_updates.revise(
                            conn,
                            data,
                            cause=f"{envelope.source}|{envelope.id}",
                            directory=directory,
                            now=now,
                            namespace=namespace,
                        )
                    else:
                        await task_updates.close(
                            conn, data, directory=directory, now=now, namespace=namespace
                        )
                elif isinstance(data, InterviewEvent):
                    await writes.flush(conn)  # a report reads assignments: write what is pending first
                    await reports.apply_report(
                        conn, envelope, data, directory=directory, now=now, namespace=namespace
                    )
                elif isinstance(data, TaskEvent):
                    cause = f"{envelope.source}|{envelope.id}"
                    for council in outgoing.council_recipients(directory, data):
                        await outgoing.send(
                            conn,
                            org=council,
                            cause=cause,
                            data=data,
                            now=now,
                            subject=data.episode_id,
                            writes=writes,
                        )
                    for council in outgoing.escalations(directory, data):
                        await outgoing.send(
                            conn,
                            org=council,
                            cause=f"escalated:{cause}",
                            data=data,
                            now=now,
                            subject=data.episode_id,
                            writes=writes,
                            url=council.escalation_url,
                        )
                    log.info(
                        "council_notified",
                        event_type=envelope.type,
                        event_id=envelope.id,
                        episode_id=data.episode_id,
                    )
            await writes.flush(conn)
        handoff.put(writes.born)

    subscribe(
        broker,
        runtime.settings,
        topics_in=(topics.TASKS, topics.INTERVIEWS),
        group=GROUP,
        handler=apply,
    )
