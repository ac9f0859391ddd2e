"""Intake settings (`MTP_*`)."""

from pydantic import Field

from shared.settings import CommonSettings


class IntakeSettings(CommonSettings):
    """Where intake listens and what it accepts."""

    intake_port: int = Field(8000, description="HTTP port of the intake API.")
    intake_metrics_port: int = Field(
        8003,
        description="HTTP port of intake's /metrics, apart from the API: for Prometheus on the operations "
        "network only, never published beside the API.",
    )
    max_body_bytes: int = Field(1024 * 1024, description="Largest request body accepted.")
    max_batch: int = Field(500, description="Most events in one batch request.")
    clock_skew_seconds: float = Field(300, description="How far in the future a timestamp may be.")
    assignment_wait_seconds: float = Field(
        3.0,
        ge=0,
        description="How long a provider's report on an assignment intake has not heard of yet waits "
        "for it (an offer answered at once can be ahead of intake) before it is refused.",
    )
    asyncapi_servers: str = Field(
        "",
        description="Brokers the AsyncAPI document at /docs/asyncapi names as its servers (comma-separated "
        "host:port). Empty: none, so public documentation names no internal host.",
    )
