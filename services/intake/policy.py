"""Who may send what (DOMAIN rule 20, CONTRACT §2), and which authorities exist."""

from typing import Any

from shared.contracts.common import ChildEvent, EventData
from shared.contracts.interviews import InterviewEvent
from shared.directory import Directory, Organisation


def may_send(org: Organisation, data: EventData, held_assignments: frozenset[str] = frozenset()) -> bool:
    """Police report any child; a council only its own children; a provider only its assignments."""
    if isinstance(data, ChildEvent):
        if org.kind == "police":
            return True
        return org.kind == "local_authority" and data.responsible_authority == org.authority_code
    if isinstance(data, InterviewEvent):
        return org.kind == "provider" and data.assignment_id in held_assignments
    return False


def unknown_authorities(
    directory: Directory, data: EventData, prefix: tuple[str | int, ...]
) -> list[dict[str, Any]]:
    """Name each authority code in the event that no local authority in the directory has."""
    errors = []
    for field in ("responsible_authority", "placement_authority"):
        code = getattr(data, field, None)
        if code is not None and directory.authority(code) is None:
            pointer = "/" + "/".join(str(part) for part in (*prefix, "data", field))
            errors.append(
                {
                    "pointer": pointer,
                    "detail": f"unknown authority code {code!r}",
                    "code": "unknown_authority",
                }
            )
    return errors
