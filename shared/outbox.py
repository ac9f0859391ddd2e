"""Transactional outbox: events are rows written with the state change, published later by one relay.

Each service schema has an `outbox` table (created by `OUTBOX_MIGRATION`). Exactly one relay per
schema publishes at a time (a PostgreSQL advisory lock elects it), in `seq` order, so one child's
events reach Kafka in the order they were committed. Publishing is at-least-once: a crash between
the broker's acknowledgement and marking rows sent republishes them, and consumers ignore repeats.
"""

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from shared import metrics
from shared.contracts.envelope import Envelope
from shared.db import LOOP_ERRORS
from shared.waits import wait_any

log = structlog.get_logger()

# How long published rows may wait to be marked sent by the relay's next look (one statement for
# both) before they are marked on their own. A crash in between republishes them: consumers skip
# repeats, as they do after any crash between the broker's acknowledgement and the mark.
MARK_DELAY = 0.05

OUTBOX_MIGRATION = """
CREATE TABLE {schema}.outbox (
    seq        bigserial PRIMARY KEY,
    topic      text NOT NULL,
    key        text NOT NULL,
    value      bytea NOT NULL,
    headers    jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);
CREATE INDEX outbox_unsent ON {schema}.outbox (seq) WHERE sent_at IS NULL;
"""


# A statement-level trigger wakes the relay at commit: no extra round trip per enqueue, and
# PostgreSQL folds the notifications of one transaction into one.
OUTBOX_WAKE_MIGRATION = """
CREATE FUNCTION {schema}.outbox_wake() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('{schema}_outbox', '');
    RETURN NULL;
END $$;
CREATE TRIGGER outbox_wake AFTER INSERT ON {schema}.outbox FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_wake();
"""


def outbox_migrations(schema: str) -> dict[int, tuple[str, str]]:
    """The shared outbox's migrations for a service schema (numbers 0 and 900+ are reserved for them)."""
    return {
        0: ("000_outbox", OUTBOX_MIGRATION.format(schema=schema)),
        900: ("900_outbox_wake", OUTBOX_WAKE_MIGRATION.format(schema=schema)),
    }


def channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel that wakes a schema's relay."""
    return f"{schema}_outbox"


def row(topic: str, key: str, envelope: Envelope) -> tuple[str, str, bytes, str]:
    """An outbox row (topic, key, value, headers as JSON text); services that write their outbox rows
    within a larger statement of their own build them with this too."""
    headers = {name: value.decode() for name, value in envelope.kafka_headers()}
    return topic, key, envelope.kafka_value(), json.dumps(headers)


async def enqueue(conn: asyncpg.Connection, schema: str, items: Sequence[tuple[str, str, Envelope]]) -> None:
    """Write (topic, key, envelope) rows to the outbox in the caller's transaction (a trigger wakes the relay)."""
    if not items:
        return
    await conn.executemany(
        f"INSERT INTO {schema}.outbox (topic, key, value, headers) VALUES ($1, $2, $3, $4::text::jsonb)",
        [row(topic, key, envelope) for topic, key, envelope in items],
    )


async def pending(conn: asyncpg.Connection, schema: str) -> int:
    """How many outbox rows wait to be published."""
    count: int = await conn.fetchval(f"SELECT count(*) FROM {schema}.outbox WHERE sent_at IS NULL")
    return count


def acknowledged_in_order(rows: Sequence[asyncpg.Record], outcomes: Sequence[object]) -> list[int]:
    """The seqs of rows the broker acknowledged, each key's only up to its first failure."""
    failed: set[tuple[str, str]] = set()
    acknowledged: list[int] = []
    for row, outcome in zip(rows, outcomes, strict=True):
        key = (row["topic"], row["key"])
        if isinstance(outcome, BaseException):
            failed.add(key)
        elif key not in failed:
            acknowledged.append(row["seq"])
    return acknowledged


