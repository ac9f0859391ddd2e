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
    preferred_language: Language | None = Field(None, description="Unstated is not English.")
    episode_ids: list[str] = Field(
        default_factory=list,
        description="Every episode the task covers: the one whose return opened it, and any returns an "
        "interview held before them could not cover (empty in events published before this field).",
    )


TaskChange = Literal[
    "episode_added", "deadline_moved", "risk_raised", "indicators_added", "host_changed", "language_stated"
]


class InterviewUpdated(TaskEvent):
    """An open task's referral changed: a new returned episode joined it, its deadline moved (an earlier
    return), or the risk, indicators, host authority or language did. The notifier tells the provider
    holding the task (`assignment.updated`) and routes it, if nobody holds it, against this window.
    `episode_id` is the episode whose window the deadline belongs to (the latest one still open)."""

    type_name: ClassVar[str] = "interview.updated"

    task_id: str
    episode_ids: list[str] = Field(description="Every episode the task covers, in the order they joined.")
    returned_at: Timestamp
    offer_due_at: Timestamp
    risk_level: RiskLevel
    exploitation_indicators: list[ExploitationIndicator] = Field(default_factory=list)
    preferred_language: Language | None = None
    changes: list[TaskChange] = Field(description="What changed since the task was last described.")


class InterviewClosed(TaskEvent):
    """A task ends without an interview: the responsible authority recorded it as not offered, every
    absence it covered was withdrawn as reported in error or ended because the child left care, or a
    report learnt later showed that an interview already held had covered its absences. The notifier
    withdraws any offer or assignment of it."""

    type_name: ClassVar[str] = "interview.closed"

    task_id: str
    reason: Literal["not_offered", "episode_cancelled", "left_care", "covered_by_interview"]
    closed_at: Timestamp


EpisodeChange = Literal[
    "report_added",
    "report_withdrawn",
    "kind_changed",
    "start_moved",
    "risk_raised",
    "indicators_added",
    "language_stated",
    "placement_changed",
    "returned",
    "return_moved",
    "cancelled",
    "left_care",
    "split",
]


class EpisodeChanged(TaskEvent):
    """An episode changed because of a report: returned, cancelled, its risk raised, its placement moved.
    The responsible authority is told when another organisation made the change; a host authority newly
    involved (`placement_changed`) is told too. The fields after `changes` are the episode as it stands."""

    type_name: ClassVar[str] = "episode.changed"

    by: str | None = Field(description="Directory id of the organisation whose report changed it.")
    changes: list[EpisodeChange]
    at: Timestamp = Field(description="The time of the report that changed it (its CloudEvent time).")
    previous_placement_authority: str | None = Field(
        None, description="With `placement_changed`: where the child was placed before."
    )
    kind: EpisodeKind
    started_at: Timestamp
    ended_at: Timestamp | None = None
    end_reason: Literal["returned", "cancelled", "left_care", "kind_changed"] | None = None
    returned_at: Timestamp | None = None
    risk_level: RiskLevel
    exploitation_indicators: list[ExploitationIndicator] = Field(default_factory=list)
    preferred_language: Language | None = None


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
    """A possible victim of exploitation: consider an NRM referral, do not criminalise. One alert for the
    indicators known when the episode first had any, then one for each indicator added later."""

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
    InterviewUpdated,
    InterviewClosed,
    EpisodeOpened,
    EpisodeChanged,
    WindowWarning,
    WindowBreached,
    HighRiskAlert,
    ExploitationAlert,
    RepeatMissingAlert,
    LongMissingAlert,
)
