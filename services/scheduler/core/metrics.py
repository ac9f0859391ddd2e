"""The scheduler's Prometheus metrics."""

from prometheus_client import Counter, Gauge, Histogram

TIMER_LAG = Histogram(
    "mtp_scheduler_timer_fire_lag_seconds",
    "How late timers fire after their due time.",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60, 600, 3600),
)
TIMERS_PENDING = Gauge("mtp_scheduler_timers_pending", "Timers waiting to fall due (refreshed every 10 s).")
EVENTS_PUBLISHED = Counter(
    "mtp_scheduler_events_published_total",
    "Tasks, warnings, breaches and alerts published, by type (window.breached counts breaches).",
    ["type", "late"],
)
SETTLE_CPU = Counter(
    "mtp_scheduler_settle_cpu_seconds_total",
    "CPU time spent settling children: folding their new events and fired timers from their kept state "
    "and writing what that decided (with what else ran in the process meanwhile).",
)
EVENTS_TAKEN_IN = Counter(
    "mtp_scheduler_events_taken_in_total", "Events added to children's histories (repeats not counted)."
)
