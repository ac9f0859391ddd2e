"""The notifier's Prometheus metrics."""

from prometheus_client import Counter, Histogram

DELIVERIES = Counter("mtp_notifier_deliveries_total", "Webhook delivery attempts by outcome.", ["outcome"])
DELIVERY_SECONDS = Histogram(
    "mtp_notifier_delivery_seconds",
    "Webhook round-trip time.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
