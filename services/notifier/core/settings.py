"""Notifier settings (`MTP_*`)."""

from pydantic import Field

from services.notifier.webhooks.backoff import MAX_ATTEMPTS
from shared.settings import CommonSettings


class NotifierSettings(CommonSettings):
    """Where the notifier serves health and metrics, and how it delivers webhooks."""

    notifier_port: int = Field(8002, description="HTTP port for /healthz, /readyz and /metrics.")
    webhook_timeout_seconds: float = Field(10.0, gt=0, description="A 2xx within this time is success.")
    delivery_concurrency: int = Field(64, ge=1, description="Webhook deliveries in flight per instance.")
    delivery_poll_seconds: float = Field(
        1.0, gt=0, description="Longest sleep between looks at due deliveries."
    )
    retry_base_seconds: float = Field(10.0, gt=0, description="First retry delay; doubles per attempt.")
    max_delivery_attempts: int = Field(
        MAX_ATTEMPTS, ge=1, description="Attempts before a delivery is parked as failed."
    )
    webhook_allow_http_loopback: bool = Field(
        False, description="Allow plain http to loopback addresses (the embedded default sets it)."
    )
    webhook_allow_private_networks: bool = Field(
        False, description="Allow webhook URLs on private (RFC 1918) addresses."
    )
    webhook_allow_http_hosts: list[str] = Field(
        default_factory=list,
        description="Host names that may be called over plain http (e.g. a compose service).",
    )
    acceptance_poll_seconds: float = Field(
        2.0, gt=0, description="Longest sleep between looks for offers past their acceptance deadline."
    )
    exhausted_retry_seconds: float = Field(
        60.0,
        gt=0,
        description="How often tasks nobody could take (every eligible provider full) are offered again "
        "while their window is open, so a place that frees up is used.",
    )
    response_body_limit: int = Field(4096, description="Bytes of a receiver's answer read at most.")
