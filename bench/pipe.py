"""The raw pipe: aiokafka produce -> consume on the same broker, same message size, no database."""

import asyncio
import time
import uuid

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from rich.progress import Progress

from bench.measures import summary_ms
from shared.kafka import create_topics
from shared.settings import CommonSettings

MESSAGE_BYTES = 300
# The services' consumer setting, so the raw hop waits on the broker exactly as they do.
FETCH_MAX_WAIT_MS: int = CommonSettings.model_fields["kafka_fetch_max_wait_ms"].default
# Topics are split as the system's own are.
PARTITIONS: int = CommonSettings.model_fields["topic_partitions"].default


async def _consumer(bootstrap: str, topic: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=f"bench-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest", fetch_max_wait_ms=FETCH_MAX_WAIT_MS, enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    return consumer


async def throughput(bootstrap: str, count: int, progress: Progress) -> dict[str, float]:
    """Produce `count` messages batched, then consume them all; messages per second each way."""
    topic = f"bench.pipe.{uuid.uuid4().hex[:8]}"
    await create_topics(bootstrap, [topic], PARTITIONS)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=256 * 1024)
    await producer.start()
    task = progress.add_task("raw pipe: produce + consume", total=count * 2)
    payload = b"x" * MESSAGE_BYTES
    started = time.perf_counter()
    futures = []
    for i in range(count):
        futures.append(await producer.send(topic, payload, key=str(i % 500).encode()))
        if i % 1000 == 999:
            progress.advance(task, 1000)
    await asyncio.gather(*futures)
    produced_s = time.perf_counter() - started
    await producer.stop()
    consumer = await _consumer(bootstrap, topic)
    received, started = 0, time.perf_counter()
    deadline = started + 120
    while received < count and time.perf_counter() < deadline:
        for records in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
            received += len(records)
            progress.advance(task, len(records))
    consumed_s = time.perf_counter() - started
    await consumer.stop()
    return {
        "produce_msgs_per_s": round(count / produced_s),
        "consume_msgs_per_s": round(received / consumed_s),
    }


async def latency(bootstrap: str, rate: float, seconds: float, progress: Progress) -> dict[str, float]:
    """One hop at a fixed rate: the time from send to receipt, per message."""
    topic = f"bench.hop.{uuid.uuid4().hex[:8]}"
    await create_topics(bootstrap, [topic], PARTITIONS)
    consumer = await _consumer(bootstrap, topic)
    while not consumer.assignment():  # the group has its partitions before the clock starts
        await consumer.getmany(timeout_ms=100)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    await producer.start()
    sent: dict[bytes, float] = {}
    samples: list[float] = []
    total = int(rate * seconds)
    task = progress.add_task(f"raw pipe: one hop at {rate:.0f}/s", total=total)

    async def receive() -> None:
        deadline = time.perf_counter() + seconds + 30
        while len(samples) < total and time.perf_counter() < deadline:
            for records in (await consumer.getmany(timeout_ms=100)).values():
                now = time.perf_counter()
                for record in records:
                    samples.append(now - sent[record.key])
                    progress.advance(task)

    receiver = asyncio.create_task(receive())
    started = time.perf_counter()
    for i in range(total):
        await asyncio.sleep(max(started + i / rate - time.perf_counter(), 0))
        key = str(i).encode()
        sent[key] = time.perf_counter()
        await producer.send(topic, b"x" * MESSAGE_BYTES, key=key)
    await receiver
    await producer.stop()
    await consumer.stop()
    return {"rate": rate, "messages": len(samples), **summary_ms(samples)}
