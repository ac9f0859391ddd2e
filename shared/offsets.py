"""Committing what a consumer has applied: in the background, at most once per interval.

A committed offset only says where a restarted or reassigned consumer starts reading again; that
nothing is applied twice is the inbox's work (each service records the events it applied in the
same transaction). So a batch does not wait for its commit: the consumer goes straight on to the
next batch, and the offsets it has applied are committed together once per interval, always after
the transactions that applied them, instead of one broker round trip per batch. A crash re-reads
at most an interval's worth of events, which the inbox skips. When the service stops
(`commit_now`), what is pending is committed before the consumers close.

Offsets are only ever committed within the group generation they were read in: when partitions
are revoked (a rebalance, or the broker coming back after an outage), pending offsets are dropped
and a commit still waiting for the broker is abandoned. A broker that lost its log while away
(the embedded one keeps it in memory) must never be told positions in the log it lost: the
consumer would skip that many new events.
"""

import asyncio
import contextlib
import weakref
from collections.abc import Sequence
from typing import Any

import structlog
from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from shared import metrics

log = structlog.get_logger()

# A commit normally takes milliseconds; one that waits longer waits for a broker that is away.
COMMIT_TIMEOUT_SECONDS = 5.0

# The committers of each broker's subscribers, for the service's stop.
_COMMITTERS: "weakref.WeakKeyDictionary[Any, list[OffsetCommitter]]" = weakref.WeakKeyDictionary()


def register(broker: Any, committer: "OffsetCommitter") -> None:
    """Remember a subscriber's committer, so that stopping the broker's service commits its offsets."""
    _COMMITTERS.setdefault(broker, []).append(committer)


async def commit_now(broker: Any) -> None:
    """Before a broker stops: commit what its consumers have applied, and from now on each batch's
    offsets before the consumer takes the next (the consumers finish the batch they hold)."""
    for committer in _COMMITTERS.get(broker, []):
        await committer.close()


class OffsetCommitter(ConsumerRebalanceListener):  # type: ignore[misc]
    """Commits a consumer's applied offsets every `interval` seconds, within their generation."""

    def __init__(self, group: str, interval: float) -> None:
        self._group = group
        self._interval = interval
        self._consumer: Any = None
        self._pending: dict[TopicPartition, int] = {}
        self._applied: dict[TopicPartition, int] = {}  # next offset to apply, for the lag metric
        self._generation = 0  # counts revocations: offsets read before one are never committed
        self._task: asyncio.Task[None] | None = None
        self._commit: asyncio.Future[None] | None = None
        self._stopping = asyncio.Event()  # the service is stopping: commit each batch at once

    @property
    def generation(self) -> int:
        """Taken when a batch is read and handed back with it to `applied`."""
        return self._generation

    async def applied(
        self, consumer: Any, records: Sequence["ConsumerRecord[Any, Any]"], generation: int
    ) -> None:
        """The batch's transaction committed: its records' offsets may be committed."""
        if generation != self._generation:
            return  # read before partitions moved: their new owner reads them again from the last commit
        self._consumer = consumer
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            self._pending[partition] = max(self._pending.get(partition, 0), record.offset + 1)
            self._applied[partition] = self._pending[partition]
        if self._stopping.is_set():
            await self._flush()
        elif self._task is None or self._task.done():
            self._task = asyncio.create_task(self._every_interval(), name=f"{self._group}-offsets")

    async def close(self) -> None:
        """Commit what is pending, and each later batch's offsets at once (the consumer is stopping)."""
        self._stopping.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        await self._flush()

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self._generation += 1
        self._pending = {}
        for partition in revoked:
            self._applied.pop(partition, None)
        if self._commit is not None:
            self._commit.cancel()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        return None

    async def _every_interval(self) -> None:
        while self._pending:
            with contextlib.suppress(TimeoutError):  # the interval passed, or the service is stopping
                await asyncio.wait_for(self._stopping.wait(), timeout=self._interval)
            await self._flush()

    async def _flush(self) -> None:
        if not self._pending:
            return
        assigned = self._consumer.assignment()
        offsets = {tp: offset for tp, offset in self._pending.items() if tp in assigned}
        self._pending = {}
        if offsets:
            self._commit = asyncio.ensure_future(self._consumer.commit(offsets))
            try:
                await asyncio.wait_for(asyncio.shield(self._commit), timeout=COMMIT_TIMEOUT_SECONDS)
            except asyncio.CancelledError:
                if not self._commit.cancelled():  # this task itself is being cancelled
                    self._commit.cancel()
                    raise
                log.warning("offset_commit_dropped", group=self._group, reason="partitions_revoked")
            except (KafkaError, TimeoutError) as exc:
                # Not retried: the events are read again from the last commit and skipped as repeats.
                self._commit.cancel()
                log.warning("offset_commit_dropped", group=self._group, reason=type(exc).__name__)
            finally:
                self._commit = None
        self._record_lag()

    def _record_lag(self) -> None:
        """Lag per topic: the broker's high-water mark (as the consumer last saw it) minus what has
        been applied, over the partitions this consumer holds."""
        lag: dict[str, int] = {}
        for partition in self._consumer.assignment():
            highwater = self._consumer.highwater(partition)
            applied = self._applied.get(partition)
            if highwater is None or applied is None:
                continue
            lag[partition.topic] = lag.get(partition.topic, 0) + max(highwater - applied, 0)
        for topic, value in lag.items():
            metrics.CONSUMER_LAG.labels(group=self._group, topic=topic).set(value)
