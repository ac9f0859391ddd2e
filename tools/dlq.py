"""Dead-letter topics: what is in them, and putting their messages back once the cause is fixed.

A replay republishes each dead letter to the topic it came from, with its original key and headers
(the `mtp_dlq_*` ones removed). Consumers ignore events they have already applied, so replaying
twice is harmless; a consumer group remembers how far each dead-letter topic was replayed.
"""

import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared import topics
from shared.kafka import high_watermarks

REPLAY_GROUP = "mtp-dlq-replay"


@dataclass(frozen=True)
class DeadLetters:
    """How many messages a dead-letter topic holds, by reason."""

    topic: str
    total: int
    reasons: dict[str, int]


async def _read_all(consumer: AIOKafkaConsumer, topic: str, from_committed: bool) -> list[Any]:
    partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    if not partitions:
        await consumer._client.force_metadata_update()  # aiokafka has no public refresh
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    if not partitions:
        return []
    consumer.assign(partitions)
    for tp in partitions:
        committed = await consumer.committed(tp) if from_committed else None
        if committed is None:
            await consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, committed)
    records: list[Any] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for batch in (await consumer.getmany(*partitions, timeout_ms=200)).values():
            records.extend(batch)
        ends = await high_watermarks(consumer, partitions)
        if not await _behind(consumer, partitions, ends):
            break
    return records


async def _behind(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], ends: dict[TopicPartition, int]
) -> bool:
    positions = [await consumer.position(tp) for tp in partitions]
    return any(position < ends[tp] for position, tp in zip(positions, partitions, strict=True))


async def inspect(client: dict[str, Any], namespace: str = "") -> list[DeadLetters]:
    """Count the messages in every dead-letter topic, by reason (never their content). `client`: how to
    reach the brokers (shared.kafka.client_options)."""
    found = []
    consumer = AIOKafkaConsumer(**client, enable_auto_commit=False)
    try:
        await consumer.start()
        for topic in topics.ALL:
            name = topics.dlq(topics.named(namespace, topic))
            records = await _read_all(consumer, name, from_committed=False)
            reasons = Counter(
                dict(record.headers).get("mtp_dlq_reason", b"?").decode(errors="replace").split(":")[0]
                for record in records
            )
            found.append(DeadLetters(name, len(records), dict(reasons)))
    finally:
        await consumer.stop()
    return found


async def replay(client: dict[str, Any], topic: str, namespace: str = "") -> int:
    """Republish a topic's dead letters not yet replayed to the topic; return how many."""
    source = topics.dlq(topics.named(namespace, topic))
    consumer = AIOKafkaConsumer(**client, group_id=f"{namespace}{REPLAY_GROUP}", enable_auto_commit=False)
    producer = AIOKafkaProducer(**client, acks="all")
    try:
        await consumer.start()
        await producer.start()
        records = await _read_all(consumer, source, from_committed=True)
        for record in records:
            headers = [(name, value) for name, value in record.headers if not name.startswith("mtp_dlq_")]
            original = dict(record.headers).get("mtp_dlq_topic", b"").decode() or topics.named(
                namespace, topic
            )
            await producer.send(original, record.value, key=record.key, headers=headers)
        await producer.flush()
        if records:
            await consumer.commit()  # everything read has been republished
        return len(records)
    finally:
        await producer.stop()
        await consumer.stop()
