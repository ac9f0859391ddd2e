"""Episode events, reported by police forces and local authorities (topic `mtp.episodes.v1`)."""

from typing import ClassVar, Literal, Self

from pydantic import Field, model_validator

from shared.contracts.common import (
    AuthorityCode,
    ChildEvent,
    EpisodeKind,
    ExploitationIndicator,
    Identifier,
    Language,
    ReasonCode,
    RiskLevel,
    Timestamp,
)


class MissingReported(ChildEvent):
    """A child is missing or away from placement."""

    type_name: ClassVar[str] = "missing.reported"

    placement_authority: AuthorityCode = Field(description="The host authority where the child is placed.")
    kind: EpisodeKind
    missing_since: Timestamp = Field(description="When the child left placement or was last seen.")
    risk_level: RiskLevel
    exploitation_indicators: list[ExploitationIndicator] = Field(default_factory=list, max_length=5)
    preferred_language: Language | None = Field(
        None,
        description="The child's preferred language, when the reporter knows it. Unstated is not English: "
        "a Welsh preference from any report of the absence stands (the Welsh Active Offer).",
    )
    police_force: Identifier | None = Field(None, description="Directory id of the police force.")
    police_reference: Identifier | None = None
    reported_to_police: bool = True
    not_reported_reason: ReasonCode | None = None

    @model_validator(mode="after")
    def _police_or_reason(self) -> Self:
        if self.reported_to_police:
            if not (self.police_force and self.police_reference):
                raise ValueError(
                    "police_force and police_reference are required unless reported_to_police is false"
                )
        elif not self.not_reported_reason:
            raise ValueError("not_reported_reason is required when reported_to_police is false")
        return self


class RiskChanged(ChildEvent):
    """The police risk grade or exploitation indicators changed during an episode."""

    type_name: ClassVar[str] = "missing.risk_changed"

    risk_level: RiskLevel
    exploitation_indicators: list[ExploitationIndicator] = Field(default_factory=list, max_length=5)
    changed_at: Timestamp | None = Field(None, description="When the grade changed; defaults to event time.")


HowReturned = Literal[
    "came_back_self",
    "found_by_police",
    "found_by_carer_or_family",
    "arrested",
    "detained_for_own_safety",
    "other",
]


class Returned(ChildEvent):
    """The child was found or came back."""

    type_name: ClassVar[str] = "missing.returned"

    returned_at: Timestamp
    how_returned: HowReturned | None = Field(
        None,
        description="How the child came back (docs/domain.md rule 34): a child with signs of exploitation "
        "who was arrested is a possible victim treated as an offender.",
    )


class Cancelled(ChildEvent):
    """The sender withdraws its own report(s) of an absence, or the responsible authority says the child
    left care. An absence ends as cancelled only when none of its reports stands."""

    type_name: ClassVar[str] = "missing.cancelled"

    reason: ReasonCode = Field(
        description="`reported_in_error` (withdraws the sender's report), or `left_care` (the responsible "
        "authority only: the child is no longer in its care, the open absence ends)."
    )
    report_id: Identifier | None = Field(
        None,
        description="The event id of the sender's own `missing.reported` it withdraws; without it, the "
        "sender's reports of the child's open absence.",
    )


class InterviewNotOffered(ChildEvent):
    """The responsible authority records that an episode's return interview will not be offered, with a
    reason code: the episode's window closes as not offered, and is counted as such in the figures."""

    type_name: ClassVar[str] = "interview.not_offered"

    episode_id: str = Field(
        min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$", description="From `episode.opened`."
    )
    reason: ReasonCode = Field(description="Why, as a code: e.g. child_moved_abroad, child_in_custody.")


EPISODE_EVENTS: tuple[type[ChildEvent], ...] = (
    MissingReported,
    RiskChanged,
    Returned,
    Cancelled,
    InterviewNotOffered,
)
