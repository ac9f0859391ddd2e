"""What `GET /v1/children/...`, `GET /v1/audit` and `/v1/deliveries` answer: the documented response
schemas."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.assignments import ReferralPacket
from shared.contracts.deliveries import STATES, DeliveryState
from shared.contracts.voice import ActionCode, FindingsHeard, ReferralKind

SeenAs = Literal["ops", "responsible_authority", "host_authority", "police", "provider"]


class _View(BaseModel):
    model_config = ConfigDict(frozen=True)


class EpisodeView(_View):
    """One period the child was away, as the scheduler opened it."""

    episode_id: str
    placement_authority: str = Field(description="Where the child is placed, as most recently reported.")
    kind: Literal["missing", "away"]
    started_at: datetime
    risk_level: str = Field(description="The highest risk grade reported.")
    ended_at: datetime | None = None
    end_reason: Literal["returned", "cancelled", "left_care", "kind_changed"] | None = Field(
        None, description="returned; cancelled (every report of it withdrawn); left_care; kind_changed."
    )
    exploitation_indicators: list[str] = Field(default_factory=list)
    preferred_language: str | None = None


class AlertView(_View):
    """A safeguarding alert or an exhausted assignment, with its codes and numbers (never free text)."""

    episode_id: str
    type: str = Field(examples=["alert.exploitation", "assignment.exhausted"])
    raised_at: datetime
    details: dict[str, Any]


class TaskView(_View):
    """A return-interview task and how its 72-hour window is going."""

    task_id: str
    episode_id: str = Field(description="The episode whose window the deadline belongs to (the latest open).")
    episode_ids: list[str] = Field(default_factory=list, description="Every episode the task covers.")
    placement_authority: str
    returned_at: datetime
    offer_due_at: datetime
    risk_level: str | None
    exploitation_indicators: list[str]
    preferred_language: str | None
    warnings: list[str] = Field(description="Window warnings raised so far.")
    breached_at: datetime | None
    closed_reason: str | None = Field(
        None,
        description="Ended without an interview: not_offered, episode_cancelled, left_care or covered_by_interview (a later report showed an interview already held had covered its absences).",
    )


class AssignmentView(_View):
    """Who holds (or held) a task."""

    assignment_id: str
    provider_id: str
    task_id: str
    status: Literal["offered", "accepted", "declined", "expired", "withdrawn", "completed"]
    accept_by: datetime | None
    assigned_at: datetime | None
    updated_at: datetime
    reason: str | None


class ReferralView(_View):
    """What a provider holding an assignment may see (docs/domain.md rule 13)."""

    assignment_id: str
    status: Literal["offered", "accepted"]
    accept_by: datetime | None
    referral: ReferralPacket | None = Field(description="Null until the task itself has been read.")


class ActionTaken(_View):
    """One thing the council did, as its answer recorded it."""

    code: ActionCode
    referral_kind: ReferralKind | None = None
    reason: str | None = None


class AnswerView(_View):
    """The council's answer to what the child said (docs/domain.md rule 31)."""

    responded_at: datetime
    corrects: bool = Field(description="This answer corrects an earlier one.")
    child_told: bool = Field(description="The child was told what happens next.")
    actions: list[ActionTaken]


class FindingsView(_View):
    """What the child said in a return interview (docs/domain.md rule 30): the responsible authority's
    to read and answer."""

    findings_id: str
    assignment_id: str
    provider_id: str = Field(description="The provider that held the interview.")
    completed_at: datetime
    respond_by: datetime = Field(description="When the council's answer is due (docs/domain.md rule 31).")
    findings: FindingsHeard
    answers: list[AnswerView] = Field(
        default_factory=list, description="Oldest first; the first is the one counted."
    )


class NrmDecisionView(_View):
    """The responsible authority's National Referral Mechanism decision for an episode with signs of
    exploitation (docs/domain.md rule 34)."""

    episode_id: str
    decision: Literal["referred", "already_referred", "not_referred"]
    reason: str | None = Field(None, description="With not_referred: why, as a code.")
    decided_at: datetime


class ChildRecord(_View):
    """A child's record as the caller is entitled to see it."""

    child_ref: str
    responsible_authority: str
    seen_as: SeenAs = Field(description="Why the caller may see this record, which decides what it holds.")
    episodes: list[EpisodeView] = Field(default_factory=list)
    alerts: list[AlertView] = Field(default_factory=list)
    tasks: list[TaskView] = Field(default_factory=list)
    assignments: list[AssignmentView] = Field(default_factory=list)
    referrals: list[ReferralView] = Field(default_factory=list, description="Providers only.")
    findings: list[FindingsView] = Field(
        default_factory=list,
        description="The responsible authority only: what the child said in each interview, oldest first.",
    )
    nrm_decisions: list[NrmDecisionView] = Field(
        default_factory=list, description="The responsible authority only: its NRM decisions, oldest first."
    )


class AuditEntry(_View):
    """One read or write of a child's record."""

    seq: int
    at: datetime
    org_id: str
    api_key_id: str
    action: str = Field(examples=["write:missing.reported", "read:child"])
    child_key: str | None
    event_id: str | None


class AuditPage(_View):
    """The newest entries first; pass `next_before` as `before` for the next page."""

    items: list[AuditEntry]
    next_before: int | None


class DeliveryAttemptView(_View):
    """One attempt to deliver a webhook."""

    round: int = Field(description="0 for the first round of attempts, one more for each redelivery.")
    attempt: int = Field(description="The attempt's number within its round.")
    attempted_at: datetime
    status: int | None = Field(description="The receiver's HTTP status; null when there was none.")
    latency_ms: float
    error: str | None = Field(
        description="Why there was no answer, as a code.", examples=["timeout", "ClientConnectorError"]
    )
    state: DeliveryState = Field(description="The delivery's state after this attempt.")


class DeliveryView(_View):
    """One webhook sent to the caller's organisation, as the latest attempt left it. The body is not
    shown: it is the webhook the receiver was sent, identified by `webhook_id`."""

    webhook_id: str = Field(description="The `webhook-id` header the receiver saw.")
    event_type: str = Field(examples=["assignment.offered", "window.warning"])
    queued_at: datetime
    state: DeliveryState = Field(
        description="; ".join(f"`{state}`: {meaning}" for state, meaning in STATES.items())
    )
    next_attempt_at: datetime | None = Field(description="When the next attempt is due, while pending.")
    redelivery_requested_at: datetime | None = Field(
        description="When the organisation last asked for it again (`redeliver`)."
    )
    attempts: list[DeliveryAttemptView] = Field(description="Every attempt, oldest first, every round.")


class DeliveryPage(_View):
    """The newest deliveries first; pass `next_after` as `after` for the next page."""

    items: list[DeliveryView]
    next_after: str | None = Field(description="The last item's webhook id, when there may be more.")
