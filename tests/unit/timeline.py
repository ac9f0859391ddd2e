"""Building children's histories for domain tests.

Each helper makes one event, sent by an organisation (`org`, a directory id) at the moment it says.
`learnt(...)` numbers events in the order given, as intake does when it accepts them: that is the
order the system learnt of them, whatever order they are then delivered in.
"""

import dataclasses
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from services.scheduler.domain.child import ChildState, fold
from services.scheduler.domain.history import Entry
from shared.contracts.assignments import (
    AssignmentAccepted,
    AssignmentAssigned,
    AssignmentDeclined,
    assignment_id,
)
from shared.contracts.episodes import Cancelled, InterviewNotOffered, MissingReported, Returned, RiskChanged
from shared.contracts.interviews import InterviewCompleted, InterviewOffered
from shared.directory import TimingSettings

T0 = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
CARDIFF, NEWPORT = "W06000015", "W06000022"
CHILD = {"child_ref": "C-1", "responsible_authority": CARDIFF}
POLICE, COUNCIL, PROVIDER = "south-wales-police", "cardiff", "nyas-cymru"
TIMING = TimingSettings()
_ids = count(1)


def fresh_ids() -> None:
    """Number events from 1 again (a generated history makes the same events when replayed)."""
    global _ids
    _ids = count(1)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def learnt(*facts: Entry | Iterable[Entry]) -> list[Entry]:
    """The events numbered 1, 2, 3, ... in the order given: the order intake accepted them."""
    flat: list[Entry] = []
    for item in facts:
        flat.extend([item] if isinstance(item, Entry) else item)
    return [dataclasses.replace(fact, seq=n) for n, fact in enumerate(flat, start=1)]


def state(*facts: Entry | Iterable[Entry], timing: TimingSettings = TIMING) -> ChildState:
    """The child's state after the events, learnt in the order given."""
    return fold(learnt(*facts), timing)


def task_of(*facts: Entry) -> str:
    """The id of the first task these events open."""
    return state(*facts).tasks[0].task_id


def _fact(data: Any, time: datetime, org: str) -> Entry:
    return Entry(f"/orgs/{org}|e{next(_ids)}", data.type_name, time, data)


def reported(
    at: datetime,
    *,
    kind: str = "missing",
    risk: str = "medium",
    placement: str = CARDIFF,
    indicators: tuple[str, ...] = (),
    language: str | None = None,
    org: str = POLICE,
    ref: str | None = "R1",
    sent: datetime | None = None,
) -> Entry:
    police = {"police_force": POLICE, "police_reference": ref} if ref else {}
    unreported = {} if ref else {"reported_to_police": False, "not_reported_reason": "whereabouts_known"}
    data = MissingReported(
        **CHILD,
        placement_authority=placement,
        kind=kind,
        missing_since=at,
        risk_level=risk,
        exploitation_indicators=list(indicators),
        preferred_language=language,
        **police,
        **unreported,
    )  # type: ignore[arg-type]
    return _fact(data, sent or at, org)


def returned(at: datetime, *, org: str = POLICE, sent: datetime | None = None) -> Entry:
    return _fact(Returned(**CHILD, returned_at=at), sent or at, org)


def risk(at: datetime, level: str, indicators: tuple[str, ...] = (), *, org: str = POLICE) -> Entry:
    data = RiskChanged(**CHILD, risk_level=level, exploitation_indicators=list(indicators), changed_at=at)  # type: ignore[arg-type]
    return _fact(data, at, org)


def cancelled(
    at: datetime, reason: str = "reported_in_error", *, org: str = POLICE, report: Entry | None = None
) -> Entry:
    report_id = report.key.split("|", 1)[1] if report is not None else None
    return _fact(Cancelled(**CHILD, reason=reason, report_id=report_id), at, org)


def not_offered(at: datetime, episode_id: str, reason: str = "child_in_custody") -> Entry:
    return _fact(InterviewNotOffered(**CHILD, episode_id=episode_id, reason=reason), at, COUNCIL)


def _assignment(task_id: str, provider: str) -> dict[str, str]:
    return {"task_id": task_id, "assignment_id": assignment_id(task_id, provider), "provider_id": provider}


def assigned(at: datetime, task_id: str, provider: str = PROVIDER) -> Entry:
    data = AssignmentAssigned(
        **CHILD, **_assignment(task_id, provider), at=at, accept_by=at + timedelta(hours=4)
    )
    return Entry(f"/mtp/notifier|assigned-{task_id}-{provider}", data.type_name, at, data)


def accepted(at: datetime, task_id: str, provider: str = PROVIDER) -> Entry:
    data = AssignmentAccepted(**CHILD, **_assignment(task_id, provider), at=at)
    return Entry(f"/mtp/notifier|accepted-{task_id}-{provider}", data.type_name, at, data)


def declined(at: datetime, task_id: str, provider: str = PROVIDER) -> Entry:
    data = AssignmentDeclined(**CHILD, **_assignment(task_id, provider), at=at, reason="no_capacity")
    return Entry(f"/mtp/notifier|declined-{task_id}-{provider}", data.type_name, at, data)


def offered(at: datetime, task_id: str, provider: str = PROVIDER) -> Entry:
    return _fact(
        InterviewOffered(assignment_id=assignment_id(task_id, provider), offered_at=at), at, provider
    )


def completed(
    at: datetime,
    task_id: str,
    outcome: str = "completed",
    indicators: tuple[str, ...] = (),
    provider: str = PROVIDER,
    decline_reason: str | None = None,
) -> Entry:
    data = InterviewCompleted(
        assignment_id=assignment_id(task_id, provider),
        completed_at=at,
        outcome=outcome,  # type: ignore[arg-type]
        exploitation_indicators=list(indicators),
        decline_reason=decline_reason,
    )  # type: ignore[arg-type]
    return _fact(data, at, provider)
