"""Who may send what (docs/domain.md rules 20 and 25), and which authorities exist: pure, no I/O.
What intake knows that the checks need is gathered first (store/facts.py); `decide` rules on it."""

from collections.abc import Set
from dataclasses import dataclass
from typing import Any

from shared.contracts.common import ChildEvent, EventData
from shared.contracts.episodes import Cancelled, InterviewNotOffered
from shared.contracts.interviews import InterviewEvent
from shared.contracts.voice import FindingsResponded, NrmDecided
from shared.directory import Directory, Organisation

LEFT_CARE = "left_care"
ALREADY_ANSWERED = (
    "These findings have been answered already: to correct the answer, send it again with corrects: true "
    "(both are kept)."
)


@dataclass(frozen=True)
class Facts:
    """What intake knows that one event's checks need; an event is given only the facts of its kind."""

    # An interview report from a provider: the child of the assignment the provider holds now, or of
    # the report it already sent under this id (a retry of an answer it lost); None if neither.
    holding: str | None = None
    # A cancellation: the ids of the missing reports this organisation has sent about the child.
    own_reports: frozenset[str] = frozenset()
    # An interview recorded as not offered: whether the read model knows the episode it names.
    episode_known: bool = True
    # An answer to findings: whether the child has those findings, and whether they have a first answer.
    findings_known: bool = True
    answered: bool = False


@dataclass(frozen=True)
class Refusal:
    """The organisation may not send this event (and, where it helps, why)."""

    reason: str = ""


@dataclass(frozen=True)
class Unknown:
    """The event names something of the child's that does not exist."""

    reason: str


@dataclass(frozen=True)
class Conflicting:
    """The event contradicts what intake already holds (a second first answer to the same findings)."""

    reason: str


def decide(
    org: Organisation,
    data: EventData,
    facts: Facts,
    directory: Directory,
    prefix: tuple[str | int, ...],
    reported_earlier: Set[str] = frozenset(),
) -> str | Refusal | Unknown | Conflicting | list[dict[str, Any]]:
    """The child key the event travels under if this organisation may send it; a Refusal if it may
    not; Unknown if it names an episode or findings the child does not have; Conflicting if it answers
    findings already answered without saying it corrects the answer; the errors if it names an
    authority there is not. `reported_earlier`: the ids of missing reports about the child earlier in the same
    request (a cancellation may withdraw them)."""
    held = (
        frozenset({data.assignment_id}) if isinstance(data, InterviewEvent) and facts.holding else frozenset()
    )
    if not may_send(org, data, held):
        return Refusal()
    if isinstance(data, Cancelled):
        refusal = withdrawal_refused(org, data, facts.own_reports | reported_earlier)
        if refusal is not None:
            return Refusal(refusal)
    if isinstance(data, InterviewNotOffered | NrmDecided) and not facts.episode_known:
        return Unknown("No episode of this child has the episode_id given (use the id from episode.opened).")
    if isinstance(data, FindingsResponded):
        if not facts.findings_known:
            return Unknown(
                "This child has no findings with the findings_id given (use the id from interview.findings)."
            )
        if facts.answered and not data.corrects:
            return Conflicting(ALREADY_ANSWERED)
    unknown = unknown_authorities(directory, data, prefix)
    if unknown:
        return unknown
    # Interview reports travel under the assignment's child, so a child's events stay in order.
    key = data.child_key if isinstance(data, ChildEvent) else facts.holding
    return key if key is not None else Refusal()  # may_send allows only those two


def may_send(org: Organisation, data: EventData, held_assignments: frozenset[str] = frozenset()) -> bool:
    """Police report any child; a council only its own children; a provider only its assignments;
    only the responsible authority records an interview as not offered, answers what a child said or
    records an NRM decision (docs/domain.md rules 31 and 34)."""
    if isinstance(data, InterviewNotOffered | FindingsResponded | NrmDecided):
        return _responsible(org, data)
    if isinstance(data, ChildEvent):
        if org.kind == "police":
            return True
        return org.kind == "local_authority" and data.responsible_authority == org.authority_code
    if isinstance(data, InterviewEvent):
        return org.kind == "provider" and data.assignment_id in held_assignments
    return False


def withdrawal_refused(org: Organisation, data: Cancelled, own_reports: Set[str]) -> str | None:
    """Why this organisation may not send this cancellation (docs/domain.md rule 25), or None if it may.

    `own_reports` are the ids of the missing reports this organisation has sent about the child."""
    if data.reason == LEFT_CARE:
        if not _responsible(org, data):
            return "Only the child's responsible authority can say that the child left care."
        return None
    if data.report_id is not None and data.report_id not in own_reports:
        return (
            "A cancellation withdraws only your own reports: this organisation has sent no missing "
            f"report with id {data.report_id!r} about this child."
        )
    if data.report_id is None and not own_reports:
        return (
            "A cancellation withdraws only your own reports: this organisation has not reported this "
            "child missing."
        )
    return None


def _responsible(org: Organisation, data: ChildEvent) -> bool:
    return org.kind == "local_authority" and org.authority_code == data.responsible_authority


def unknown_authorities(
    directory: Directory, data: EventData, prefix: tuple[str | int, ...]
) -> list[dict[str, Any]]:
    """Name each authority code in the event that no local authority in the directory has (the
    OpenAPI document lists the councils' codes; another kind of organisation's code is not one)."""
    errors = []
    for field in ("responsible_authority", "placement_authority"):
        code = getattr(data, field, None)
        council = directory.authority(code) if code is not None else None
        if code is not None and (council is None or council.kind != "local_authority"):
            pointer = "/" + "/".join(str(part) for part in (*prefix, "data", field))
            errors.append(
                {
                    "pointer": pointer,
                    "detail": f"unknown authority code {code!r}",
                    "code": "unknown_authority",
                }
            )
    return errors
