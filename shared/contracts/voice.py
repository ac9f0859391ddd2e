"""The child's voice (docs/domain.md rules 30-36): what a child said in a completed return interview,
as codes and in their own words, and what reaches the responsible authority of it.

The codes are the contract's; the child's own words are special-category data: they travel only to
the responsible authority, and no log line, metric or dead-letter reason ever carries them.
"""

from datetime import datetime, timedelta
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.common import (
    AuthorityCode,
    ChildEvent,
    ExploitationIndicator,
    Identifier,
    ReasonCode,
    Timestamp,
)
from shared.contracts.tasks import TaskEvent

Reason = Literal[
    "placement_relationships",
    "wants_family_contact",
    "wants_friends",
    "placed_far_from_home",
    "school_or_bullying",
    "exploitation_pull",
    "substance_use",
    "mental_health",
    "rules_or_boundaries",
    "boredom",
    "other",
]
StayedWith = Literal[
    "friends", "family", "adult_unknown_to_carers", "street_or_public_place", "another_area", "would_not_say"
]
Harm = Literal["none_disclosed", "disclosed", "would_not_say"]
WouldHelp = Literal[
    "change_of_placement",
    "more_family_contact",
    "contact_with_friends",
    "school_support",
    "someone_to_talk_to",
    "substance_support",
    "mental_health_support",
    "nothing",
    "other",
]
PlacementView = Literal["stay", "move", "return_home_area", "unsure", "would_not_say"]
CHILD_WORDS_LIMIT = 2000


class Findings(BaseModel):
    """What the child said in a completed interview (docs/domain.md rule 30): codes, never names, and
    the child's own words. Only the responsible authority receives them."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    reasons: list[Reason] = Field(
        default_factory=list, max_length=11, description="Why the child went: push and pull factors."
    )
    stayed_with: list[StayedWith] = Field(
        default_factory=list,
        max_length=6,
        description="Where and with whom the child stayed, as kinds of place and person (never names).",
    )
    harm: Harm | None = Field(None, description="Whether the child disclosed harm while away.")
    would_help: list[WouldHelp] = Field(default_factory=list, max_length=9, description="What would help.")
    placement_view: PlacementView | None = Field(
        None,
        description="A child placed out of area: whether they want to stay where they live (docs/domain.md "
        "rule 33).",
    )
    # Never in a repr: a model printed into a log or a traceback does not carry the child's words.
    child_words: str | None = Field(
        None,
        max_length=CHILD_WORDS_LIMIT,
        pattern=r"^[^\x00]*$",  # any text a child says; PostgreSQL keeps no NUL character
        repr=False,
        description="The child's own words, as they said them, in any language (at most 2,000 characters). "
        "Read by the responsible authority only.",
    )


class FindingsHeard(Findings):
    """The findings as the responsible authority receives them (`interview.findings`): the same codes
    and words the provider recorded."""


def findings_id_of(assignment_id: str) -> str:
    """The id of the findings an interview recorded: one completed interview per assignment, so every
    service names them alike without asking another."""
    return f"findings-{assignment_id}"


def respond_by(completed_at: datetime, response_days: float) -> datetime:
    """When the responsible authority's response to findings is due (docs/domain.md rule 31)."""
    return completed_at + timedelta(days=response_days)


class InterviewFindings(ChildEvent):
    """Webhook to the responsible authority only: what the child said in the return interview
    (docs/domain.md rule 30), to be answered by `respond_by` (rule 31)."""

    type_name: ClassVar[str] = "interview.findings"

    placement_authority: AuthorityCode
    episode_id: str
    task_id: str
    assignment_id: str
    provider_id: str
    findings_id: str = Field(description="Name it in the response (`findings.responded`).")
    completed_at: Timestamp
    respond_by: Timestamp = Field(description="When the council's response is due.")
    findings: FindingsHeard


ActionCode = Literal[
    "care_plan_reviewed",
    "placement_meeting",
    "family_contact_changed",
    "referral_made",
    "support_offered",
    "no_action",
]
ReferralKind = Literal["camhs", "substance_misuse", "nrm", "education", "other"]


