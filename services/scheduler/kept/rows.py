"""The kept state's rows, and their JSON form (what PostgreSQL keeps, and what a fresh fold reads back).

Each row holds one part of what `child.fold` keeps between steps: an episode as the last step left it,
with what the task book knew of it (the task covering it, the task whose interview preceded it, the
tasks opened for it); a task with every revision of what its provider was told; and, per child, how far
its history has been folded and the few things that wait (raised notices not yet due, provider reports
and notices about tasks or episodes not known yet).
"""

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from services.scheduler.domain.child import Packet
from services.scheduler.domain.episodes import Episode
from services.scheduler.domain.history import Entry, KnownKey
from services.scheduler.domain.notices import Raised
from services.scheduler.domain.tasks import Task
from shared.contracts.assignments import AssignmentFact
from shared.contracts.common import ExploitationIndicator
from shared.contracts.episodes import Cancelled, InterviewNotOffered, MissingReported, Returned, RiskChanged
from shared.contracts.interviews import InterviewEvent

Json = dict[str, Any]


@dataclass
class ChildRow:
    """How far a child's history is folded, and what waits."""

    steps: int = 0  # events learnt and folded: the last step's place in the order learnt
    seq: int = 0  # the highest of intake's numbers folded (every lower one was folded before it)
    legacy: int = 0  # unnumbered events folded (all in the first step)
    places: int = 0  # tasks opened so far (a task's place in the order they were opened)
    waiting: list[str] = field(default_factory=list)  # provider reports on a task not known yet
    orphans: list[str] = field(default_factory=list)  # notices about an episode or task not known yet
    fresh: list[str] = field(default_factory=list)  # returned episodes no task covers yet
    pending: list[Raised] = field(default_factory=list)  # noted, not yet due (stamped a moment ahead)


@dataclass
class EpisodeRow:
    """An episode as the last step left it, with what the task book knew of it."""

    episode: Episode
    task: str | None = None  # the task covering it
    moved_from: str | None = None  # the task whose interview was held before its return
    opened: list[str] = field(default_factory=list)  # the tasks opened for it, in order
    alerted: list[ExploitationIndicator] = field(
        default_factory=list
    )  # what its first exploitation alert named
    live: bool = False  # time may still bring it something to publish (a warning, a breach, an alert)


@dataclass
class TaskRow:
    """A task with every revision of what its provider was told."""

    task: Task
    packets: list[Packet]
    place: int  # its place in the order the child's tasks were opened
    moved_out: list[str] = field(default_factory=list)  # episodes it held an interview before the return of
    live: bool = True  # open, or time may still bring it something to publish


@dataclass(frozen=True)
class FactNote:
    """What a step made of a reported event, kept with it: the reports a withdrawal took back, the
    episode a risk change applied to (empty: none)."""

    applied_to: tuple[str, ...] | None = None


def happened_at(fact: Entry) -> datetime | None:
    """When what an episode event reports happened (the region's measure); None for other events."""
    return (
        fact.happened_at
        if isinstance(fact.data, MissingReported | Returned | RiskChanged | Cancelled) and fact.from_intake
        else None
    )


def subject(fact: Entry) -> str | None:
    """What an event is about, for finding it from what it is about."""
    data = fact.data
    if isinstance(data, Cancelled):
        return f"{fact.key.split('|', 1)[0]}|{data.report_id}" if data.report_id is not None else None
    if isinstance(data, InterviewNotOffered):
        return data.episode_id
    if isinstance(data, AssignmentFact):
        return data.task_id
    if isinstance(data, InterviewEvent):
        return data.assignment_id
    return None


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def _known(key: KnownKey | None) -> list[Any] | None:
    return [key[0], key[1], key[2].isoformat(), key[3]] if key is not None else None


def _known_key(value: list[Any] | None) -> KnownKey | None:
    if value is None:
        return None
    return (int(value[0]), int(value[1]), datetime.fromisoformat(value[2]), str(value[3]))


_EPISODE_TIMES = {
    "started_at",
    "high_risk_at",
    "ended_at",
    "offer_due_at",
    "offered_at",
    "declined_at",
    "attempted_at",
    "not_offered_at",
}
_EPISODE_FIELDS = [f.name for f in fields(Episode) if f.name != "_snapshot"]


def episode_json(episode: Episode) -> Json:
    found: Json = {}
    for name in _EPISODE_FIELDS:
        value = getattr(episode, name)
        if name in _EPISODE_TIMES:
            value = _time(value)
        elif name in ("known_at", "return_known"):
            value = _known(value)
        elif name == "indicators":
            value = {indicator: moment.isoformat() for indicator, moment in value.items()}
        found[name] = value
    return found


