"""The scheduler's Prometheus metrics."""

from prometheus_client import Histogram

TIMER_LAG = Histogram(
    "mtp_scheduler_timer_fire_lag_seconds",
    "How late timers fire after their due time.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600),
)
