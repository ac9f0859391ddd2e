"""The scheduler's later word on a task (docs/domain.md rule 24): an updated referral reaches the provider that
holds it, and a task that closed without an interview withdraws its assignment.

An updated referral (the child went missing again and came back, the deadline moved, the risk, the
host authority or the language changed) replaces the task's packet: a provider holding the task is
told (`assignment.updated`); one only offered it that no longer fits (the child prefers Welsh, or now
lives outside its area) is withdrawn and the next asked; a task nobody could take is offered again
against the new window. A closed task (not offered, every absence withdrawn, the child left care)
withdraws its offer or assignment.
"""

from datetime import datetime

import structlog

from services.notifier.assignments import assigning
from services.notifier.store import tables
from services.notifier.store.writes import Writes
from services.notifier.webhooks import queue
from shared.contracts.assignments import AssignmentUpdated, ReferralPacket
from shared.contracts.tasks import InterviewClosed, InterviewUpdated
from shared.directory import Directory

log = structlog.get_logger()
CLOSED = "closed"


async def revise(
    conn: tables.Connection,
    writes: Writes,
    update: InterviewUpdated,
    *,
    cause: str,
    directory: Directory,
    now: datetime,
) -> None:
    """Take in a task's updated referral, in the caller's transaction (it holds the routing lock)."""
    task = await tables.task_for_update(conn, update.task_id)
    if task is None or task["status"] == CLOSED:  # an interview already held needs no new deadline
        log.info("task_update_ignored", task_id=update.task_id, status=task["status"] if task else None)
        return
    packet = assigning.packet_of(update, directory)
    await tables.set_task_packet(
        conn, update.task_id, packet.model_dump(mode="json"), update.episode_id, update.placement_authority
    )
    held = await tables.current_assignment(conn, update.task_id)
    if held is None:
        log.info("task_updated", task_id=update.task_id, status=task["status"], changes=update.changes)
        return
    provider = directory.get(held["provider_id"])
    if held["status"] == "offered" and (
        provider is None or not assigning.still_fits(provider, packet, directory)
    ):
        current = {**dict(held), "packet": packet.model_dump(mode="json")}
        await assigning.move_on(
            conn, writes, current, reason=assigning.REFERRAL_CHANGED, directory=directory, now=now
        )
        return
    if provider is not None:
        notice = AssignmentUpdated(
            assignment_id=held["assignment_id"],
            referral=packet,
            offer_due_at=packet.offer_due_at,
            changes=list(update.changes),
        )
        queue.enqueue(
            writes,
            org=provider,
            cause=f"updated:{cause}",
            data=notice,
            now=now,
            subject=held["assignment_id"],
        )
    log.info(
        "task_updated",
        task_id=update.task_id,
        assignment_id=held["assignment_id"],
        provider=held["provider_id"],
        changes=update.changes,
    )


async def close(
    conn: tables.Connection,
    writes: Writes,
    closed: InterviewClosed,
    *,
    directory: Directory,
    now: datetime,
) -> None:
    """Close a task that ended without an interview and withdraw its offer or assignment."""
    task = await tables.task_for_update(conn, closed.task_id)
    if task is None or task["status"] == CLOSED:
        return
    await tables.set_task_status(conn, closed.task_id, CLOSED)
    held = await tables.current_assignment(conn, closed.task_id)
    if held is not None:
        packet = ReferralPacket.model_validate(held["packet"])
        await assigning.end_assignment(
            conn, writes, held, packet, reason=closed.reason, directory=directory, now=now
        )
    log.info("task_closed", task_id=closed.task_id, reason=closed.reason, withdrawn=held is not None)
