"""Applying what providers report about their assignments (`mtp.interviews.v1`).

The event names only the assignment; everything else comes from our own tables. A report from an
organisation that does not hold the assignment, about an assignment we do not know, or that no longer
fits its state (a late accept after the offer moved on) is recorded with that decision and ignored.
"""

from datetime import datetime

import structlog

from services.notifier.assignments import assigning
from services.notifier.domain.lifecycle import after_report
from services.notifier.store import tables
from services.notifier.store.writes import Writes
from services.notifier.webhooks import queue
from shared.contracts.assignments import (
    INTERVIEW_COMPLETED,
    AssignmentAccepted,
    AssignmentClosed,
    InterviewSummary,
    ReferralPacket,
)
from shared.contracts.envelope import Envelope
from shared.contracts.interviews import (
    InterviewCompleted,
    InterviewDeclined,
    InterviewEvent,
    InterviewOffered,
)
from shared.contracts.voice import FindingsHeard, InterviewFindings, findings_id_of, respond_by
from shared.directory import Directory

log = structlog.get_logger()
PROVIDER_SOURCE = "/orgs/"


async def apply_report(
    conn: tables.Connection,
    writes: Writes,
    envelope: Envelope,
    report: InterviewEvent,
    *,
    directory: Directory,
    now: datetime,
) -> str:
    """Apply one provider report in the caller's transaction; return what was decided."""
    decision = await _decide(conn, writes, envelope, report, directory=directory, now=now)
    await tables.record_report(conn, envelope.event_key, report.assignment_id, envelope.type, decision, now)
    return decision


async def _decide(
    conn: tables.Connection,
    writes: Writes,
    envelope: Envelope,
    report: InterviewEvent,
    *,
    directory: Directory,
    now: datetime,
) -> str:
    held = await tables.assignment_for_update(conn, report.assignment_id)
    if held is None:
        log.info(
            "interview_report_ignored",
            event_id=envelope.id,
            event_type=envelope.type,
            reason="unknown_assignment",
        )
        return "unknown_assignment"
    assignment = str(held["assignment_id"])
    # Intake checks the sender too; this keeps one provider from moving another's assignment regardless.
    if (
        envelope.source.startswith(PROVIDER_SOURCE)
        and envelope.source != f"{PROVIDER_SOURCE}{held['provider_id']}"
    ):
        log.warning(
            "interview_report_ignored", event_id=envelope.id, assignment_id=assignment, reason="not_holder"
        )
        return "not_holder"
    step = after_report(str(held["status"]), envelope.type)
    if step is None:
        log.info(
            "interview_report_ignored",
            event_id=envelope.id,
            event_type=envelope.type,
            assignment_id=assignment,
            status=held["status"],
            reason="not_current",
        )
        return "not_current"
    packet = ReferralPacket.model_validate(held["packet"])
    if step.moves_on:
        reason = report.reason if isinstance(report, InterviewDeclined) else "declined_by_provider"
        await assigning.move_on(conn, writes, held, reason=reason, directory=directory, now=now)
        return "applied"
    if step.accepted_now:
        await tables.accept_assignment(conn, assignment, now)
        accepted = AssignmentAccepted(
            child_ref=packet.child_ref,
            responsible_authority=packet.responsible_authority,
            task_id=str(held["task_id"]),
            assignment_id=assignment,
            provider_id=str(held["provider_id"]),
            at=now,
        )
        assigning.fact(writes, f"accepted:{assignment}", accepted, now)
    if isinstance(report, InterviewOffered):
        await tables.child_offered(conn, assignment, report.offered_at)
    if isinstance(report, InterviewCompleted):
        await tables.complete_assignment(conn, assignment, report.completed_at, report.outcome)
        await tables.set_task_status(conn, held["task_id"], "closed")
        _tell_council(writes, held, packet, report, directory=directory, now=now)
        # The assignment's work is done: intake stops showing the provider the referral packet.
        done = AssignmentClosed(
            child_ref=packet.child_ref,
            responsible_authority=packet.responsible_authority,
            task_id=str(held["task_id"]),
            assignment_id=assignment,
            provider_id=str(held["provider_id"]),
            at=now,
            reason=INTERVIEW_COMPLETED,
        )
        assigning.fact(writes, f"completed:{assignment}", done, now)
    log.info(
        "interview_report_applied",
        event_id=envelope.id,
        event_type=envelope.type,
        assignment_id=assignment,
        status=step.status,
    )
    return "applied"


def _tell_council(
    writes: Writes,
    held: tables.Row,
    packet: ReferralPacket,
    report: InterviewCompleted,
    *,
    directory: Directory,
    now: datetime,
) -> None:
    """How the interview went to the responsible authority, and to the host authority of a child placed
    out of area; what the child said to the responsible authority alone (docs/domain.md rule 30)."""
    episode_id, assignment_id = str(held["episode_id"]), str(held["assignment_id"])
    summary = InterviewSummary(
        child_ref=packet.child_ref,
        responsible_authority=packet.responsible_authority,
        placement_authority=packet.placement_authority,
        episode_id=episode_id,
        task_id=str(held["task_id"]),
        assignment_id=assignment_id,
        provider_id=str(held["provider_id"]),
        completed_at=report.completed_at,
        outcome=report.outcome,
        exploitation_indicators=report.exploitation_indicators,
        safeguarding_concern=report.safeguarding_concern,
    )
    councils = [packet.responsible_authority]
    if packet.placement_authority != packet.responsible_authority:
        councils.append(packet.placement_authority)
    for code in councils:
        council = directory.authority(code)
        if council is not None:
            cause = f"completed:{assignment_id}"
            queue.enqueue(writes, org=council, cause=cause, data=summary, now=now, subject=episode_id)
    responsible = directory.authority(packet.responsible_authority)
    if report.findings is None or responsible is None:
        return
    heard = InterviewFindings(
        child_ref=packet.child_ref,
        responsible_authority=packet.responsible_authority,
        placement_authority=packet.placement_authority,
        episode_id=episode_id,
        task_id=str(held["task_id"]),
        assignment_id=assignment_id,
        provider_id=str(held["provider_id"]),
        findings_id=findings_id_of(assignment_id),
        completed_at=report.completed_at,
        respond_by=respond_by(
            report.completed_at, directory.timing_for(packet.responsible_authority).findings_response_days
        ),
        findings=FindingsHeard.model_validate(report.findings.model_dump()),
    )
    cause = f"findings:{assignment_id}"
    queue.enqueue(writes, org=responsible, cause=cause, data=heard, now=now, subject=episode_id)
