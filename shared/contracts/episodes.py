"""Episode events, reported by police forces and local authorities (topic `mtp.episodes.v1`)."""

from typing import ClassVar, Self

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
    preferred_language: Language = "en"
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


class Returned(ChildEvent):
    """The child was found or came back."""

    type_name: ClassVar[str] = "missing.returned"

    returned_at: Timestamp


class Cancelled(ChildEvent):
    """The report was made in error, or the child left care: the open episode closes."""

    type_name: ClassVar[str] = "missing.cancelled"

    reason: ReasonCode


EPISODE_EVENTS: tuple[type[ChildEvent], ...] = (MissingReported, RiskChanged, Returned, Cancelled)
