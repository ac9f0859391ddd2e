"""Building children's histories for domain tests."""

from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from services.scheduler.episodes import Fact
from shared.contracts.assignments import AssignmentAccepted, AssignmentAssigned, AssignmentDeclined
from shared.contracts.episodes import Cancelled, MissingReported, Returned, RiskChanged
from shared.contracts.interviews import InterviewCompleted, InterviewOffered

T0 = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)
CHILD = {"child_ref": "C-1", "responsible_authority": "W06000015"}
_ids = count(1)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def _fact(data: Any, time: datetime) -> Fact:
    return Fact(f"/orgs/test|e{next(_ids)}", data.type_name, time, data)


def reported(
    at: datetime,
    *,
    kind: str = "missing",
    risk: str = "medium",
    placement: str = "W06000015",
    indicators: tuple[str, ...] = (),
    language: str = "en",
) -> Fact:
    data = MissingReported(
        **CHILD,
        placement_authority=placement,
        kind=kind,
        missing_since=at,
        risk_level=risk,
        exploitation_indicators=list(indicators),
        preferred_language=language,
        police_force="south-wales-police",
        police_reference="R1",
    )  # type: ignore[arg-type]
    return _fact(data, at)


def returned(at: datetime) -> Fact:
    return _fact(Returned(**CHILD, returned_at=at), at)


def risk(at: datetime, level: str, indicators: tuple[str, ...] = ()) -> Fact:
    data = RiskChanged(**CHILD, risk_level=level, exploitation_indicators=list(indicators), changed_at=at)  # type: ignore[arg-type]
    return _fact(data, at)


def cancelled(at: datetime, reason: str = "reported_in_error") -> Fact:
    return _fact(Cancelled(**CHILD, reason=reason), at)


def assigned(at: datetime, task_id: str, assignment_id: str = "a1", provider: str = "nyas-cymru") -> Fact:
    data = AssignmentAssigned(
        **CHILD,
        task_id=task_id,
        assignment_id=assignment_id,
        provider_id=provider,
        at=at,
        accept_by=at + timedelta(hours=4),
    )
    return _fact(data, at)


def accepted(at: datetime, task_id: str, assignment_id: str = "a1", provider: str = "nyas-cymru") -> Fact:
    return _fact(
        AssignmentAccepted(
            **CHILD, task_id=task_id, assignment_id=assignment_id, provider_id=provider, at=at
        ),
        at,
    )


def declined(at: datetime, task_id: str, assignment_id: str = "a1", provider: str = "nyas-cymru") -> Fact:
    return _fact(
        AssignmentDeclined(
            **CHILD,
            task_id=task_id,
            assignment_id=assignment_id,
            provider_id=provider,
            at=at,
            reason="no_capacity",
        ),
        at,
    )


def offered(at: datetime, assignment_id: str = "a1") -> Fact:
    return _fact(InterviewOffered(assignment_id=assignment_id, offered_at=at), at)


def completed(
    at: datetime, assignment_id: str = "a1", outcome: str = "completed", indicators: tuple[str, ...] = ()
) -> Fact:
    data = InterviewCompleted(
        assignment_id=assignment_id,
        completed_at=at,
        outcome=outcome,  # type: ignore[arg-type]
        exploitation_indicators=list(indicators),
    )  # type: ignore[arg-type]
    return _fact(data, at)
