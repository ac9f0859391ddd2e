"""When to try a failed webhook delivery again.

Exponential from 10 s, doubling to a ceiling of one hour, with full jitter in the upper half so a
recovering endpoint is not hit by every delivery at once; a receiver's `Retry-After` is honoured
(within the ceiling). Twelve attempts span about eight hours: a provider's endpoint down overnight
still gets the offer in the morning, while the scheduler's warnings keep the council informed.
"""

import random
from datetime import datetime, timedelta

BASE_SECONDS = 10.0
CEILING_SECONDS = 3600.0
MAX_ATTEMPTS = 12


def retry_delay(
    attempt: int,
    retry_after: float | None = None,
    rng: random.Random | None = None,
    base: float = BASE_SECONDS,
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based)."""
    if retry_after is not None and retry_after >= 0:
        return min(retry_after, CEILING_SECONDS)
    ceiling = min(base * 2 ** (attempt - 1), CEILING_SECONDS)
    return (rng or random).uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Read a Retry-After header: seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from email.utils import parsedate_to_datetime  # rarely needed

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - now) / timedelta(seconds=1), 0.0)
