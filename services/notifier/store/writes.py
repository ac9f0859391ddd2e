"""What one transaction decides, written together when it is done: new assignments, task statuses,
webhooks to queue and assignment facts to publish, in one statement instead of a round trip per row.
Routing decisions in the transaction read the providers' loads once and keep them up to date here,
since the routing lock is held for the whole transaction."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.notifier.store import tables
from services.notifier.webhooks import store as delivery_store
from shared import outbox, topics
from shared.contracts.envelope import Envelope


@dataclass
class Writes:
    """Pending rows of one transaction; `flush` writes them (and must run before anything reads them)."""

    namespace: str = ""  # of the topics the facts go to
    lease_until: datetime | None = None  # webhooks born leased to this instance until then, or claimable
    loads: dict[str, int] | None = None  # each provider's open assignments, once read
    disabled_urls: frozenset[str] = frozenset()  # read with the loads
    assignments: list[tuple[Any, ...]] = field(default_factory=list)
    statuses: list[tuple[str, str]] = field(default_factory=list)
    deliveries: list[tuple[str, str, str, str, bytes, datetime]] = field(default_factory=list)
    facts: list[tuple[str, str, Envelope]] = field(default_factory=list)
    born: list[delivery_store.Claimed] = field(default_factory=list)  # webhooks leased to this instance

    def assignment(self, row: tuple[Any, ...]) -> None:
        """A new offer: (assignment id, task id, provider id, offered at, accept by, routing record)."""
        self.assignments.append(row)
        if self.loads is not None:  # the cached loads stay true for the next decision
            self.loads[row[2]] = self.loads.get(row[2], 0) + 1

    def ended(self, provider_id: str) -> None:
        """An assignment of this provider ended (written at once): one place is free again."""
        if self.loads is not None and self.loads.get(provider_id):
            self.loads[provider_id] -= 1

    def status(self, task_id: str, status: str) -> None:
        """A task's routing status (the last one written in a transaction stands)."""
        self.statuses.append((task_id, status))

    def fact(self, child_key: str, envelope: Envelope) -> None:
        """An assignment fact to publish, keyed by its child (through the outbox, with the rest)."""
        self.facts.append((topics.named(self.namespace, topics.ASSIGNMENTS), child_key, envelope))

    def asked(self, task_id: str) -> frozenset[str]:
        """Providers asked about the task in this transaction, not yet written."""
        return frozenset(row[2] for row in self.assignments if row[1] == task_id)

    async def flush(self, conn: tables.Connection) -> None:
        """Write everything pending in one statement; forget the cached loads."""
        if self.assignments or self.statuses or self.deliveries or self.facts:
            self.born += await tables.write_batch(
                conn,
                assignments=self.assignments,
                statuses=dict(self.statuses),
                deliveries=self.deliveries,
                facts=[outbox.row(topic, key, envelope) for topic, key, envelope in self.facts],
                lease_until=self.lease_until,
            )
        self.assignments, self.statuses, self.deliveries, self.facts = [], [], [], []
        self.loads = None
