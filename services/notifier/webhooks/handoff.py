"""Webhooks a consumer batch queued, passed to this instance's delivery worker once committed.

The batch's transaction inserts them already leased to this instance (`store.WRITE_BATCH`), so no
other worker takes them and this one need not find them with a claiming statement: they go out as
soon as the transaction commits, not after a notification and a claim. If the process dies first,
the leases run out and any instance's worker claims them, as it would after a crash mid-POST.
"""

import asyncio
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta

from services.notifier.core.settings import NotifierSettings
from services.notifier.webhooks.store import Claimed


def delivery_lease(settings: NotifierSettings) -> timedelta:
    """How long a claimed delivery is this instance's: past the webhook timeout, with room to record it."""
    return timedelta(seconds=settings.webhook_timeout_seconds * 3 + 5)


class Handoff:
    """Deliveries leased at birth, waiting for this instance's worker."""

    def __init__(self, lease: timedelta) -> None:
        self.lease = lease
        self.arrived = asyncio.Event()
        self._waiting: deque[Claimed] = deque()

    def lease_until(self, now: datetime) -> datetime:
        """The lease a delivery queued at `now` is born with."""
        return now + self.lease

    def put(self, deliveries: Iterable[Claimed]) -> None:
        """Pass committed deliveries to the worker."""
        self._waiting.extend(deliveries)
        if self._waiting:
            self.arrived.set()

    def take(self, limit: int) -> list[Claimed]:
        """Up to `limit` deliveries, oldest first."""
        count = min(limit, len(self._waiting))
        return [self._waiting.popleft() for _ in range(count)]
