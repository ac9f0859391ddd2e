"""What a provider's report does to an assignment (docs/domain.md rule 12): pure, no I/O.

An assignment is `offered`, then `accepted` and finally `completed`; it ends early as `declined`
(the provider hands it back, before or after accepting) or `expired` (silence past accept_by). Only `offered` and `accepted` hold a place in the
provider's capacity. A report that does not fit the assignment's state (a late answer to an offer
that already moved on) changes nothing: it is recorded and ignored.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

OPEN = frozenset({"offered", "accepted"})
_NEXT: dict[tuple[str, str], str] = {
    ("offered", "interview.accepted"): "accepted",
    ("offered", "interview.declined"): "declined",
    # A provider that accepted and then finds it cannot do the interview hands it back the same way.
    ("accepted", "interview.declined"): "declined",
    ("offered", "interview.offered"): "accepted",
    ("accepted", "interview.offered"): "accepted",
    ("offered", "interview.completed"): "completed",
    ("accepted", "interview.completed"): "completed",
}


@dataclass(frozen=True)
class Step:
    """The assignment's status after a report, and whether the task must move to another provider."""

    status: str
    accepted_now: bool
    moves_on: bool


def after_report(status: str, event_type: str) -> Step | None:
    """The step a provider's report causes, or None when it does not apply to this status."""
    new = _NEXT.get((status, event_type))
    if new is None:
        return None
    # Offering or completing the interview shows the provider took the work, even if it never said so.
    took_it = status == "offered" and new in ("accepted", "completed")
    return Step(status=new, accepted_now=took_it, moves_on=new == "declined")


def holds_capacity(status: str) -> bool:
    """Whether an assignment in this status takes one of the provider's places."""
    return status in OPEN


def open_loads(assignments: Iterable[tuple[str, str]]) -> dict[str, int]:
    """Open assignments per provider, from (provider_id, status) pairs."""
    return dict(Counter(provider for provider, status in assignments if holds_capacity(status)))
