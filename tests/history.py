"""A generated history of several hundred children in two authorities, for the report tests.

Deterministic (seeded): children in area and placed out of area, some missing again before their
interview, some three times in a quarter, some with exploitation indicators, away episodes that become
missing, reports made in error, returns long past (their windows closed) and recent (still open).
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.contracts.assignments import AssignmentAccepted, AssignmentAssigned
from shared.contracts.assignments import assignment_id as shared_assignment_id
from shared.contracts.common import EventData, ExploitationIndicator
from shared.contracts.episodes import Cancelled, InterviewNotOffered, MissingReported, Returned, RiskChanged
from shared.contracts.interviews import InterviewCompleted, InterviewOffered
from shared.contracts.tasks import InterviewRequested
from tests.events import CARDIFF, NEWPORT

INDICATORS: list[ExploitationIndicator] = ["cce", "county_lines", "cse", "trafficking", "other"]


@dataclass(frozen=True)
class Planned:
    """One event to publish: where, under which key, with which CloudEvent time."""

    topic: str  # the contract topic, without namespace
    key: str
    time: datetime
    data: EventData
    source: str | None = None  # who sent it, when not the topic's usual sender


def episode_history(now: datetime, children: int, seed: int = 21) -> list[Planned]:
    """Reports, risk changes, returns and cancellations, in time order per child."""
    rng = random.Random(seed)
    planned: list[Planned] = []
    for n in range(children):
        authority = CARDIFF if n % 2 == 0 else NEWPORT
        other = NEWPORT if authority == CARDIFF else CARDIFF
        placement = other if rng.random() < 0.3 else authority
        child = f"G-{n:04d}"
        key = f"{authority}/{child}"
        episodes = rng.choices([1, 2, 3, 4], weights=[55, 20, 18, 7])[0]
        start = now - timedelta(days=rng.uniform(20, 110))
        for _ in range(episodes):
            if start > now - timedelta(hours=2):
                break
            start = _episode(planned, rng, key, child, authority, placement, start, now)
    return planned


def _episode(
    planned: list[Planned],
    rng: random.Random,
    key: str,
    child: str,
    authority: str,
    placement: str,
    start: datetime,
    now: datetime,
) -> datetime:
    """Plan one episode; return when the next could start."""
    kind = "away" if rng.random() < 0.15 else "missing"
    indicators = rng.sample(INDICATORS, 1) if rng.random() < 0.1 else []
    report = MissingReported(
        child_ref=child,
        responsible_authority=authority,
        placement_authority=placement,
        kind=kind,
        missing_since=start,
        risk_level=rng.choice(["low", "medium", "medium", "high"]),
        exploitation_indicators=indicators,
        police_force="south-wales-police",
        police_reference=f"R-{child}-{start:%j}",
    )
    planned.append(Planned("episodes", key, start, report))
    at = start
    if (
        kind == "away" and rng.random() < 0.5 and start < now - timedelta(hours=10)
    ):  # away becomes missing: a second episode from here
        at = start + timedelta(hours=rng.uniform(2, 8))
        planned.append(
            Planned("episodes", key, at, report.model_copy(update={"kind": "missing", "missing_since": at}))
        )
    if rng.random() < 0.15 and at < now - timedelta(hours=2):
        changed = at + timedelta(hours=1)
        risk = RiskChanged(
            child_ref=child,
            responsible_authority=authority,
            risk_level="high",
            exploitation_indicators=rng.sample(INDICATORS, 1),
            changed_at=changed,
        )
        planned.append(Planned("episodes", key, changed, risk))
    roll = rng.random()
    if roll < 0.04 and at < now - timedelta(hours=4):  # reported in error
        cancelled = at + timedelta(hours=3)
        planned.append(
            Planned(
                "episodes",
                key,
                cancelled,
                Cancelled(child_ref=child, responsible_authority=authority, reason="reported_in_error"),
            )
        )
        return cancelled + timedelta(days=rng.uniform(5, 30))
    returned = at + timedelta(hours=rng.uniform(2, 60))
    # Still missing: some, the ones not back yet, and any whose window would close while the test runs.
    if (
        roll < 0.07
        or returned > now - timedelta(hours=1)
        or now - timedelta(hours=76) < returned < now - timedelta(hours=68)
    ):
        return now
    planned.append(
        Planned(
            "episodes",
            key,
            returned,
            Returned(child_ref=child, responsible_authority=authority, returned_at=returned),
        )
    )
    if rng.random() < 0.3:  # missing again before the interview: the open task covers the next episode
        return returned + timedelta(hours=rng.uniform(6, 40))
    return returned + timedelta(days=rng.uniform(3, 35))


def interview_history(requests: list[InterviewRequested], now: datetime, seed: int = 22) -> list[Planned]:
    """What the notifier and providers would say about each task: assigned, accepted, offered (in the
    window or late), interviewed; some never offered."""
    rng = random.Random(seed)
    planned: list[Planned] = []
    for request in sorted(requests, key=lambda r: r.task_id):
        key = request.child_key
        base = {"child_ref": request.child_ref, "responsible_authority": request.responsible_authority}
        returned = request.returned_at
        if rng.random() < 0.1:
            if rng.random() < 0.5 and returned + timedelta(hours=30) < now:  # the council records why
                recorded = returned + timedelta(hours=rng.uniform(2, 30))
                reason = rng.choice(["child_moved_abroad", "child_in_custody"])
                record = InterviewNotOffered(**base, episode_id=request.episode_id, reason=reason)
                planned.append(Planned("episodes", key, recorded, record, f"/orgs/{_council(request)}"))
            continue  # nobody took it
        assignment_id = shared_assignment_id(request.task_id, "nyas-cymru")
        assigned_at = returned + timedelta(minutes=rng.uniform(1, 30))
        ids = {"task_id": request.task_id, "assignment_id": assignment_id, "provider_id": "nyas-cymru"}
        planned.append(
            Planned(
                "assignments",
                key,
                assigned_at,
                AssignmentAssigned(**base, **ids, at=assigned_at, accept_by=assigned_at + timedelta(hours=4)),
            )
        )
        if rng.random() < 0.15:
            continue  # never accepted
        accepted_at = assigned_at + timedelta(hours=rng.uniform(0.2, 3.5))
        if accepted_at < now:
            planned.append(
                Planned("assignments", key, accepted_at, AssignmentAccepted(**base, **ids, at=accepted_at))
            )
        if rng.random() < 0.15:
            continue  # accepted, never offered
        offered_at = returned + timedelta(
            hours=rng.choice([rng.uniform(3, 70), rng.uniform(3, 70), rng.uniform(74, 200)])
        )
        if offered_at > now - timedelta(minutes=5):
            continue
        planned.append(
            Planned(
                "interviews",
                key,
                offered_at,
                InterviewOffered(assignment_id=assignment_id, offered_at=offered_at),
            )
        )
        if rng.random() < 0.35:
            continue  # offered, not yet held
        completed_at = offered_at + timedelta(hours=rng.uniform(1, 48))
        if completed_at > now - timedelta(minutes=5):
            continue
        completed = InterviewCompleted(
            assignment_id=assignment_id,
            completed_at=completed_at,
            outcome=rng.choice(
                ["completed", "completed", "completed", "child_declined", "unable_to_contact"]
            ),
            exploitation_indicators=rng.sample(INDICATORS, 1) if rng.random() < 0.1 else [],
        )
        if completed.outcome == "child_declined":
            completed = completed.model_copy(update={"decline_reason": "does_not_want_to_talk"})
        planned.append(Planned("interviews", key, completed_at, completed))
    return planned


def _council(request: InterviewRequested) -> str:
    return "cardiff" if request.responsible_authority == CARDIFF else "newport"
