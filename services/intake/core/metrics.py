"""Intake's Prometheus metrics."""

from prometheus_client import Counter

EVENTS = Counter("mtp_intake_events_total", "Events received, by type and outcome.", ["type", "outcome"])
REJECTED = Counter("mtp_intake_rejected_total", "Requests refused, by HTTP status.", ["status"])