def episode_from(found: Json) -> Episode:
    values: Json = {}
    for name in _EPISODE_FIELDS:
        value = found[name]
        if name in _EPISODE_TIMES:
            value = _moment(value)
        elif name in ("known_at", "return_known"):
            value = _known_key(value)
        elif name == "indicators":
            value = {indicator: datetime.fromisoformat(moment) for indicator, moment in value.items()}
        elif name in ("reports", "standing"):
            value = list(value)
        values[name] = value
    return Episode(**values)


def packet_json(packet: Packet) -> Json:
    return {
        "episode_id": packet.episode_id,
        "episode_ids": list(packet.episode_ids),
        "placement_authority": packet.placement_authority,
        "returned_at": packet.returned_at.isoformat(),
        "offer_due_at": packet.offer_due_at.isoformat(),
        "risk_level": packet.risk_level,
        "indicators": list(packet.indicators),
        "preferred_language": packet.preferred_language,
    }


def packet_from(found: Json) -> Packet:
    return Packet(
        episode_id=found["episode_id"],
        episode_ids=tuple(found["episode_ids"]),
        placement_authority=found["placement_authority"],
        returned_at=datetime.fromisoformat(found["returned_at"]),
        offer_due_at=datetime.fromisoformat(found["offer_due_at"]),
        risk_level=found["risk_level"],
        indicators=tuple(found["indicators"]),
        preferred_language=found["preferred_language"],
    )


def raised_json(raised: Raised) -> Json:
    return {
        "key": raised.key,
        "kind": raised.kind,
        "at": raised.at.isoformat(),
        "step": raised.step,
        "episode": episode_json(raised.episode),
        "indicators": list(raised.indicators),
        "count": raised.count,
        "period_days": raised.period_days,
        "by": raised.by,
        "changes": list(raised.changes),
        "previous_placement": raised.previous_placement,
    }


def raised_from(found: Json) -> Raised:
    return Raised(
        key=found["key"],
        kind=found["kind"],
        at=datetime.fromisoformat(found["at"]),
        step=found["step"],
        episode=episode_from(found["episode"]),
        indicators=tuple(found["indicators"]),
        count=found["count"],
        period_days=found["period_days"],
        by=found["by"],
        changes=tuple(found["changes"]),
        previous_placement=found["previous_placement"],
    )


def child_json(row: ChildRow) -> Json:
    return {
        "steps": row.steps,
        "seq": row.seq,
        "legacy": row.legacy,
        "places": row.places,
        "waiting": row.waiting,
        "orphans": row.orphans,
        "fresh": row.fresh,
        "pending": [raised_json(raised) for raised in row.pending],
    }


def child_from(found: Json) -> ChildRow:
    return ChildRow(
        steps=found["steps"],
        seq=found["seq"],
        legacy=found["legacy"],
        places=found["places"],
        waiting=list(found["waiting"]),
        orphans=list(found["orphans"]),
        fresh=list(found["fresh"]),
        pending=[raised_from(raised) for raised in found["pending"]],
    )


def episode_row_json(row: EpisodeRow) -> Json:
    return {
        "episode": episode_json(row.episode),
        "task": row.task,
        "moved_from": row.moved_from,
        "opened": row.opened,
        "alerted": row.alerted,
        "live": row.live,
    }


def episode_row_from(found: Json) -> EpisodeRow:
    return EpisodeRow(
        episode=episode_from(found["episode"]),
        task=found["task"],
        moved_from=found["moved_from"],
        opened=list(found["opened"]),
        alerted=list(found["alerted"]),
        live=found["live"],
    )


def task_row_json(row: TaskRow) -> Json:
    task = row.task
    return {
        "task_id": task.task_id,
        "episode_ids": list(task.episode_ids),
        "created": _known(task.created),
        "ended": task.ended,
        "ended_at": _time(task.ended_at),
        "reports": [fact.key for fact in task.reports],
        "held_for": sorted(task.held_for),
        "packets": [packet_json(packet) for packet in row.packets],
        "place": row.place,
        "moved_out": row.moved_out,
        "live": row.live,
    }


def task_row_from(found: Json, facts: dict[str, Any]) -> TaskRow:
    """A task row, its provider reports taken from `facts` (by key)."""
    created = _known_key(found["created"])
    assert created is not None
    task = Task(
        task_id=found["task_id"],
        episode_ids=list(found["episode_ids"]),
        created=created,
        ended=found["ended"],
        ended_at=_moment(found["ended_at"]),
        reports=[facts[key] for key in found["reports"]],
        held_for=frozenset(found["held_for"]),
    )
    return TaskRow(
        task=task,
        packets=[packet_from(packet) for packet in found["packets"]],
        place=found["place"],
        moved_out=list(found["moved_out"]),
        live=found["live"],
    )