class _Action(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class ActionDone(_Action):
    """Something the council did about what the child said (docs/domain.md rule 31)."""

    code: Literal["care_plan_reviewed", "placement_meeting", "family_contact_changed", "support_offered"]


class ReferralMade(_Action):
    """A referral the council made, and to whom."""

    code: Literal["referral_made"]
    referral_kind: ReferralKind


class NoAction(_Action):
    """The council did nothing, and says why as a code."""

    code: Literal["no_action"]
    reason: ReasonCode


# One of them, told apart by `code`.
Action = Annotated[ActionDone | ReferralMade | NoAction, Field(discriminator="code")]


class FindingsResponded(ChildEvent):
    """The responsible authority's answer to what the child said (docs/domain.md rule 31): what it did,
    and whether the child was told what happens next. A second answer to the same findings says it
    corrects the first; both are kept, and the first's time is the one counted."""

    type_name: ClassVar[str] = "findings.responded"

    findings_id: Identifier = Field(description="From `interview.findings`.")
    responded_at: Timestamp
    actions: list[Action] = Field(min_length=1, max_length=10)
    child_told: bool = Field(description='The child was told what happens next ("you said, we did").')
    corrects: bool = Field(False, description="This answer corrects an earlier one to the same findings.")


class FindingsResponseDue(TaskEvent):
    """Reminder to the responsible authority: what a child said is not answered yet, and is due soon
    (docs/domain.md rule 31)."""

    type_name: ClassVar[str] = "findings.response_due"

    findings_id: str
    completed_at: Timestamp = Field(description="When the interview was held.")
    respond_by: Timestamp


class FindingsResponseOverdue(TaskEvent):
    """What a child said was not answered in time: to the responsible authority and its senior manager
    (docs/domain.md rule 31). An answer that comes later is recorded as late."""

    type_name: ClassVar[str] = "findings.response_overdue"

    findings_id: str
    completed_at: Timestamp = Field(description="When the interview was held.")
    respond_by: Timestamp


class EarlierInterview(BaseModel):
    """An earlier interview in which the child gave the same reason, and what was done about it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    findings_id: str
    completed_at: Timestamp
    answered_at: Timestamp | None = Field(
        None, description="The council's first answer; null when none was recorded."
    )
    actions: list[ActionCode] = Field(default_factory=list, description="What that answer said was done.")


class SaidAgainAlert(TaskEvent):
    """The child has given the same reason for going in another interview (docs/domain.md rule 32):
    the count within the period reached the council's setting. Once per reason per interview."""

    type_name: ClassVar[str] = "alert.said_again"

    findings_id: str = Field(description="The interview that reached the count.")
    reason: Reason
    count: int = Field(description="Interviews giving this reason within the period, this one included.")
    within_days: int
    earlier: list[EarlierInterview] = Field(description="The earlier ones, oldest first, and their answers.")
    raised_at: Timestamp


class PlacementReviewRequested(TaskEvent):
    """A child placed out of area wants to move or to go back to their home area (docs/domain.md rule
    33): a review of the placement that hears the child is asked of the responsible authority."""

    type_name: ClassVar[str] = "placement.review_requested"

    findings_id: str
    placement_view: Literal["move", "return_home_area"]
    completed_at: Timestamp = Field(description="When the interview was held.")
    raised_at: Timestamp


class VictimArrestedAlert(TaskEvent):
    """A child with signs of exploitation in the episode was arrested on coming back (docs/domain.md rule
    34): a possible victim treated as an offender. Consider a National Referral Mechanism referral and
    the Modern Slavery Act section 45 defence."""

    type_name: ClassVar[str] = "alert.victim_arrested"

    indicators: list[ExploitationIndicator]
    returned_at: Timestamp
    raised_at: Timestamp


NrmDecision = Literal["referred", "already_referred", "not_referred"]


class NrmDecided(ChildEvent):
    """The responsible authority's National Referral Mechanism decision for an episode with signs of
    exploitation (docs/domain.md rule 34); `not_referred` says why, as a code."""

    type_name: ClassVar[str] = "nrm.decided"

    episode_id: Identifier = Field(description="From `episode.opened`.")
    decision: NrmDecision
    reason: ReasonCode | None = Field(None, description="With `not_referred` only: why, as a code.")
    decided_at: Timestamp


class NrmDecisionDue(TaskEvent):
    """An episode with signs of exploitation has no NRM decision recorded in the response time
    (docs/domain.md rule 34): to the responsible authority."""

    type_name: ClassVar[str] = "nrm.decision_due"

    indicators: list[ExploitationIndicator]
    due_at: Timestamp


# What councils send about the child's voice (topic `mtp.episodes.v1`, beside their reports), and what
# the scheduler publishes of it (`mtp.tasks.v1`): to the responsible authority only.
VOICE_REPORTS: tuple[type[ChildEvent], ...] = (FindingsResponded, NrmDecided)
VOICE_NOTICES: tuple[type[TaskEvent], ...] = (
    FindingsResponseDue,
    FindingsResponseOverdue,
    SaidAgainAlert,
    PlacementReviewRequested,
    VictimArrestedAlert,
    NrmDecisionDue,
)
