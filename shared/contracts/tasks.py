"""What the scheduler asks of the notifier (topic `mtp.tasks.v1`), and what councils receive."""

from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.common import (
    AuthorityCode,
    ChildEvent,
    EpisodeKind,
    ExploitationIndicator,
    Language,
    RiskLevel,
    Timestamp,
)


class TaskEvent(ChildEvent):
    """Every task names the child, both authorities and the episode."""

    placement_authority: AuthorityCode
    episode_id: str = Field(description="The scheduler's episode id.")


class InterviewRequested(TaskEvent):
    """A return-interview task opened: the notifier finds an independent provider."""

    type_name: ClassVar[str] = "interview.requested"

    task_id: str
    returned_at: Timestamp
    offer_due_at: Timestamp = Field(description="returned_at + the interview window (72 h by default).")
    risk_level: RiskLevel
    exploitation_indicators: list[ExploitationIndicator] = Field(default_factory=list)
    preferred_language: Language = "en"


class EpisodeOpened(TaskEvent):
    """A new episode: out-of-area children notify the host authority too."""

    type_name: ClassVar[str] = "episode.opened"

    kind: EpisodeKind
    started_at: Timestamp
    risk_level: RiskLevel


class WindowWarning(TaskEvent):
    """The return-interview window is running out."""

    type_name: ClassVar[str] = "window.warning"

    task_id: str
    returned_at: Timestamp
    offer_due_at: Timestamp
    stage: Literal["no_provider_accepted", "no_offer_made"]
    late: bool = Field(
        False,
        description="Published more than a minute after its moment (the scheduler was down or the news came late).",
    )


class WindowBreached(TaskEvent):
    """No interview was offered within the window: the coordinator and senior manager are told."""

    type_name: ClassVar[str] = "window.breached"

    task_id: str
    returned_at: Timestamp
    offer_due_at: Timestamp
    breached_at: Timestamp
    late: bool = Field(
        False,
        description="Published more than a minute after its moment (the scheduler was down or the news came late).",
    )


class HighRiskAlert(TaskEvent):
    """A `high` risk grade: a strategy discussion is expected."""

    type_name: ClassVar[str] = "alert.high_risk"

    raised_at: Timestamp


class ExploitationAlert(TaskEvent):
    """A possible victim of exploitation: consider an NRM referral, do not criminalise."""

    type_name: ClassVar[str] = "alert.exploitation"

    indicators: list[ExploitationIndicator]
    source: Literal["police", "interview"]
    raised_at: Timestamp


class RepeatMissingAlert(TaskEvent):
    """N episodes within D days: a multi-agency review (placement review when out of area)."""

    type_name: ClassVar[str] = "alert.repeat_missing"

    episodes_in_period: int
    period_days: int
    raised_at: Timestamp


class LongMissingAlert(TaskEvent):
    """An episode open longer than a configured threshold."""

    type_name: ClassVar[str] = "alert.long_missing"

    hours_missing: float
    raised_at: Timestamp
    late: bool = Field(
        False,
        description="Published more than a minute after its moment (the scheduler was down or the news came late).",
    )


TASK_EVENTS: tuple[type[TaskEvent], ...] = (
    InterviewRequested,
    EpisodeOpened,
    WindowWarning,
    WindowBreached,
    HighRiskAlert,
    ExploitationAlert,
    RepeatMissingAlert,
    LongMissingAlert,
)
