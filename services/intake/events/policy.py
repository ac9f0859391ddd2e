"""Who may send what (docs/domain.md rule 20), and which authorities exist."""

from typing import Any

from shared.contracts.common import ChildEvent, EventData
from shared.contracts.episodes import Cancelled, InterviewNotOffered
from shared.contracts.interviews import InterviewEvent
from shared.directory import Directory, Organisation

LEFT_CARE = "left_care"


def may_send(org: Organisation, data: EventData, held_assignments: frozenset[str] = frozenset()) -> bool:
    """Police report any child; a council only its own children; a provider only its assignments;
    only the responsible authority records an interview as not offered."""
    if isinstance(data, InterviewNotOffered):
        return _responsible(org, data)
    if isinstance(data, ChildEvent):
        if org.kind == "police":
            return True
        return org.kind == "local_authority" and data.responsible_authority == org.authority_code
    if isinstance(data, InterviewEvent):
        return org.kind == "provider" and data.assignment_id in held_assignments
    return False


def withdrawal_refused(org: Organisation, data: Cancelled, own_reports: frozenset[str]) -> str | None:
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
