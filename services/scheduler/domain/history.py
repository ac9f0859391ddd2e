"""A child's history: the events the scheduler folds, in the two orders that matter.

*When things happened* (a report's `missing_since`, a return's `returned_at`) decides which absence a
report belongs to, where each episode starts and ends, and every window. *When the system learnt of
them* decides everything that must never change once said: which report names an episode, which task
a return joins, which alerts were raised. Intake numbers each event about a child as it accepts it
(`childseq`: 1, 2, 3, ...), so the second order is a property of the events themselves, not of when
the scheduler happens to see them. An event numbered n waits until 1..n-1 have all arrived: the
scheduler only ever folds what the system knew at some moment, whatever order the broker delivers in.

Events with no number (published before intake numbered them, or by another producer) are known in
the order of their CloudEvent time, before any numbered one. A council's answers to what a child said
and its NRM decisions are not numbered and never folded (docs/domain.md rule 36). Assignment facts from the notifier carry
no number: they say who holds a task and apply whenever they arrive.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from shared.contracts.assignments import AssignmentFact
from shared.contracts.common import EventData
from shared.contracts.episodes import MissingReported, Returned, RiskChanged
from shared.contracts.interviews import InterviewCompleted, InterviewOffered

_NAMESPACE = uuid.UUID("8a4e51f5-2c1b-4a57-9d8e-3f8f6a0c9b21")
ORG_SOURCE = "/orgs/"
KnownKey = tuple[int, int, datetime, str]


@lru_cache(maxsize=4096)  # a fold names the same episodes and tasks at every step
def stable_id(*parts: str) -> str:
    """A deterministic id: reprocessing the same events yields the same ids."""
    return str(uuid.uuid5(_NAMESPACE, "|".join(parts)))


@dataclass(frozen=True)
class Entry:
    """One event in a child's history."""

    key: str  # "<source>|<id>", unique
    type: str
    time: datetime  # the CloudEvent time
    data: EventData
    seq: int | None = None  # intake's number for it among the child's events (`childseq`)

    @property
    def org(self) -> str | None:
        """The directory id of the organisation that sent it, for events that came through intake."""
        source = self.key.split("|", 1)[0]
        return source.removeprefix(ORG_SOURCE) if source.startswith(ORG_SOURCE) else None

    @property
    def happened_at(self) -> datetime:
        """When the thing this event reports happened."""
        data = self.data
        if isinstance(data, MissingReported):
            return data.missing_since
        if isinstance(data, Returned):
            return data.returned_at
        if isinstance(data, RiskChanged):
            return data.changed_at or self.time
        if isinstance(data, InterviewOffered):
            return data.offered_at
        if isinstance(data, InterviewCompleted):
            return data.completed_at
        if isinstance(data, AssignmentFact):
            return data.at
        return self.time

    @property
    def known(self) -> KnownKey:
        """Where the event stands in the order the system learnt of things (total and stable)."""
        if self.seq is None:
            return (0, 0, self.time, self.key)
        return (1, self.seq, self.time, self.key)

    @property
    def from_intake(self) -> bool:
        """Reported by an organisation (through intake), not decided inside the system."""
        return not isinstance(self.data, AssignmentFact)


def applicable(entries: list[Entry]) -> tuple[list[Entry], list[Entry]]:
    """Split a history into what can be folded now and what waits: a numbered event waits until every
    lower number of the child has arrived."""
    numbers = {fact.seq for fact in entries if fact.seq is not None}
    contiguous = 0
    while contiguous + 1 in numbers:
        contiguous += 1
    ready = [fact for fact in entries if fact.seq is None or fact.seq <= contiguous]
    waiting = [fact for fact in entries if fact.seq is not None and fact.seq > contiguous]
    return ready, waiting