class OutboxRelay:
    """Publishes a schema's outbox to Kafka; one active relay per schema across all instances."""

    def __init__(
        self,
        *,
        dsn: str,
        schema: str,
        producer_factory: Any,
        batch_size: int = 1000,
        idle_poll_seconds: float = 1.0,
    ) -> None:
        self._dsn = dsn
        self._schema = schema
        self._producer_factory = producer_factory
        self._batch_size = batch_size
        self._idle = idle_poll_seconds
        self._wake = asyncio.Event()
        self.published = 0
        self.broker_ok = False
        self.leading = False  # this instance holds the relay lock (a follower has no producer to judge by)
        # The next rows to publish; the rows published last are marked sent in the same statement
        # (its snapshot still shows them unsent, hence their exclusion).
        self._next = f"""
            WITH sent AS (UPDATE {schema}.outbox SET sent_at = now() WHERE seq = ANY($2::bigint[]))
            SELECT seq, topic, key, value, headers FROM {schema}.outbox
            WHERE sent_at IS NULL AND seq <> ALL($2::bigint[]) ORDER BY seq LIMIT $1
        """
        self._mark = f"UPDATE {schema}.outbox SET sent_at = now() WHERE seq = ANY($1::bigint[])"

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set, then flush what is left (bounded) and return."""
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((KafkaError, *LOOP_ERRORS)),
            wait=wait_exponential_jitter(initial=0.2, max=5),
            before_sleep=self._on_failure,
        )
        async for attempt in retrying:
            with attempt:
                await self._lead(stop)

    def _on_failure(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, KafkaError | OSError):
            self.broker_ok = False
        log.warning(
            "outbox_relay_retrying",
            schema=self._schema,
            attempt=state.attempt_number,
            error=type(error).__name__,
        )

    async def _lead(self, stop: asyncio.Event) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self._dsn)
        producer: AIOKafkaProducer | None = None
        try:
            lock_key = f"outbox:{self._schema}"
            while not await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock_key):
                if await wait_any(stop, timeout=self._idle):
                    return
            self.leading = True
            await conn.add_listener(channel(self._schema), lambda *_: self._wake.set())
            producer = self._producer_factory()
            await producer.start()
            self.broker_ok = True
            log.info("outbox_relay_leading", schema=self._schema)
            unmarked: list[int] = []  # published and acknowledged, not yet marked sent
            while True:
                # Cleared before looking, so a commit notified while we publish is not missed.
                self._wake.clear()
                rows = await conn.fetch(self._next, self._batch_size, unmarked)
                unmarked = await self._publish(conn, producer, rows)
                if len(rows) == self._batch_size or self._wake.is_set():
                    continue  # more is waiting: these are marked sent by the next look, in one statement
                if unmarked and not stop.is_set() and await wait_any(stop, self._wake, timeout=MARK_DELAY):
                    continue  # under load the next commit comes within moments: its look marks these
                if unmarked:
                    await conn.execute(self._mark, unmarked)
                    unmarked = []
                if stop.is_set():
                    if not rows:
                        return
                    continue
                await wait_any(stop, self._wake, timeout=self._idle)
        finally:
            self.leading = False
            if producer is not None:
                await producer.stop()
            await conn.close()

    async def _publish(
        self, conn: asyncpg.Connection, producer: AIOKafkaProducer, rows: list[asyncpg.Record]
    ) -> list[int]:
        """Publish rows in order and wait for the broker's acknowledgement; return their seqs."""
        backlog = len(rows) if len(rows) < self._batch_size else await pending(conn, self._schema)
        metrics.OUTBOX_BACKLOG.labels(schema=self._schema).set(backlog)
        if not rows:
            return []
        futures = []
        for row in rows:
            headers = row["headers"]
            if isinstance(headers, str):
                headers = json.loads(headers)
            futures.append(
                await producer.send(
                    row["topic"],
                    value=row["value"],
                    key=row["key"].encode(),
                    headers=[(name, str(value).encode()) for name, value in headers.items()],
                )
            )
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        if failures:
            # Some partitions took their records and others did not: what was acknowledged, up to a
            # key's first failure, is marked sent now, so the retry publishes only the rest (a key's
            # order kept) rather than everything again.
            await conn.execute(self._mark, acknowledged_in_order(rows, outcomes))
            raise failures[0]
        self.published += len(rows)
        metrics.OUTBOX_PUBLISHED.labels(schema=self._schema).inc(len(rows))
        metrics.OUTBOX_BACKLOG.labels(schema=self._schema).set(backlog - len(rows))
        log.debug("outbox_published", schema=self._schema, count=len(rows))
        return [row["seq"] for row in rows]
