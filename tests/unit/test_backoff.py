"""The webhook retry schedule."""

import random
from datetime import UTC, datetime

from services.notifier.backoff import CEILING_SECONDS, parse_retry_after, retry_delay


def test_delays_grow_exponentially_within_jitter_bounds() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (9, 2560), (10, 3600), (20, 3600)]:
        delay = retry_delay(attempt, rng=rng)
        assert ceiling / 2 <= delay <= ceiling


def test_retry_after_is_honoured_up_to_the_ceiling() -> None:
    assert retry_delay(1, retry_after=120) == 120
    assert retry_delay(1, retry_after=10 * CEILING_SECONDS) == CEILING_SECONDS


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("Wed, 25 Nov 2026 12:01:00 GMT", now) == 60
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
