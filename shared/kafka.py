"""Broker, producer and admin factories configured from the common settings."""

import asyncio
import contextlib
import logging

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from faststream.kafka import KafkaBroker

from shared.settings import CommonSettings

log = structlog.get_logger()


def make_broker(settings: CommonSettings, service: str) -> KafkaBroker:
    """Return a FastStream Kafka broker for a service's subscribers (not yet connected)."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        client_id=f"mtp-{service}",
        enable_idempotence=settings.kafka_enable_idempotence,
        # FastStream logs each message at INFO (silenced by configure_logging) and handler errors
        # that escape our own handling at ERROR, which an operator must see.
        logger=logging.getLogger("mtp.faststream"),
    )


def make_producer(settings: CommonSettings, service: str) -> AIOKafkaProducer:
    """Return a batching producer for outbox relays; acks from all in-sync replicas."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        client_id=f"mtp-{service}-relay",
        acks="all",
        linger_ms=settings.kafka_linger_ms,
        enable_idempotence=settings.kafka_enable_idempotence,
        max_batch_size=256 * 1024,
        request_timeout_ms=15_000,
    )


async def create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    """Create topics that do not exist yet (idempotent); retry while the broker is starting."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="mtp-admin")
    for attempt in range(30):
        try:
            await admin.start()
            break
        except KafkaError:
            if attempt == 29:
                raise
            await asyncio.sleep(0.5)
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(name=name, num_partitions=partitions, replication_factor=1)
            for name in names
            if name not in existing
        ]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):  # another process created them first
                await admin.create_topics(wanted)
            log.info("topics_created", topics=[topic.name for topic in wanted])
    finally:
        await admin.close()


async def high_watermarks(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition], timeout: float = 5.0
) -> dict[TopicPartition, int]:
    """The end of each assigned partition, as the broker reports it in fetch responses.

    Tansu answers ListOffsets (`end_offsets`) with a count of record batches rather than the next
    offset, so the high-water mark of a fetch is the only end both it and Kafka report correctly.
    The consumer must have the partitions assigned; its positions move as records are fetched.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        marks = {tp: consumer.highwater(tp) for tp in partitions}
        if all(mark is not None for mark in marks.values()):
            return {tp: mark for tp, mark in marks.items() if mark is not None}
        fetched = await consumer.getmany(*partitions, timeout_ms=100, max_records=1)
        for tp, records in fetched.items():  # only looking: put the position back
            if records:
                consumer.seek(tp, records[0].offset)
    raise TimeoutError("the broker did not report the partitions' ends")
