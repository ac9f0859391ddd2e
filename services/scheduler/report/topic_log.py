"""Reading topics from their first offset until caught up with what has been published.

A plain consumer with no group: it commits nothing and leaves no trace on the broker, so a report can
replay the log as often as it likes beside the running services.
"""

import time
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.contracts.envelope import Envelope, UnreadableEvent, from_kafka

log = structlog.get_logger()
QUIET_POLLS = 5


async def read_all(client: dict[str, Any], topic_names: list[str], timeout: float = 120.0) -> list[Envelope]:
    """Every readable CloudEvent on the topics, from the first offset until caught up. `client`: how
    to reach the brokers (shared.kafka.client_options)."""
    consumer = AIOKafkaConsumer(**client, enable_auto_commit=False, fetch_max_wait_ms=50)
    try:
        await consumer.start()  # inside: a consumer that failed to start must still be stopped
        await consumer._client.force_metadata_update()  # aiokafka exposes no public refresh
        partitions = [
            TopicPartition(name, p) for name in topic_names for p in consumer.partitions_for_topic(name) or ()
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        envelopes: list[Envelope] = []
        deadline = time.monotonic() + timeout
        quiet = 0
        # Caught up when every partition's position reaches the high watermark its fetches report
        # (Tansu's ListOffsets answers too low, so end_offsets cannot be trusted there), or when
        # polls keep coming back empty.
        while not await _caught_up(consumer, partitions) and quiet < QUIET_POLLS:
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics not read to their end within {timeout:.0f} s")
            batch = await consumer.getmany(timeout_ms=200, max_records=5000)
            quiet = 0 if batch else quiet + 1
            for records in batch.values():
                for record in records:
                    envelope = _readable(record)
                    if envelope is not None:
                        envelopes.append(envelope)
        return envelopes
    finally:
        await consumer.stop()


async def _caught_up(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> bool:
    for tp in partitions:
        highwater = consumer.highwater(tp)
        if highwater is None or await consumer.position(tp) < highwater:
            return False
    return True


def _readable(record: "ConsumerRecord[Any, Any]") -> Envelope | None:
    try:
        return from_kafka(record.headers, record.value, record.key)
    except UnreadableEvent as exc:
        # The consumers dead-letter these; a report skips them and says how many.
        log.warning("replay_unreadable", topic=record.topic, offset=record.offset, reason=str(exc)[:80])
        return None
