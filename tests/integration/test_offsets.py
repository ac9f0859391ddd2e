"""Offsets a consumer has applied reach the broker: within the interval, at once on stop, and never
across a rebalance (a broker that came back without its log must not learn old positions)."""

from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from shared import topics
from shared.offsets import OffsetCommitter
from tests.conftest import Place
from tests.kafka_reader import poll


async def test_applied_offsets_are_committed_within_the_interval_on_close_and_never_across_a_rebalance(
    place: Place,
) -> None:
    topic = topics.named(place.namespace, topics.EPISODES)
    group = f"{place.namespace}offsets-test"
    consumer = AIOKafkaConsumer(
        bootstrap_servers=place.bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    consumer.subscribe([topic])
    producer = AIOKafkaProducer(bootstrap_servers=place.bootstrap)
    await consumer.start()
    await producer.start()
    try:
        records: list[Any] = []

        async def send_and_read(count: int) -> list[Any]:
            for n in range(count):
                await producer.send_and_wait(topic, value=b"{}", key=f"child-{n}".encode())
            wanted = len(records) + count

            async def all_read() -> bool:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(batch)
                return len(records) >= wanted

            await poll(all_read, timeout=60)
            return records[wanted - count :]

        async def committed_up_to(read: list[Any]) -> bool:
            ends: dict[TopicPartition, int] = {}
            for record in read:
                partition = TopicPartition(record.topic, record.partition)
                ends[partition] = max(ends.get(partition, 0), record.offset + 1)
            return all([await consumer.committed(tp) == offset for tp, offset in ends.items()])

        periodic = OffsetCommitter(group, interval=0.2)
        for _ in range(3):  # batches applied back to back, none waiting for a commit
            await periodic.applied(consumer, await send_and_read(4), periodic.generation)
        await poll(lambda: committed_up_to(records), timeout=10)

        # An interval longer than the test: only closing commits, before it returns.
        closing = OffsetCommitter(group, interval=3600)
        await closing.applied(consumer, await send_and_read(4), closing.generation)
        await closing.close()
        assert await committed_up_to(records), "everything applied is committed when close returns"
        committed = list(records)

        # Read, then partitions revoked before the batch is applied: its offsets stay uncommitted.
        moving = OffsetCommitter(group, interval=3600)
        generation = moving.generation
        late = await send_and_read(4)
        await moving.on_partitions_revoked(set())
        await moving.applied(consumer, late, generation)
        await moving.close()
        assert await committed_up_to(committed)
        assert not await committed_up_to(late)
    finally:
        await producer.stop()
        await consumer.stop()
