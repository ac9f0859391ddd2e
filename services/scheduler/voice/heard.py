"""Taking in the child's voice from the topics (docs/domain.md rules 30-34): findings recorded with an
interview start the responsible authority's time to answer, and may ask for a placement review or
show a reason said again; an answer stops the reminders; a child arrested on coming back with signs of
exploitation is named a possible victim. Called in the transaction that settles the same batch, after
the fold, which it never changes (rule 36)."""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog

from services.scheduler.settle import SOURCE
from services.scheduler.store.tables import SCHEMA
from services.scheduler.voice import store
from shared import outbox, topics
from shared.contracts.common import EventData
from shared.contracts.envelope import Envelope
from shared.contracts.episodes import Returned
from shared.contracts.interviews import InterviewCompleted
from shared.contracts.tasks import TaskEvent
from shared.contracts.voice import (
    EarlierInterview,
    FindingsResponded,
    NrmDecided,
    PlacementReviewRequested,
    SaidAgainAlert,
    VictimArrestedAlert,
    findings_id_of,
    respond_by,
)
from shared.directory import Directory

log = structlog.get_logger()
ARRESTED = "arrested"


def for_the_fold(data: EventData) -> EventData | None:
    """What the fold takes in of an event: nothing of a council's answer, and an interview without what
    the child said (the fold reads the interview alone, and keeps no more than it needs); the rest as
    it is. None of it moves a window (docs/domain.md rule 36)."""
    if isinstance(data, FindingsResponded | NrmDecided):
        return None
    if isinstance(data, InterviewCompleted) and data.findings is not None:
        return data.model_copy(update={"findings": None})
    return data


def concerns_the_voice(envelope: Envelope) -> bool:
    """Whether the voice takes this event in (an answer goes nowhere else: it is no part of the fold):
    findings and answers, a return at which the child was arrested, and anything that may show signs of
    exploitation in the episode of such a return (docs/domain.md rule 34)."""
    data = envelope.data
    if isinstance(data, FindingsResponded | NrmDecided):
        return True
    if isinstance(data, Returned) and data.how_returned == ARRESTED:
        return True
    if isinstance(data, InterviewCompleted) and data.findings is not None:
        return True
    return bool(getattr(data, "exploitation_indicators", None))


async def take_in(
    conn: store.Connection,
    items: Sequence[tuple[str, Envelope]],
    directory: Directory,
    *,
    now: datetime,
    namespace: str,
) -> None:
    """Record the findings and answers among a batch's events, each under its child's key, and publish
    what new findings call for: a placement review the child asked for, a reason said again; and an
    arrested child's signs of exploitation."""
    if not items:
        return
    findings = []
    held: dict[str, tuple[str, InterviewCompleted]] = {}
    for child, envelope in items:
        data = envelope.data
        if isinstance(data, InterviewCompleted) and data.findings is not None:
            responsible = child.partition("/")[0]
            episode = await store.episode_of_interview(conn, child, data.completed_at)
            if episode is None:  # an interview before any episode the scheduler knows: name the council
                log.warning("findings_without_episode", event_id=envelope.id)
            timing = directory.timing_for(responsible)
            due = respond_by(data.completed_at, timing.findings_response_days)
            findings_id = findings_id_of(data.assignment_id)
            findings.append(
                (
                    findings_id,
                    child,
                    responsible,
                    episode["placement_authority"] if episode else responsible,
                    str(episode["episode_id"]) if episode else "",
                    data.completed_at,
                    due,
                    due - timedelta(hours=timing.findings_reminder_hours),
                    list(data.findings.reasons),
                    data.findings.placement_view,
                )
            )
            held[findings_id] = (child, data)
    fresh = await store.add_findings(conn, findings)
    for child, envelope in items:
        data = envelope.data
        if isinstance(data, FindingsResponded):
            await store.add_response(
                conn,
                envelope.event_key,
                data.findings_id,
                child,
                data.responded_at,
                corrects=data.corrects,
                child_told=data.child_told,
                actions=[action.model_dump(mode="json") for action in data.actions],
            )
    await _owe_nrm_decisions(conn, items, directory)
    signals: list[TaskEvent] = await _victims_arrested(conn, items, now)
    for row in findings:
        if row[0] not in fresh:  # seen before: its signals went then
            continue
        child, data = held[row[0]]
        where = {
            "child_ref": child.partition("/")[2],
            "responsible_authority": row[2],
            "placement_authority": row[3],
            "episode_id": row[4],
            "findings_id": row[0],
        }
        signals += _placement_review(where, data, now)
        signals += await _said_again(conn, where, child, data, directory, now)
    await store.note_changes(conn, *_counted_again(items, findings))
    topic = topics.named(namespace, topics.TASKS)
    await outbox.enqueue(conn, SCHEMA, [(topic, _child(s), _envelope(s, now)) for s in signals])
    if findings:
        log.info("findings_taken_in", count=len(findings), signals=len(signals))


def _counted_again(
    items: Sequence[tuple[str, Envelope]], findings: Sequence[tuple[Any, ...]]
) -> tuple[list[str], list[str]]:
    """What the batch changes in the figures (docs/domain.md rule 35): the findings it brought or
    answered, and the children it told of an arrest or an NRM decision."""
    touched = {row[0] for row in findings}
    children = set()
    for child, envelope in items:
        data = envelope.data
        if isinstance(data, FindingsResponded):
            touched.add(data.findings_id)
        elif isinstance(data, NrmDecided) or (isinstance(data, Returned) and data.how_returned == ARRESTED):
            children.add(child)
    return sorted(touched), sorted(children)


