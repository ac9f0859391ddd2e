"""Interview reports from providers (topic `mtp.interviews.v1`)."""

from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.common import EventData, ExploitationIndicator, ReasonCode, Timestamp
from shared.contracts.voice import Findings


class InterviewEvent(EventData):
    """An event about an assignment a provider holds."""

    assignment_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$", description="From `assignment.offered`."
    )


class InterviewAccepted(InterviewEvent):
    """The provider takes the assignment."""

    type_name: ClassVar[str] = "interview.accepted"


class InterviewDeclined(InterviewEvent):
    """The provider cannot take the assignment."""

    type_name: ClassVar[str] = "interview.declined"

    reason: ReasonCode


class InterviewOffered(InterviewEvent):
    """The provider offered the child an interview: the duty of the 72-hour window."""

    type_name: ClassVar[str] = "interview.offered"

    offered_at: Timestamp


class InterviewCompleted(InterviewEvent):
    """The interview happened, or could not: the task ends. Only `completed` shows that the child was
    offered an interview; `unable_to_contact` is an attempt and `child_declined` follows an offer that
    is reported with `interview.offered`."""

    type_name: ClassVar[str] = "interview.completed"

    completed_at: Timestamp
    outcome: Literal["completed", "child_declined", "unable_to_contact"]
    decline_reason: ReasonCode | None = Field(
        None, description="Why the child declined, as a code (with `child_declined` only)."
    )
    exploitation_indicators: list[ExploitationIndicator] = Field(default_factory=list, max_length=5)
    safeguarding_concern: bool = False
    findings: Findings | None = Field(
        None,
        description="What the child said (with `completed` only): why they went, where they stayed, what "
        "would help, their own words. Sent to the responsible authority alone (docs/domain.md rule 30).",
    )


INTERVIEW_EVENTS: tuple[type[InterviewEvent], ...] = (
    InterviewAccepted,
    InterviewDeclined,
    InterviewOffered,
    InterviewCompleted,
)
