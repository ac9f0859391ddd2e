"""Taking in the child's voice from the topics (docs/domain.md rules 30-31): findings recorded with an
interview start the responsible authority's time to answer; an answer stops the reminders. Called in
the transaction that settles the same batch, after the fold, which it never changes (rule 36)."""

from collections.abc import Sequence
from datetime import timedelta

import structlog

from services.scheduler.voice import store
from shared.contracts.common import EventData
from shared.contracts.envelope import Envelope
from shared.contracts.interviews import InterviewCompleted
from shared.contracts.voice import FindingsResponded, findings_id_of, respond_by
from shared.directory import Directory

log = structlog.get_logger()


def for_the_fold(data: EventData) -> EventData | None:
    """What the fold takes in of an event: nothing of a council's answer, and an interview without what
    the child said (the fold reads the interview alone, and keeps no more than it needs); the rest as
    it is. None of it moves a window (docs/domain.md rule 36)."""
    if isinstance(data, FindingsResponded):
        return None
    if isinstance(data, InterviewCompleted) and data.findings is not None:
        return data.model_copy(update={"findings": None})
    return data


def concerns_the_voice(envelope: Envelope) -> bool:
    """Whether the voice takes this event in (an answer goes nowhere else: it is no part of the fold)."""
    data = envelope.data
    return isinstance(data, FindingsResponded) or (
        isinstance(data, InterviewCompleted) and data.findings is not None
    )


async def take_in(
    conn: store.Connection, items: Sequence[tuple[str, Envelope]], directory: Directory
) -> None:
    """Record the findings and answers among a batch's events, each under its child's key."""
    findings = []
    for child, envelope in items:
        data = envelope.data
        if isinstance(data, InterviewCompleted) and data.findings is not None:
            responsible = child.partition("/")[0]
            episode = await store.episode_of_interview(conn, child, data.completed_at)
            if episode is None:  # an interview before any episode the scheduler knows: name the council
                log.warning("findings_without_episode", event_id=envelope.id)
            timing = directory.timing_for(responsible)
            due = respond_by(data.completed_at, timing.findings_response_days)
            findings.append(
                (
                    findings_id_of(data.assignment_id),
                    child,
                    responsible,
                    episode["placement_authority"] if episode else responsible,
                    str(episode["episode_id"]) if episode else "",
                    data.completed_at,
                    due,
                    due - timedelta(hours=timing.findings_reminder_hours),
                    list(data.findings.reasons),
                    data.findings.placement_view,
                )
            )
    await store.add_findings(conn, findings)
    for child, envelope in items:
        data = envelope.data
        if isinstance(data, FindingsResponded):
            await store.add_response(
                conn,
                envelope.event_key,
                data.findings_id,
                child,
                data.responded_at,
                corrects=data.corrects,
                child_told=data.child_told,
                actions=[action.model_dump(mode="json") for action in data.actions],
            )
    if findings:
        log.info("findings_taken_in", count=len(findings))
