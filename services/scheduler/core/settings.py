"""Scheduler settings (`MTP_*`)."""

from pydantic import Field

from shared.settings import CommonSettings


class SchedulerSettings(CommonSettings):
    """Where the scheduler serves health and metrics, and how it works its timers."""

    scheduler_port: int = Field(8001, description="HTTP port for /healthz, /readyz and /metrics.")
    timer_batch: int = Field(500, ge=1, description="Most timers claimed in one transaction.")
    timer_poll_seconds: float = Field(1.0, gt=0, description="Longest sleep between looks at due timers.")
    timer_lease_seconds: float = Field(
        30.0,
        gt=0,
        description="How long a silent instance keeps its claimed timers before another takes them.",
    )
    figures_interval_seconds: float = Field(
        60.0,
        gt=0,
        description="How often the authorities' figures are counted again and published when they may "
        "have changed (the senior manager's page shows them as of that moment).",
    )
    voice_poll_seconds: float = Field(
        5.0,
        gt=0,
        description="Longest sleep between looks at the reminders and overdue notices of what children said "
        "(docs/domain.md rule 31) that are due.",
    )
