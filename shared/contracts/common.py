"""Value types shared by the event contracts."""

from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

AUTHORITY_PATTERN = r"^[EWSN][0-9]{8}$"
AuthorityCode = Annotated[
    str,
    Field(
        pattern=AUTHORITY_PATTERN,
        description="ONS code of a local authority.",
        examples=["W06000015", "E08000025"],
    ),
]
ChildRef = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        description="Pseudonymous child reference issued by the responsible authority; never a name.",
        examples=["C-7f3a9e"],
    ),
]
Identifier = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:/-]+$")]
ReasonCode = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,63}$",
        description="A reason code (snake_case), never free text.",
        examples=["reported_in_error"],
    ),
]
Timestamp = Annotated[AwareDatetime, Field(description="RFC 3339 time with an offset.")]

RiskLevel = Literal["no_apparent_risk", "low", "medium", "high"]
ExploitationIndicator = Literal["cce", "county_lines", "cse", "trafficking", "other"]
Language = Literal["en", "cy"]
EpisodeKind = Literal["missing", "away"]


class EventData(BaseModel):
    """Base of every event payload: immutable. A field it does not know is ignored when read, so a
    consumer not yet upgraded still reads an event that carries a newer optional field (adding one is
    the contract's compatible change); intake refuses unknown fields from senders, who need the error."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type_name: ClassVar[str] = ""


class ChildEvent(EventData):
    """An event about one child, keyed on Kafka by `<responsible_authority>/<child_ref>`."""

    child_ref: ChildRef
    responsible_authority: AuthorityCode

    @property
    def child_key(self) -> str:
        """The Kafka key: one child's events stay in order on one partition."""
        return child_key(self.responsible_authority, self.child_ref)


def child_key(responsible_authority: str, child_ref: str) -> str:
    """Return the key that identifies a child across the system."""
    return f"{responsible_authority}/{child_ref}"
