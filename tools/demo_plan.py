"""What `mtp demo` sends: a seeded, realistic spread of missing episodes for the demo directory.

Cardiff and Newport children, some placed out of area (Cardiff children in Newport especially), a few
with exploitation indicators, risk raised during some episodes, away episodes reported by the council
without police, some children missing again within days, reports made in error, and returns spread over
the past weeks (their windows long closed) as well as today's (still open). Aggregates only ever leave
this machine's terminal: the references are made up here.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

CARDIFF, NEWPORT = "W06000015", "W06000022"
COUNCIL_OF = {CARDIFF: "cardiff", NEWPORT: "newport"}
POLICE = "south-wales-police"
INDICATORS = ["cce", "county_lines", "cse", "trafficking", "other"]


@dataclass(frozen=True)
class Send:
    """One event for intake, sent as organisation `org` once its time comes in the replayed day."""

    org: str
    at: datetime
    event: dict[str, Any]


def plan(children: int, days: int, now: datetime, tag: str, seed: int) -> list[Send]:
    """Every police and council event of the demo, in the order things happened."""
    rng = random.Random(seed)
    sends: list[Send] = []
    for n in range(children):
        authority = CARDIFF if rng.random() < 0.6 else NEWPORT
        out_of_area = rng.random() < (0.35 if authority == CARDIFF else 0.1)
        placement = (NEWPORT if authority == CARDIFF else CARDIFF) if out_of_area else authority
        child = f"DM-{tag}-{n:04d}"
        # A third are today's children (back within the last two days, windows still open), the
        # rest spread over the weeks before.
        recent = rng.random() < 0.33
        start = now - (
            timedelta(hours=rng.uniform(12, 60)) if recent else timedelta(days=rng.uniform(3, days))
        )
        for seq in range(rng.choices([1, 2, 3, 4], weights=[50, 25, 17, 8])[0]):
            if start >= now - timedelta(hours=3):
                break
            start = _episode(sends, rng, child, authority, placement, start, now, f"{tag}-{n}-{seq}")
    return sorted(sends, key=lambda s: s.at)


def _episode(
    sends: list[Send],
    rng: random.Random,
    child: str,
    authority: str,
    placement: str,
    start: datetime,
    now: datetime,
    ids: str,
) -> datetime:
    """Plan one episode; return when the child could next go missing."""
    away = rng.random() < 0.2
    reporter = COUNCIL_OF[authority] if away else POLICE
    base = {"child_ref": child, "responsible_authority": authority}
    report: dict[str, Any] = {
        **base,
        "placement_authority": placement,
        "kind": "away" if away else "missing",
        "missing_since": start.isoformat(),
        "risk_level": rng.choice(
            ["low", "medium", "medium", "high"] if not away else ["no_apparent_risk", "low"]
        ),
        "exploitation_indicators": rng.sample(INDICATORS, 1) if rng.random() < 0.08 else [],
        "preferred_language": "cy" if rng.random() < 0.15 else "en",
    }
    if away:
        report |= {"reported_to_police": False, "not_reported_reason": "whereabouts_known"}
    else:
        report |= {"police_force": POLICE, "police_reference": f"SWP-{ids}"}
    reported_at = start + timedelta(minutes=rng.uniform(20, 180))
    sends.append(_send(reporter, reported_at, f"demo-{ids}-r", "missing.reported", report))
    both = not away and rng.random() < 0.3
    if both:  # the council reports the same episode too: it joins, not doubles
        sends.append(
            _send(
                COUNCIL_OF[authority],
                reported_at + timedelta(minutes=40),
                f"demo-{ids}-c",
                "missing.reported",
                report,
            )
        )
    if rng.random() < 0.15 and reported_at + timedelta(hours=2) < now:
        changed = reported_at + timedelta(hours=rng.uniform(1, 2))
        risk = {
            **base,
            "risk_level": "high",
            "exploitation_indicators": rng.sample(INDICATORS, rng.choice([0, 1, 1])),
            "changed_at": changed.isoformat(),
        }
        sends.append(_send(POLICE, changed, f"demo-{ids}-k", "missing.risk_changed", risk))
    if rng.random() < 0.03 and reported_at + timedelta(hours=4) < now:
        cancelled = reported_at + timedelta(hours=3)
        # Each organisation withdraws its own report; the absence ends when none stands.
        for n, sender in enumerate([reporter, COUNCIL_OF[authority]] if both else [reporter]):
            sends.append(
                _send(
                    sender,
                    cancelled + timedelta(minutes=n),
                    f"demo-{ids}-x{n}",
                    "missing.cancelled",
                    {**base, "reason": "reported_in_error"},
                )
            )
        return cancelled + timedelta(days=rng.uniform(5, 30))
    returned = start + timedelta(hours=rng.expovariate(1 / 14) + 1)
    if returned > now - timedelta(minutes=40):
        return now  # still missing (its return would be reported in the future)
    sends.append(
        _send(
            reporter,
            returned + timedelta(minutes=30),
            f"demo-{ids}-b",
            "missing.returned",
            {**base, "returned_at": returned.isoformat()},
        )
    )
    if rng.random() < 0.25:  # missing again within days: repeat missing, and one task may cover both
        return returned + timedelta(hours=rng.uniform(8, 96))
    return returned + timedelta(days=rng.uniform(4, 40))


def _send(org: str, at: datetime, id_: str, type_: str, data: dict[str, Any]) -> Send:
    event = {"specversion": "1.0", "id": id_, "type": type_, "time": at.isoformat(), "data": data}
    return Send(org, at, event)


def provider_reports(assignment_id: str, seed: int) -> list[str]:
    """What a provider holding this assignment reports, in order: it accepts (mostly), offers the
    interview (mostly) and holds it (often). The provider acts as soon as it is offered the work: in
    the accelerated day that is now, so returns from before the demo started are offered late."""
    rng = random.Random(f"{seed}-{assignment_id}")
    if rng.random() < 0.1:
        return []  # the provider lets it lapse
    if rng.random() < 0.12:
        return ["interview.accepted"]
    if rng.random() < 0.3:
        return ["interview.accepted", "interview.offered"]
    return ["interview.accepted", "interview.offered", "interview.completed"]


def provider_report(assignment_id: str, type_: str, at: datetime, seed: int) -> Send:
    """One provider report, dated `at`."""
    rng = random.Random(f"{seed}-{assignment_id}-{type_}")
    data: dict[str, Any] = {}
    if type_ == "interview.offered":
        data = {"offered_at": at.isoformat()}
    elif type_ == "interview.completed":
        outcome = rng.choice(["completed"] * 6 + ["child_declined", "unable_to_contact"])
        data = {
            "completed_at": at.isoformat(),
            "outcome": outcome,
            "exploitation_indicators": rng.sample(INDICATORS, 1) if rng.random() < 0.1 else [],
            "safeguarding_concern": rng.random() < 0.2,
        }
        if outcome == "child_declined":  # a child's decline always carries a reason code
            data["decline_reason"] = rng.choice(["does_not_want_to_talk", "wants_to_talk_to_carer"])
    return _interview(at, assignment_id, type_, data)


def _interview(at: datetime, assignment_id: str, type_: str, data: dict[str, Any]) -> Send:
    suffix = type_.split(".")[1]
    return _send("", at, f"demo-{assignment_id}-{suffix}", type_, {"assignment_id": assignment_id, **data})
