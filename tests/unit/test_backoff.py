"""The webhook retry schedule."""

import random
from datetime import UTC, datetime

from services.notifier.webhooks import backoff
from services.notifier.webhooks.backoff import CEILING_SECONDS, MAX_ATTEMPTS, parse_retry_after, retry_delay


def test_delays_grow_exponentially_within_jitter_bounds() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (9, 2560), (10, 3600), (20, 3600)]:
        delay = retry_delay(attempt, rng=rng)
        assert ceiling / 2 <= delay <= ceiling


def test_retry_after_is_honoured_up_to_the_ceiling() -> None:
    assert retry_delay(1, retry_after=120) == 120
    assert retry_delay(1, retry_after=10 * CEILING_SECONDS) == CEILING_SECONDS


def test_a_short_retry_after_never_spends_the_attempts_faster_than_the_back_off() -> None:
    """An endpoint in maintenance answering 503 with Retry-After: 5 still gets ~16 hours of attempts."""
    rng = random.Random(7)
    delays = [retry_delay(attempt, retry_after=5, rng=rng) for attempt in range(1, MAX_ATTEMPTS)]
    assert all(delay >= backoff.ceiling(attempt) / 2 for attempt, delay in enumerate(delays, start=1))
    assert sum(delays) > 10 * 3600
    assert retry_delay(12, retry_after=0, rng=rng) >= backoff.ceiling(12) / 2


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("Wed, 25 Nov 2026 12:01:00 GMT", now) == 60
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


def test_the_whole_schedule_covers_an_overnight_outage() -> None:
    waits = [backoff.ceiling(attempt) for attempt in range(1, MAX_ATTEMPTS)]
    longest = sum(waits) / 3600
    assert 21 < longest < 22  # every wait at its ceiling
    assert 10 < longest / 2 < 11  # every wait at its floor
    assert sum(waits[:3]) < 90  # a restart's worth of failure is retried within about a minute
