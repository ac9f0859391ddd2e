"""The scheduler's subscribers: episodes, interview reports and assignment facts, applied per batch."""

from collections.abc import Sequence

import structlog
from faststream.kafka import KafkaBroker

from services.scheduler.domain.history import Entry
from services.scheduler.settle import settle_children
from services.scheduler.store import tables
from services.scheduler.voice import heard
from shared import topics
from shared.clock import Clock
from shared.consumer import HandlerRetry, subscribe
from shared.contracts.common import ChildEvent
from shared.contracts.envelope import Envelope
from shared.live_directory import LiveDirectory
from shared.runtime import Runtime

log = structlog.get_logger()
GROUP = "mtp-scheduler"


def register(broker: KafkaBroker, runtime: Runtime, clock: Clock, directory: LiveDirectory) -> None:
    """Subscribe to every topic that changes a child's timeline."""

    async def apply(envelopes: Sequence[Envelope]) -> None:
        """Add a batch of events to the children's histories and settle them, in one transaction."""
        entries = []
        voice = []  # what the child said and the council's answers (voice/heard.py)
        for envelope in envelopes:
            data = envelope.data
            child = data.child_key if isinstance(data, ChildEvent) else envelope.key
            if not child:
                log.error("event_without_child", event_id=envelope.id, event_type=envelope.type)
                continue
            if heard.concerns_the_voice(envelope):
                voice.append((child, envelope))
            folded = heard.for_the_fold(data)
            if folded is None:
                continue  # no part of the fold: it moves no window (docs/domain.md rule 36)
            entries.append(
                (child, Entry(envelope.event_key, envelope.type, envelope.time, folded, envelope.childseq))
            )
        try:
            async with runtime.pool.acquire() as conn, conn.transaction():
                published = await settle_children(
                    conn,
                    [],
                    now=clock.now(),
                    directory=directory.current,
                    namespace=runtime.settings.topic_namespace,
                    new_entries=entries,
                )
                await heard.take_in(
                    conn,
                    voice,
                    directory.current,
                    now=clock.now(),
                    namespace=runtime.settings.topic_namespace,
                )
        except tables.RETRYABLE as exc:
            # Locks are taken in one order, so this should not happen; if it does, the whole batch
            # is retried rather than set aside event by event.
            raise HandlerRetry from exc
        log.info("events_applied", count=len(envelopes), published=len(published))

    subscribe(
        broker,
        runtime.settings,
        topics_in=(topics.EPISODES, topics.INTERVIEWS, topics.ASSIGNMENTS),
        group=GROUP,
        handler=apply,
    )
