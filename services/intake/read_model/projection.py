"""The read model: tasks, assignment facts, figures and webhook delivery attempts from the topics,
applied per batch in one transaction.

Intake never reads another service's tables; what it shows a child's readers, and which assignments
a provider holds, it learns here. Each event is applied once (its `<source>|<id>` is kept in
`intake.applied` in the same transaction), so a redelivered batch changes nothing. A batch costs one
statement per kind of row, not one per event: rows of a kind are written in the order their events
came, and the kinds in an order where a warning or breach finds its task already written. An
authority's figures replace the same period's older figures (by their `as_of`), and a delivery's later
attempt its earlier ones (by round and attempt), so they skip the inbox.
"""

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import structlog

from services.intake.deliveries import store as delivery_store
from services.intake.read_model import store
from services.intake.read_model.store import reader_of_authority, reader_of_provider
from services.intake.store.base import Pool
from shared.contracts.assignments import (
    INTERVIEW_COMPLETED,
    AssignmentAccepted,
    AssignmentAssigned,
    AssignmentClosed,
    AssignmentDeclined,
    AssignmentExhausted,
    AssignmentExpired,
    AssignmentFact,
)
from shared.contracts.deliveries import DeliveryAttempted
from shared.contracts.envelope import Envelope
from shared.contracts.figures import FiguresPublished
from shared.contracts.tasks import (
    EpisodeChanged,
    EpisodeOpened,
    InterviewClosed,
    InterviewRequested,
    InterviewUpdated,
    TaskEvent,
    WindowBreached,
    WindowWarning,
)

log = structlog.get_logger()

STATUS_OF: dict[type[AssignmentFact], str] = {
    AssignmentAssigned: "offered",
    AssignmentAccepted: "accepted",
    AssignmentDeclined: "declined",
    AssignmentExpired: "expired",
    AssignmentClosed: "withdrawn",
}


def _status(fact: AssignmentFact) -> str:
    """The assignment's status a fact leaves: a closing after the interview is `completed`."""
    if isinstance(fact, AssignmentClosed) and fact.reason == INTERVIEW_COMPLETED:
        return "completed"
    return STATUS_OF[type(fact)]


# Fields of an alert that are codes, numbers or times: what the read model keeps of it.
_ALERT_SKIP = {"child_ref", "responsible_authority", "placement_authority", "episode_id"}


# The kinds of rows, in the order a batch writes them.
WRITE_ORDER = (
    store.UPSERT_ASSIGNMENT,
    store.INSERT_EPISODE,
    store.REVISE_EPISODE,
    store.UPSERT_TASK,
    store.REVISE_TASK,
    store.CLOSE_TASK,
    store.ADD_WARNING,
    store.SET_BREACHED,
    store.INSERT_ALERT,
)


async def apply(pool: Pool, envelopes: Sequence[Envelope], now: datetime) -> int:
    """Apply a batch of topic events to the read model; return how many were new."""
    rows: dict[str, list[tuple[Any, ...]]] = {statement: [] for statement in WRITE_ORDER}
    applied = 0
    figures = [e.data for e in envelopes if isinstance(e.data, FiguresPublished)]
    attempts = [e.data for e in envelopes if isinstance(e.data, DeliveryAttempted)]
    others = [e for e in envelopes if not isinstance(e.data, (FiguresPublished, DeliveryAttempted))]
    async with pool.acquire() as conn, conn.transaction():
        if figures:
            await conn.executemany(store.UPSERT_FIGURES, [_figures_row(f) for f in figures])
        await delivery_store.apply_attempts(conn, attempts)
        readers: set[str] = set()
        task_ids: set[str] = set()
        for envelope in await store.INBOX.first_seen(conn, others, now):
            for statement, args in _rows_of(envelope.event_key, envelope):
                rows[statement].append(args)
            readers |= _readers(envelope.data)
            if task_id := getattr(envelope.data, "task_id", None):
                task_ids.add(task_id)
            applied += 1
        await store.write_read_model(conn, [(statement, rows[statement]) for statement in WRITE_ORDER])
        await store.bump_readers(conn, readers, task_ids)
    log.info("read_model_applied", count=len(envelopes), applied=applied)
    return applied


