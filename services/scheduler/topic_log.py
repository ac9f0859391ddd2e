"""Reading topics from their first offset to their end as it was when reading began.

A plain consumer with no group: it commits nothing and leaves no trace on the broker, so a report can
replay the log as often as it likes beside the running services.
"""

import time
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.contracts.envelope import Envelope, UnreadableEvent, from_kafka

log = structlog.get_logger()


async def read_all(bootstrap: str, topic_names: list[str], timeout: float = 120.0) -> list[Envelope]:
    """Every readable CloudEvent on the topics, up to each partition's end when reading began."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=50)
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()  # aiokafka exposes no public refresh
        partitions = [
            TopicPartition(name, p) for name in topic_names for p in consumer.partitions_for_topic(name) or ()
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        waiting = {tp for tp in partitions if ends[tp] > 0}
        envelopes: list[Envelope] = []
        deadline = time.monotonic() + timeout
        while waiting:
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics not read to their end within {timeout:.0f} s")
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            for tp, records in batch.items():
                for record in records:
                    envelope = _readable(record) if record.offset < ends[tp] else None
                    if envelope is not None:
                        envelopes.append(envelope)
                if records and records[-1].offset >= ends[tp] - 1:
                    waiting.discard(tp)
        return envelopes
    finally:
        await consumer.stop()


def _readable(record: "ConsumerRecord[Any, Any]") -> Envelope | None:
    try:
        return from_kafka(record.headers, record.value, record.key)
    except UnreadableEvent as exc:
        # The consumers dead-letter these; a report skips them and says how many.
        log.warning("replay_unreadable", topic=record.topic, offset=record.offset, reason=str(exc)[:80])
        return None
