"""Has everything published been handled? Consumer-group lag and outbox backlogs, for ordered stops."""

import asyncio
import time

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared import topics
from shared.kafka import client_options, high_watermarks
from shared.settings import CommonSettings

# Which group consumes which topic, and which schemas have an outbox.
CONSUMERS = {
    "mtp-scheduler": (topics.EPISODES, topics.INTERVIEWS, topics.ASSIGNMENTS),
    "mtp-notifier": (topics.TASKS, topics.INTERVIEWS, topics.REDELIVERIES),
}
# Intake's read model (stopped first, with intake): what reached its topics while the others drained
# is lost with a memory-only broker unless published again at the next start.
READ_MODEL = ("mtp-intake-read-model", (topics.TASKS, topics.ASSIGNMENTS, topics.FIGURES, topics.DELIVERIES))
OUTBOXES = ("intake", "scheduler", "notifier")


async def consumer_lag(settings: CommonSettings, group: str, topic_names: tuple[str, ...]) -> int:
    """Messages published to the topics that the group has not yet committed."""
    consumer = AIOKafkaConsumer(
        **client_options(settings),
        group_id=f"{settings.topic_namespace}{group}",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(name, p)
            for topic in topic_names
            for name in [topics.named(settings.topic_namespace, topic)]
            for p in (consumer.partitions_for_topic(name) or await _partitions(consumer, name))
        ]
        if not partitions:
            return 0
        committed = {tp: await consumer.committed(tp) or 0 for tp in partitions}
        consumer.assign(partitions)
        for tp, offset in committed.items():
            consumer.seek(tp, offset)
        ends = await high_watermarks(consumer, partitions)
        return sum(max(ends[tp] - committed[tp], 0) for tp in partitions)
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer._client.force_metadata_update()  # aiokafka exposes no public refresh
    return consumer.partitions_for_topic(topic) or set()


async def outbox_backlog(settings: CommonSettings) -> int:
    """Rows waiting in every outbox."""
    conn = await asyncpg.connect(settings.database_url)
    try:
        total = 0
        for schema in OUTBOXES:
            exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{schema}.outbox")
            if exists:
                total += await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE sent_at IS NULL")
        return int(total)
    finally:
        await conn.close()


async def wait_until_drained(settings: CommonSettings, timeout: float) -> bool:
    """Poll until no outbox has a backlog and no consumer group lags (twice in a row), or time runs out."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        busy = await outbox_backlog(settings)
        for group, topic_names in CONSUMERS.items():
            busy += await consumer_lag(settings, group, topic_names)
        quiet = quiet + 1 if busy == 0 else 0
        if quiet >= 2:
            return True
        await asyncio.sleep(0.5)
    return False


async def nothing_left(settings: CommonSettings) -> bool:
    """After every service has stopped: no outbox holds a row and every consumer group, intake's read
    model included, has applied everything on its topics. Only then does a memory-only broker take
    nothing with it when it stops."""
    if await outbox_backlog(settings):
        return False
    for group, topic_names in (*CONSUMERS.items(), READ_MODEL):
        if await consumer_lag(settings, group, topic_names):
            return False
    return True
