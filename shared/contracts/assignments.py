"""Assignment facts from the notifier (topic `mtp.assignments.v1`) and provider webhooks."""

from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.common import (
    AuthorityCode,
    ChildEvent,
    ChildRef,
    EventData,
    ExploitationIndicator,
    Language,
    ReasonCode,
    RiskLevel,
    Timestamp,
)


class AssignmentFact(ChildEvent):
    """A change to who holds a return-interview task."""

    task_id: str
    assignment_id: str
    provider_id: str
    at: Timestamp


class AssignmentAssigned(AssignmentFact):
    """A provider was offered the task."""

    type_name: ClassVar[str] = "assignment.assigned"

    accept_by: Timestamp


class AssignmentAccepted(AssignmentFact):
    """The provider accepted."""

    type_name: ClassVar[str] = "assignment.accepted"


class AssignmentDeclined(AssignmentFact):
    """The provider declined."""

    type_name: ClassVar[str] = "assignment.declined"

    reason: ReasonCode


class AssignmentExpired(AssignmentFact):
    """The provider did not accept in time."""

    type_name: ClassVar[str] = "assignment.expired"


class AssignmentExhausted(ChildEvent):
    """No independent provider is left to ask: the council must act."""

    type_name: ClassVar[str] = "assignment.exhausted"

    task_id: str
    placement_authority: AuthorityCode
    episode_id: str
    at: Timestamp
    excluded: dict[str, str] = Field(
        default_factory=dict,
        description="Why each provider in the directory could not take it: provider id -> reason code "
        "(employed_by_responsible_authority, employed_by_police, does_not_cover_host_authority, "
        "no_welsh_interviews, endpoint_disabled, already_asked_for_this_task, at_capacity).",
    )


class ReferralPacket(EventData):
    """All a provider may know about a child (DOMAIN rule 13)."""

    child_ref: ChildRef
    responsible_authority: AuthorityCode
    placement_authority: AuthorityCode
    returned_at: Timestamp
    offer_due_at: Timestamp
    risk_level: RiskLevel
    exploitation_indicators: list[ExploitationIndicator] = Field(default_factory=list)
    preferred_language: Language = "en"
    coordinator_contact: str | None = Field(None, description="How to reach the council's coordinator.")


class AssignmentOffered(EventData):
    """Webhook to a provider: please take this return interview."""

    type_name: ClassVar[str] = "assignment.offered"

    assignment_id: str
    referral: ReferralPacket
    offer_due_at: Timestamp
    accept_by: Timestamp


class AssignmentWithdrawn(EventData):
    """Webhook to a provider: the assignment moved on."""

    type_name: ClassVar[str] = "assignment.withdrawn"

    assignment_id: str
    reason: ReasonCode


class InterviewSummary(ChildEvent):
    """Webhook to the responsible authority: how the return interview went (no free text)."""

    type_name: ClassVar[str] = "interview.completed"

    placement_authority: AuthorityCode
    episode_id: str
    task_id: str
    assignment_id: str
    provider_id: str
    completed_at: Timestamp
    outcome: Literal["completed", "child_declined", "unable_to_contact"]
    exploitation_indicators: list[ExploitationIndicator] = Field(
        default_factory=list, description="Indicators found in the interview: consider an NRM referral."
    )
    safeguarding_concern: bool = False


ASSIGNMENT_FACTS: tuple[type[ChildEvent], ...] = (
    AssignmentAssigned,
    AssignmentAccepted,
    AssignmentDeclined,
    AssignmentExpired,
    AssignmentExhausted,
)
