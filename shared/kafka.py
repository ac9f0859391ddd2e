"""Broker, producer and admin factories configured from the common settings, and the connection
security every Kafka client of the system uses (TLS, SASL)."""

import asyncio
import contextlib
import logging
from typing import Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from shared.settings import CommonSettings

log = structlog.get_logger()


def security(settings: CommonSettings) -> BaseSecurity | None:
    """How to connect to the brokers, as FastStream takes it: TLS with the configured CA (and client
    certificate), SASL sign-in, both, or neither."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    tls = protocol in ("SSL", "SASL_SSL")
    context = (
        create_ssl_context(
            cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None,
            certfile=str(settings.kafka_ssl_certfile) if settings.kafka_ssl_certfile else None,
            keyfile=str(settings.kafka_ssl_keyfile) if settings.kafka_ssl_keyfile else None,
        )
        if tls
        else None
    )
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    if settings.kafka_sasl_username is None or settings.kafka_sasl_password is None:
        raise ValueError("SASL needs MTP_KAFKA_SASL_USERNAME and MTP_KAFKA_SASL_PASSWORD")
    sign_in = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
    return sign_in[settings.kafka_sasl_mechanism](
        settings.kafka_sasl_username,
        settings.kafka_sasl_password.get_secret_value(),
        ssl_context=context,
        use_ssl=tls,
    )


def client_options(settings: CommonSettings) -> dict[str, Any]:
    """The same for an aiokafka client: keyword arguments for every producer, consumer and admin."""
    return {"bootstrap_servers": settings.kafka_bootstrap, **parse_security(security(settings))}


def make_broker(settings: CommonSettings, service: str) -> KafkaBroker:
    """Return a FastStream Kafka broker for a service's subscribers (not yet connected)."""
    return KafkaBroker(
        settings.kafka_bootstrap,
        security=security(settings),
        client_id=f"mtp-{service}",
        enable_idempotence=settings.kafka_enable_idempotence,
        # FastStream logs each message at INFO (silenced by configure_logging) and handler errors
        # that escape our own handling at ERROR, which an operator must see.
        logger=logging.getLogger("mtp.faststream"),
    )


def make_producer(settings: CommonSettings, service: str) -> AIOKafkaProducer:
    """Return a batching producer for outbox relays; acks from all in-sync replicas."""
    return AIOKafkaProducer(
        **client_options(settings),
        client_id=f"mtp-{service}-relay",
        acks="all",
        linger_ms=settings.kafka_linger_ms,
        enable_idempotence=settings.kafka_enable_idempotence,
        max_batch_size=256 * 1024,
        request_timeout_ms=15_000,
    )


def topic_options(settings: CommonSettings) -> dict[str, Any]:
    """How `create_topics` makes the system's topics, from the settings: keyword arguments for it."""
    configs = {}
    if settings.topic_min_insync_replicas is not None:
        configs["min.insync.replicas"] = str(settings.topic_min_insync_replicas)
    if settings.topic_retention_hours is not None:
        configs["retention.ms"] = str(int(settings.topic_retention_hours * 3_600_000))
    return {"replication_factor": settings.topic_replication_factor, "configs": configs}


async def create_topics(
    bootstrap: str,
    names: list[str],
    partitions: int,
    *,
    replication_factor: int = 1,
    configs: dict[str, str] | None = None,
    client: dict[str, Any] | None = None,
    wait_seconds: float = 15.0,
) -> None:
    """Create topics that do not exist yet (idempotent); retry for up to `wait_seconds` while the broker
    is starting. `client` holds the connection's security (client_options), `configs` topic settings
    such as retention.ms."""
    admin = AIOKafkaAdminClient(**{"bootstrap_servers": bootstrap, **(client or {})}, client_id="mtp-admin")
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while True:
        try:
            await admin.start()
            break
        except KafkaError:
            if asyncio.get_running_loop().time() >= deadline:
                raise
            await asyncio.sleep(0.5)
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(
                name=name,
                num_partitions=partitions,
                replication_factor=replication_factor,
                topic_configs=configs or {},
            )
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
