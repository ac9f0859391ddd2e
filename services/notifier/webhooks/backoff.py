"""When to try a failed webhook delivery again.

Exponential from 10 s, doubling to a ceiling of one hour, with jitter in the upper half of each step
so a recovering endpoint is not hit by every waiting delivery at once; a receiver's `Retry-After` is
honoured when it asks for longer (within the ceiling), never to retry sooner. Most failures are short (a deploy, a restart): the first retries come
within seconds and minutes. A longer outage gets one try an hour, so a council endpoint that is down
overnight still receives its alerts in the morning: 30 attempts span about 16 hours (at most 21).
Then the delivery is parked as `failed` for an operator's replay. Offers need less: the acceptance
timer moves a task to the next provider after the acceptance timeout (4 h by default) regardless.
"""

import random
from datetime import datetime, timedelta

BASE_SECONDS = 10.0
CEILING_SECONDS = 3600.0
MAX_ATTEMPTS = 30


def retry_delay(
    attempt: int,
    retry_after: float | None = None,
    rng: random.Random | None = None,
    base: float = BASE_SECONDS,
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based). A receiver's `Retry-After` can
    only make the wait longer: a short one, repeated, would spend every attempt in minutes."""
    top = ceiling(attempt, base)
    delay = (rng or random).uniform(top / 2, top)
    if retry_after is not None and retry_after > delay:
        delay = min(retry_after, CEILING_SECONDS)
    return delay


def ceiling(attempt: int, base: float = BASE_SECONDS) -> float:
    """The longest wait after failed attempt number `attempt`; the jitter draws from its upper half."""
    return min(base * 2.0 ** (attempt - 1), CEILING_SECONDS)


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
