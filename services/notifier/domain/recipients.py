"""Which councils hear of what the scheduler publishes (docs/domain.md rules 6, 14, 25 and 31): pure,
no I/O."""

from shared.contracts.tasks import EpisodeChanged, TaskEvent, WindowBreached
from shared.contracts.voice import VOICE_NOTICES, FindingsResponseOverdue
from shared.directory import Directory, Organisation


def council_recipients(directory: Directory, event: TaskEvent) -> list[Organisation]:
    """The responsible authority, and the host authority too when the child is placed out of area. A
    change to an episode goes to the responsible authority only when another organisation made it
    (docs/domain.md rule 25), and to the host authority, which learns so of a placement in its area.
    What a child said is the responsible authority's alone (rules 30 and 31)."""
    responsible = directory.authority(event.responsible_authority)
    found = [responsible] if responsible is not None else []
    if isinstance(event, VOICE_NOTICES):
        return found
    if isinstance(event, EpisodeChanged) and responsible is not None and event.by == responsible.id:
        found = []
    if event.placement_authority != event.responsible_authority:
        host = directory.authority(event.placement_authority)
        found += [host] if host is not None else []
    return found


def escalations(directory: Directory, event: TaskEvent) -> list[Organisation]:
    """Councils whose senior manager is told as well: the responsible authority's, of a breach and of
    what a child said left unanswered (docs/domain.md rule 31)."""
    if not isinstance(event, WindowBreached | FindingsResponseOverdue):
        return []
    council = directory.authority(event.responsible_authority)
    return [council] if council is not None and council.escalation_url is not None else []