async def _owe_nrm_decisions(
    conn: store.Connection, items: Sequence[tuple[str, Envelope]], directory: Directory
) -> None:
    """Each episode with signs of exploitation is owed an NRM decision within the response time of its
    start; a decision, read before or after, stops the reminder (docs/domain.md rule 34)."""
    for child, envelope in items:
        data = envelope.data
        if isinstance(data, NrmDecided):
            await store.nrm_decided(
                conn, data.episode_id, child, data.responsible_authority, data.decided_at, data.decision
            )
    owed = await _shown_in_interviews(conn, items, directory)
    showing = sorted(
        {child for child, envelope in items if getattr(envelope.data, "exploitation_indicators", None)}
    )
    for row in await store.exploitation_episodes(conn, showing) if showing else []:
        days = directory.timing_for(row["responsible_authority"]).findings_response_days
        owed.append(
            (
                row["episode_id"],
                row["child_key"],
                row["responsible_authority"],
                row["placement_authority"],
                sorted(row["exploitation_indicators"]),
                row["started_at"] + timedelta(days=days),
            )
        )
    await store.owe_nrm(conn, owed)


async def _shown_in_interviews(
    conn: store.Connection, items: Sequence[tuple[str, Envelope]], directory: Directory
) -> list[tuple[Any, ...]]:
    """The episodes interviews showed signs of exploitation in (the child's latest begun by then), owed
    an NRM decision as an episode the police reported them in is (docs/domain.md rule 34)."""
    owed: list[tuple[Any, ...]] = []
    for child, envelope in items:
        data = envelope.data
        if not isinstance(data, InterviewCompleted) or not data.exploitation_indicators:
            continue
        episode = await store.episode_of_interview(conn, child, data.completed_at)
        if episode is None:
            continue
        responsible = child.partition("/")[0]
        days = directory.timing_for(responsible).findings_response_days
        owed.append(
            (
                str(episode["episode_id"]),
                child,
                responsible,
                episode["placement_authority"],
                sorted(data.exploitation_indicators),
                episode["started_at"] + timedelta(days=days),
            )
        )
    return owed


async def _victims_arrested(
    conn: store.Connection, items: Sequence[tuple[str, Envelope]], now: datetime
) -> list[TaskEvent]:
    """Returns at which a child was arrested, told once their episode shows signs of exploitation, from
    the report, a later risk change or the interview: a possible victim treated as an offender (rule 34)."""
    for child, envelope in items:
        data = envelope.data
        if isinstance(data, Returned) and data.how_returned == ARRESTED:
            await store.add_arrest(conn, envelope.event_key, child, data.returned_at)
    rows = await store.arrested_victims(conn, sorted({child for child, _ in items}), now)
    return [
        VictimArrestedAlert(
            child_ref=row["child_key"].partition("/")[2],
            responsible_authority=row["child_key"].partition("/")[0],
            placement_authority=row["placement_authority"],
            episode_id=str(row["episode_id"]),
            indicators=sorted(row["exploitation_indicators"]),
            returned_at=row["returned_at"],
            raised_at=now,
        )
        for row in rows
    ]


def _placement_review(where: dict[str, str], data: InterviewCompleted, now: datetime) -> list[TaskEvent]:
    """A child placed out of area who wants to move or go home asks for a placement review (rule 33)."""
    view = data.findings.placement_view if data.findings else None
    if where["placement_authority"] == where["responsible_authority"]:
        return []
    if view != "move" and view != "return_home_area":
        return []
    return [
        PlacementReviewRequested(**where, placement_view=view, completed_at=data.completed_at, raised_at=now)
    ]


async def _said_again(
    conn: store.Connection,
    where: dict[str, str],
    child: str,
    data: InterviewCompleted,
    directory: Directory,
    now: datetime,
) -> list[TaskEvent]:
    """Each reason this interview gives that the child has now given in `count` interviews within the
    period ending with it: one alert, naming the earlier interviews and what was done (rule 32)."""
    setting = directory.timing_for(where["responsible_authority"]).said_again
    alerts: list[TaskEvent] = []
    for reason in dict.fromkeys(data.findings.reasons if data.findings else []):
        since = data.completed_at - timedelta(days=setting.within_days)
        rows = await store.gave_reason(conn, child, reason, since, data.completed_at)
        if len(rows) < setting.count:
            continue
        earlier = [
            EarlierInterview(
                findings_id=row["findings_id"],
                completed_at=row["completed_at"],
                answered_at=row["answered_at"],
                actions=[action["code"] for action in row["actions"] or []],
            )
            for row in rows
            if row["findings_id"] != where["findings_id"]
        ]
        alert = SaidAgainAlert(
            **where,
            reason=reason,
            count=len(rows),
            within_days=setting.within_days,
            earlier=earlier,
            raised_at=now,
        )
        alerts.append(alert)
    return alerts


SIGNALS = uuid.UUID("0f6b3c1e-8d2a-4e57-b9a1-5c7e2d4f9a63")  # names each signal the same every time


def _child(signal: TaskEvent) -> str:
    return f"{signal.responsible_authority}/{signal.child_ref}"


def _envelope(signal: TaskEvent, now: datetime) -> Envelope:
    # One per findings and reason, or per episode's arrest.
    reason = getattr(signal, "reason", "") or getattr(signal, "returned_at", "")
    return Envelope(
        id=str(
            uuid.uuid5(
                SIGNALS, f"{signal.type_name}/{getattr(signal, 'findings_id', signal.episode_id)}/{reason}"
            )
        ),
        source=SOURCE,
        type=signal.type_name,
        time=now,
        data=signal,
        subject=signal.episode_id,
        key=_child(signal),
    )