def _readers(data: object) -> set[str]:
    """Whose pages an event changes: the child's council, the council it is placed with, the provider
    an assignment is with."""
    readers = set()
    if child := getattr(data, "child_key", None):
        readers.add(reader_of_authority(child.split("/", 1)[0]))
    if placement := getattr(data, "placement_authority", None):
        readers.add(reader_of_authority(placement))
    if isinstance(data, AssignmentFact):
        readers.add(reader_of_provider(data.provider_id))
    return readers


def _figures_row(figures: FiguresPublished) -> tuple[Any, ...]:
    counts = figures.model_dump(
        mode="json", exclude={"authority", "period", "kind", "first_day", "last_day", "as_of"}
    )
    return (
        figures.authority,
        figures.period,
        figures.kind,
        figures.first_day,
        figures.last_day,
        figures.as_of,
        counts,
    )


def _rows_of(key: str, envelope: Envelope) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """The read-model rows one event writes, as (statement, arguments)."""
    data = envelope.data
    if isinstance(data, AssignmentFact):
        yield (
            store.UPSERT_ASSIGNMENT,
            (
                data.assignment_id,
                data.provider_id,
                data.child_key,
                data.task_id,
                _status(data),
                data.at,
                data.accept_by if isinstance(data, AssignmentAssigned) else None,
                data.at if isinstance(data, AssignmentAssigned) else None,
                data.reason if isinstance(data, AssignmentDeclined) else None,
            ),
        )
    elif isinstance(data, AssignmentExhausted):
        # which providers could not take it, and why (provider ids and reason codes: no child data)
        details = {"task_id": data.task_id, "raised_at": data.at.isoformat(), "excluded": data.excluded}
        yield (
            store.INSERT_ALERT,
            (key, data.child_key, data.episode_id, envelope.type, data.at, details),
        )
    elif isinstance(data, EpisodeChanged):
        yield (
            store.REVISE_EPISODE,
            (
                data.episode_id,
                data.placement_authority,
                data.kind,
                data.started_at,
                data.risk_level,
                data.ended_at,
                data.end_reason,
                list(data.exploitation_indicators),
                data.preferred_language,
            ),
        )
    elif isinstance(data, InterviewUpdated):
        yield (
            store.REVISE_TASK,
            (
                data.task_id,
                data.episode_id,
                data.placement_authority,
                data.returned_at,
                data.offer_due_at,
                data.risk_level,
                list(data.exploitation_indicators),
                data.preferred_language,
                list(data.episode_ids),
            ),
        )
    elif isinstance(data, InterviewClosed):
        yield store.CLOSE_TASK, (data.task_id, data.reason)
    elif isinstance(data, EpisodeOpened):
        yield (
            store.INSERT_EPISODE,
            (
                data.episode_id,
                data.child_key,
                data.placement_authority,
                data.kind,
                data.started_at,
                data.risk_level,
            ),
        )
    elif isinstance(data, InterviewRequested | WindowWarning | WindowBreached):
        requested = data if isinstance(data, InterviewRequested) else None
        yield (
            store.UPSERT_TASK,
            (
                data.task_id,
                data.child_key,
                data.episode_id,
                data.placement_authority,
                data.returned_at,
                data.offer_due_at,
                requested.risk_level if requested else None,
                list(requested.exploitation_indicators) if requested else [],
                requested.preferred_language if requested else None,
            ),
        )
        if isinstance(data, WindowWarning):
            yield store.ADD_WARNING, (data.task_id, data.stage)
        elif isinstance(data, WindowBreached):
            yield store.SET_BREACHED, (data.task_id, data.breached_at)
    elif isinstance(data, TaskEvent):  # the alerts
        details = data.model_dump(mode="json", exclude=_ALERT_SKIP)
        raised = getattr(data, "raised_at", envelope.time)
        yield (
            store.INSERT_ALERT,
            (key, data.child_key, data.episode_id, envelope.type, raised, details),
        )
