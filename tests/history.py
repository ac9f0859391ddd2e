"""A generated history of several hundred children in two authorities, for the report tests.

Deterministic (seeded): children in area and placed out of area, some missing again before their
interview, some three times in a quarter, some with exploitation indicators, away episodes that become
missing, reports made in error, returns long past (their windows closed) and recent (still open), some
at which the child was arrested. Held interviews record what the child said (each child has a reason
they give most times), and the council answers in time, late, or not at all, sometimes correcting
itself; some episodes with signs of exploitation get an NRM decision.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.contracts.assignments import AssignmentAccepted, AssignmentAssigned
from shared.contracts.assignments import assignment_id as shared_assignment_id
from shared.contracts.common import EventData, ExploitationIndicator
from shared.contracts.episodes import (
    Cancelled,
    HowReturned,
    InterviewNotOffered,
    MissingReported,
    Returned,
    RiskChanged,
)
from shared.contracts.interviews import InterviewCompleted, InterviewOffered
from shared.contracts.tasks import InterviewRequested
from shared.contracts.voice import (
    ActionDone,
    Findings,
    FindingsResponded,
    NrmDecided,
    PlacementView,
    Reason,
    findings_id_of,
)
from tests.events import CARDIFF, NEWPORT

INDICATORS: list[ExploitationIndicator] = ["cce", "county_lines", "cse", "trafficking", "other"]
HOW_RETURNED: list[HowReturned] = ["came_back_self", "came_back_self", "found_by_police", "arrested"]
REASONS: list[Reason] = [
    "placement_relationships",
    "wants_family_contact",
    "wants_friends",
    "boredom",
    "other",
]
VIEWS: list[PlacementView | None] = [None, "stay", "move", "return_home_area", "unsure"]


@dataclass(frozen=True)
class Planned:
    """One event to publish: where, under which key, with which CloudEvent time."""

    topic: str  # the contract topic, without namespace
    key: str
    time: datetime
    data: EventData
    source: str | None = None  # who sent it, when not the topic's usual sender


HEARD_OFTEN = 3  # times each child heard often goes missing


def heard_often(now: datetime, time: int, children: int = 8) -> list[Planned]:
    """The `time`th absence (0, 1, 2) of children (`H-...`) who go missing three weeks apart, each
    interviewed before the next (so each has its own task) and giving the same reason most times: what
    a reason said again is counted from."""
    planned: list[Planned] = []
    for n in range(children):
        authority = CARDIFF if n % 2 == 0 else NEWPORT
        child = f"H-{n:03d}"
        start = now - timedelta(days=70 - 21 * time, hours=n)
        report = MissingReported(
            child_ref=child,
            responsible_authority=authority,
            placement_authority=authority,
            kind="missing",
            missing_since=start,
            risk_level="medium",
            police_force="south-wales-police",
            police_reference=f"R-{child}-{time}",
        )
        back = Returned(
            child_ref=child, responsible_authority=authority, returned_at=start + timedelta(hours=9)
        )
        planned.append(Planned("episodes", f"{authority}/{child}", start, report))
        planned.append(Planned("episodes", f"{authority}/{child}", back.returned_at, back))
    return planned


def episode_history(now: datetime, children: int, seed: int = 21) -> list[Planned]:
    """Reports, risk changes, returns and cancellations, in time order per child."""
    rng = random.Random(seed)
    manner = random.Random(seed + 1)  # how each child came back, drawn apart from the rest of the history
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
            start = _episode(planned, rng, key, child, authority, placement, start, now, manner)
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
    manner: random.Random,
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
            Returned(
                child_ref=child,
                responsible_authority=authority,
                returned_at=returned,
                how_returned=manner.choice(HOW_RETURNED),
            ),
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
        if rng.random() < 0.2:
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
        if completed.outcome == "completed" and rng.random() < 0.85:
            completed = completed.model_copy(update={"findings": _findings(rng, request.child_key)})
            planned += _answers(rng, request, completed, now)
        planned.append(Planned("interviews", key, completed_at, completed))
    return planned


def heard(rng: random.Random, request: InterviewRequested, now: datetime) -> list[Planned]:
    """A task of a child heard often: taken, offered and held within the window, with findings."""
    key, returned = request.child_key, request.returned_at
    base = {"child_ref": request.child_ref, "responsible_authority": request.responsible_authority}
    ids = {
        "task_id": request.task_id,
        "assignment_id": shared_assignment_id(request.task_id, "nyas-cymru"),
        "provider_id": "nyas-cymru",
    }
    assigned, offered, held = (returned + timedelta(hours=h) for h in (0.2, 5, 20))
    completed = InterviewCompleted(
        assignment_id=ids["assignment_id"],
        completed_at=held,
        outcome="completed",
        findings=_findings(rng, key),
    )
    return [
        Planned(
            "assignments", key, assigned, AssignmentAssigned(**base, **ids, at=assigned, accept_by=offered)
        ),
        Planned("assignments", key, assigned, AssignmentAccepted(**base, **ids, at=assigned)),
        Planned(
            "interviews",
            key,
            offered,
            InterviewOffered(assignment_id=ids["assignment_id"], offered_at=offered),
        ),
        *_answers(rng, request, completed, now),
        Planned("interviews", key, held, completed),
    ]


def _findings(rng: random.Random, child: str) -> Findings:
    """What a child said: the reason this child gives most times, often with another."""
    usual = REASONS[sum(map(ord, child)) % len(REASONS)]
    reasons = {usual} if rng.random() < 0.8 else set()
    if rng.random() < 0.5:
        reasons.add(rng.choice(REASONS))
    return Findings(
        reasons=sorted(reasons),
        placement_view=rng.choice(VIEWS),
        child_words="words the figures never read",
    )


def _answers(
    rng: random.Random, request: InterviewRequested, completed: InterviewCompleted, now: datetime
) -> list[Planned]:
    """The council's answer to what the child said, in time, late or never, sometimes corrected; an
    answer is published before the findings it answers, as a council quick on its feet may be read."""
    roll = rng.random()
    if roll > 0.75:
        return []  # never answered
    days = rng.uniform(0.1, 6.5) if roll < 0.5 else rng.uniform(7.5, 20)
    findings_id = findings_id_of(completed.assignment_id)
    found = []
    for n, at in enumerate(
        [completed.completed_at + timedelta(days=days)] * (2 if rng.random() < 0.15 else 1)
    ):
        at += timedelta(days=n)
        if at > now - timedelta(minutes=5):
            break
        answer = FindingsResponded(
            child_ref=request.child_ref,
            responsible_authority=request.responsible_authority,
            findings_id=findings_id,
            responded_at=at,
            actions=[ActionDone(code=rng.choice(["care_plan_reviewed", "support_offered"]))],
            child_told=rng.random() < 0.6,
            corrects=n > 0,
        )
        found.append(Planned("episodes", request.child_key, at, answer, f"/orgs/{_council(request)}"))
    return found


def nrm_decisions(requests: list[InterviewRequested], now: datetime, seed: int = 23) -> list[Planned]:
    """The councils' NRM decisions for some episodes reported with signs of exploitation."""
    rng = random.Random(seed)
    planned = []
    for request in sorted(requests, key=lambda r: r.task_id):
        if not request.exploitation_indicators or rng.random() < 0.4:
            continue
        decided_at = min(request.returned_at + timedelta(days=rng.uniform(0.5, 10)), now - timedelta(hours=1))
        decision = rng.choice(["referred", "already_referred", "not_referred"])
        data = NrmDecided(
            child_ref=request.child_ref,
            responsible_authority=request.responsible_authority,
            episode_id=request.episode_id,
            decision=decision,
            reason="already_supported" if decision == "not_referred" else None,
            decided_at=decided_at,
        )
        planned.append(Planned("episodes", request.child_key, decided_at, data, f"/orgs/{_council(request)}"))
    return planned


def _council(request: InterviewRequested) -> str:
    return "cardiff" if request.responsible_authority == CARDIFF else "newport"
