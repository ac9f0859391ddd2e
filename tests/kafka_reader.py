"""Reading what landed on a topic, polling with a deadline."""

import asyncio
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition


async def read_topic(
    bootstrap: str, topic: str, *, at_least: int = 1, timeout: float = 30.0, until: Any = None
) -> list["ConsumerRecord[Any, Any]"]:
    """Every record on a topic from the beginning, once at least `at_least` are there and `until`
    (a predicate on the records so far) holds, or the deadline passes."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=20)
    await consumer.start()
    records: list[ConsumerRecord[Any, Any]] = []
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        if not partitions:
            await consumer._client.force_metadata_update()  # fresh topic
            partitions = [
                TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
            ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout
        while (
            len(records) < at_least or (until is not None and not until(records))
        ) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for items in batch.values():
                records.extend(items)
        # Anything that arrives just after is caught by a short final poll.
        for items in (await consumer.getmany(timeout_ms=200)).values():
            records.extend(items)
        return records
    finally:
        await consumer.stop()


def headers_of(record: "ConsumerRecord[Any, Any]") -> dict[str, str]:
    return {name: value.decode() for name, value in record.headers}


async def poll(check: Any, timeout: float = 30.0, interval: float = 0.1) -> Any:
    """Call `check` (sync or async) until it returns something truthy; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(interval)
