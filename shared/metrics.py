"""Prometheus metrics of the shared plumbing: consumers, dead letters and outboxes."""

import platform
from importlib import metadata

from prometheus_client import Counter, Gauge, Histogram, Info

CONSUMER_LAG = Gauge(
    "mtp_consumer_lag_messages", "Messages on a topic not yet handled by the group.", ["group", "topic"]
)
MESSAGES_HANDLED = Counter(
    "mtp_messages_handled_total", "Messages handled, by group and topic.", ["group", "topic"]
)
BATCH_SECONDS = Histogram(
    "mtp_batch_seconds",
    "Time to handle one batch of messages (one transaction).",
    ["group"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
DEAD_LETTERS = Counter("mtp_dead_letters_total", "Messages sent to a dead-letter topic.", ["topic", "reason"])
OUTBOX_BACKLOG = Gauge("mtp_outbox_backlog", "Outbox rows waiting to be published.", ["schema"])
OUTBOX_PUBLISHED = Counter("mtp_outbox_published_total", "Outbox rows published to Kafka.", ["schema"])
BUILD = Info("mtp_build", "The running service's release and Python version (value always 1).", ["service"])


def record_build(service: str) -> None:
    """Say which release this process runs (`mtp_build_info{service,version,python}`)."""
    BUILD.labels(service=service).info(
        {"version": metadata.version("missing-the-point"), "python": platform.python_version()}
    )
