"""Batch consumers with an explicit acknowledgement policy and a dead-letter topic.

A batch is decoded; records that are not readable CloudEvents of the topic go to `<topic>.dlq`
with the reason in the `mtp_dlq_reason` header; the rest go to the handler, which applies them in
one database transaction. Offsets are committed only after the handler returned, in the background
once per interval (shared.offsets). If the handler fails for a reason that may pass
(database restarting), the batch is rewound and retried after a back-off, so nothing is lost;
anything else is a bug and is dead-lettered record by record.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
import structlog
from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.message import KafkaMessage

from shared import metrics, offsets, topics
from shared.contracts.envelope import Envelope, UnreadableEvent, from_kafka
from shared.contracts.registry import TOPIC_TYPES
from shared.db import CONNECTION_ERRORS
from shared.settings import CommonSettings

log = structlog.get_logger()

BatchHandler = Callable[[Sequence[Envelope]], Awaitable[None]]
# Failures that pass by themselves: the database restarting or unreachable, a connection cut,
# a transaction chosen as a deadlock or serialization victim. The batch is retried, never dead-lettered.
TRANSIENT = (*CONNECTION_ERRORS, asyncpg.exceptions.TransactionRollbackError)


class HandlerRetry(Exception):  # it names an instruction, not a failure
    """Raised by a handler to have its batch redelivered after a back-off."""


def subscribe(
    broker: KafkaBroker,
    settings: CommonSettings,
    *,
    topics_in: tuple[str, ...],
    group: str,
    handler: BatchHandler,
    max_records: int = 500,
) -> None:
    """Register one batch subscriber on contract topics for a consumer group (one consumer, one group join)."""
    allowed = {
        topics.named(settings.topic_namespace, topic): {model.type_name for model in TOPIC_TYPES[topic]}
        for topic in topics_in
    }
    failures = 0
    committer = offsets.OffsetCommitter(group, settings.kafka_commit_interval_seconds)
    offsets.register(broker, committer)

    @broker.subscriber(
        *allowed,
        group_id=f"{settings.topic_namespace}{group}",
        batch=True,
        max_records=max_records,
        batch_timeout_ms=settings.kafka_fetch_max_wait_ms,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=max(settings.kafka_session_timeout_ms // 5, 300),
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
        decoder=_the_message,
        listener=committer,
    )
    async def consume(decoded: Any) -> None:
        message: KafkaMessage = decoded
        generation = committer.generation
        nonlocal failures
        raw = message.raw_message
        records: tuple[ConsumerRecord[Any, Any], ...] = raw if isinstance(raw, tuple) else (raw,)
        readable: list[tuple[ConsumerRecord[Any, Any], Envelope]] = []
        for record in records:
            try:
                envelope = from_kafka(record.headers, record.value, record.key)
                if envelope.type not in allowed[record.topic]:
                    raise UnreadableEvent(f"type_not_on_topic:{envelope.type}")
            except UnreadableEvent as exc:
                await _dead_letter(broker, record, str(exc))
                continue
            except Exception as exc:  # anything else a malformed record provokes: never block the partition
                await _dead_letter(broker, record, f"unreadable:{type(exc).__name__}")
                continue
            readable.append((record, envelope))
        started = time.perf_counter()
        try:
            try:
                if readable:
                    await handler([envelope for _, envelope in readable])
            except (HandlerRetry, *TRANSIENT):
                raise
            except Exception as exc:
                # Some record the handler cannot apply: apply them one by one and set aside only those.
                log.error("batch_failed", group=group, records=len(records), error=type(exc).__name__)
                await _one_by_one(broker, handler, readable)
        except (HandlerRetry, *TRANSIENT) as exc:
            failures += 1
            delay = min(0.2 * 2**failures, 10.0)
            log.warning(
                "batch_retry", group=group, records=len(records), error=type(exc).__name__, delay_s=delay
            )
            await asyncio.sleep(delay)  # a short back-off, well inside the poll interval
            await message.nack()
            return
        failures = 0
        await committer.applied(message.consumer, records, generation)
        elapsed = time.perf_counter() - started
        metrics.BATCH_SECONDS.labels(group=group).observe(elapsed)
        for record in records:
            metrics.MESSAGES_HANDLED.labels(group=group, topic=record.topic).inc()
        log.info(
            "messages_handled",
            group=group,
            count=len(records),
            event_ids=[envelope.id for _, envelope in readable],
            duration_ms=round(elapsed * 1000, 2),
        )


async def _the_message(message: Any) -> Any:
    """Hand the handler the message itself, bodies undecoded. FastStream would otherwise parse JSON
    first, and a body that fails there never reaches our handler, so it could not be dead-lettered
    with its reason; and a message asked for as a dependency is looked up in a worker thread, a
    thread handoff for every batch."""
    return message


async def _one_by_one(
    broker: KafkaBroker,
    handler: BatchHandler,
    readable: Sequence[tuple["ConsumerRecord[Any, Any]", Envelope]],
) -> None:
    for record, envelope in readable:
        try:
            await handler([envelope])
        except (HandlerRetry, *TRANSIENT):
            raise  # not this record's fault: the whole batch is retried
        except Exception as exc:
            await _dead_letter(broker, record, f"handler_error:{type(exc).__name__}")


async def _dead_letter(broker: KafkaBroker, record: "ConsumerRecord[Any, Any]", reason: str) -> None:
    headers = {name: value.decode(errors="replace") for name, value in record.headers}
    headers.update(
        mtp_dlq_reason=reason,
        mtp_dlq_topic=record.topic,
        mtp_dlq_partition=str(record.partition),
        mtp_dlq_offset=str(record.offset),
    )
    await broker.publish(record.value or b"", topic=topics.dlq(record.topic), key=record.key, headers=headers)
    metrics.DEAD_LETTERS.labels(topic=record.topic, reason=reason.split(":")[0]).inc()
    log.error(
        "message_dead_lettered",
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        reason=reason,
        event_id=headers.get("ce_id"),
    )
