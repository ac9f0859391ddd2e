"""Assignment facts from the notifier (topic `mtp.assignments.v1`) and provider webhooks."""

import uuid
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

_ASSIGNMENT_NAMESPACE = uuid.UUID("5d0e3f4a-9b61-4f3c-a2de-7c9b1e0d4a11")


def assignment_id(task_id: str, provider_id: str) -> str:
    """One assignment per task and provider, the same id wherever it is computed: a provider's report
    names its assignment, and so the task it is about."""
    return str(uuid.uuid5(_ASSIGNMENT_NAMESPACE, f"{task_id}|{provider_id}"))


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


# AssignmentClosed's reason when the provider reported the interview held (or attempted): its work is done.
INTERVIEW_COMPLETED = "interview_completed"


class AssignmentClosed(AssignmentFact):
    """The assignment ended: the task ended without the provider (not offered, every absence withdrawn:
    its offer or assignment is withdrawn), or the provider reported the interview (`reason`
    interview_completed). Either way the provider no longer holds it."""

    type_name: ClassVar[str] = "assignment.closed"

    reason: ReasonCode


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
    """All a provider may know about a child (docs/domain.md rule 13)."""

    child_ref: ChildRef
    responsible_authority: AuthorityCode
    placement_authority: AuthorityCode
    returned_at: Timestamp
    offer_due_at: Timestamp
    risk_level: RiskLevel
    exploitation_indicators: list[ExploitationIndicator] = Field(default_factory=list)
    preferred_language: Language | None = Field(
        None, description="`cy`: interview in Welsh. Unstated is not English: offer Welsh unasked."
    )
    coordinator_contact: str | None = Field(None, description="How to reach the council's coordinator.")


class AssignmentOffered(EventData):
    """Webhook to a provider: please take this return interview."""

    type_name: ClassVar[str] = "assignment.offered"

    assignment_id: str
    referral: ReferralPacket
    offer_due_at: Timestamp
    accept_by: Timestamp


class AssignmentUpdated(EventData):
    """Webhook to the provider holding an assignment: the child went missing again and came back (a new
    window joined the task), or the deadline, risk, indicators, host authority or language changed."""

    type_name: ClassVar[str] = "assignment.updated"

    assignment_id: str
    referral: ReferralPacket
    offer_due_at: Timestamp = Field(description="The deadline of the latest open window: offer by then.")
    changes: list[str] = Field(
        description="episode_added, deadline_moved, risk_raised, indicators_added, host_changed, language_stated"
    )


class AssignmentWithdrawn(EventData):
    """Webhook to a provider: the assignment moved on or the task ended."""

    type_name: ClassVar[str] = "assignment.withdrawn"

    assignment_id: str
    reason: ReasonCode = Field(
        description="declined_by_provider, acceptance_timeout, not_offered (the council recorded it), "
        "episode_cancelled (reported in error), left_care, covered_by_interview (a later report showed an "
        "interview already held had covered the absence)"
    )


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
    AssignmentClosed,
    AssignmentExhausted,
)
