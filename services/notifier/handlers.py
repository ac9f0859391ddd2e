"""The notifier's subscriber: scheduler tasks, provider reports and organisations' redelivery requests,
applied per batch (service.py)."""

from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from services.notifier import service
from services.notifier.webhooks.handoff import Handoff
from shared import topics
from shared.clock import Clock
from shared.consumer import subscribe
from shared.contracts.envelope import Envelope
from shared.live_directory import LiveDirectory
from shared.runtime import Runtime

GROUP = "mtp-notifier"


def register(
    broker: KafkaBroker, runtime: Runtime, clock: Clock, directory: LiveDirectory, handoff: Handoff
) -> None:
    """Subscribe to the scheduler's tasks, the providers' interview reports and the redelivery requests
    (one group, one join)."""

    async def apply(envelopes: Sequence[Envelope]) -> None:
        """Route interview requests, apply provider reports, send councils what concerns them."""
        await service.apply(
            runtime.pool,
            envelopes,
            directory=directory.current,
            handoff=handoff,
            namespace=runtime.settings.topic_namespace,
            now=clock.now(),
        )

    subscribe(
        broker,
        runtime.settings,
        topics_in=(topics.TASKS, topics.INTERVIEWS, topics.REDELIVERIES),
        group=GROUP,
        handler=apply,
    )
