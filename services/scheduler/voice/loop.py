"""The voice loop (docs/domain.md rules 31 and 34): remind the responsible authority before its time to
answer what a child said runs out, and tell it and its senior manager when it has; remind it of an
episode with signs of exploitation that has no NRM decision in the response time. Each notice is claimed
with SKIP LOCKED and published through the outbox in the transaction that marks it, so two scheduler
instances never send one twice."""

import asyncio
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import structlog

from services.scheduler.settle import SOURCE
from services.scheduler.store import tables
from services.scheduler.store.tables import SCHEMA
from services.scheduler.voice import store
from shared import outbox, topics
from shared.clock import Clock
from shared.contracts.envelope import Envelope
from shared.contracts.voice import FindingsResponseDue, FindingsResponseOverdue, NrmDecisionDue
from shared.db import LOOP_ERRORS
from shared.waits import wait_any

log = structlog.get_logger()
NOTICES = uuid.UUID("6b1f7d3e-2f0a-4c1e-9a57-3d0c9e1b8a42")  # names each notice the same every time


class VoiceLoop:
    """Publishes reminders and overdue notices as they fall due, until stopped."""

    def __init__(
        self, pool: tables.Pool, clock: Clock, *, namespace: str, poll_seconds: float = 5.0, batch: int = 200
    ) -> None:
        self._pool = pool
        self._clock = clock
        self._topic = topics.named(namespace, topics.TASKS)
        self._poll = poll_seconds
        self._batch = batch

    async def publish_due(self) -> int:
        """Publish one batch of due notices; return how many."""
        async with self._pool.acquire() as conn, conn.transaction():
            now = self._clock.now()
            due = await store.claim_due(conn, now, self._batch)
            messages = []
            for row in due:
                notice = _notice(row, now)
                if isinstance(notice, FindingsResponseOverdue):
                    await store.mark_overdue(conn, row["findings_id"], now)
                else:
                    await store.mark_reminded(conn, row["findings_id"], now)
                messages.append((self._topic, row["child_key"], _envelope(row["child_key"], notice, now)))
            for row in await store.claim_nrm_due(conn, now, self._batch):
                reminder = NrmDecisionDue(
                    child_ref=row["child_key"].partition("/")[2],
                    responsible_authority=row["responsible_authority"],
                    placement_authority=row["placement_authority"],
                    episode_id=row["episode_id"],
                    indicators=sorted(row["indicators"]),
                    due_at=row["due_at"],
                )
                await store.mark_nrm_reminded(conn, row["episode_id"], now)
                messages.append((self._topic, row["child_key"], _envelope(row["child_key"], reminder, now)))
            await outbox.enqueue(conn, SCHEMA, messages)
        if messages:
            log.info("voice_notices_published", count=len(messages))
        return len(messages)

    async def run(self, stop: asyncio.Event) -> None:
        """Publish notices as they fall due until `stop` is set."""
        while not stop.is_set():
            try:
                if await self.publish_due() >= self._batch:
                    continue
                wait = await self._until_next()
            except LOOP_ERRORS as exc:
                log.warning("voice_loop_retrying", error=type(exc).__name__)
                wait = self._poll
            await wait_any(stop, timeout=wait)

    async def _until_next(self) -> float:
        next_due = await store.next_due(self._pool)
        if next_due is None:
            return self._poll
        return min(max((next_due - self._clock.now()).total_seconds(), 0.0), self._poll)


def _notice(row: Mapping[str, Any], now: datetime) -> FindingsResponseDue | FindingsResponseOverdue:
    """The reminder while the time runs, the overdue notice once it has run out (only that, if the
    scheduler was away for the whole of the reminder's time)."""
    fields = {
        "child_ref": row["child_key"].partition("/")[2],
        "responsible_authority": row["responsible_authority"],
        "placement_authority": row["placement_authority"],
        "episode_id": row["episode_id"],
        "findings_id": row["findings_id"],
        "completed_at": row["completed_at"],
        "respond_by": row["respond_by"],
    }
    if now >= row["respond_by"]:
        return FindingsResponseOverdue(**fields)
    return FindingsResponseDue(**fields)


def _envelope(
    child_key: str, notice: FindingsResponseDue | FindingsResponseOverdue | NrmDecisionDue, now: datetime
) -> Envelope:
    about = notice.episode_id if isinstance(notice, NrmDecisionDue) else notice.findings_id
    return Envelope(
        id=str(uuid.uuid5(NOTICES, f"{about}/{notice.type_name}")),
        source=SOURCE,
        type=notice.type_name,
        time=now,
        data=notice,
        subject=notice.episode_id,
        key=child_key,
    )
