"""Recording return-interview tasks, offering each to the next eligible independent provider, and
ending offers and assignments early (declined, timed out, withdrawn): the I/O around `offering`'s
decision, in the caller's transaction, its rows gathered in the transaction's `Writes`."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import structlog

from services.notifier.domain.offering import Exhausted, decide_offer
from services.notifier.domain.routing import Need, exclusion
from services.notifier.store import tables
from services.notifier.store.writes import Writes
from services.notifier.webhooks import queue
from shared.contracts.assignments import (
    AssignmentClosed,
    AssignmentDeclined,
    AssignmentExpired,
    AssignmentWithdrawn,
    ReferralPacket,
)
from shared.contracts.common import ChildEvent, EventData
from shared.contracts.envelope import Envelope
from shared.contracts.tasks import InterviewRequested, InterviewUpdated
from shared.directory import Directory, Organisation

log = structlog.get_logger()
# How an assignment that ends early ends: its status, and the reason the provider is given.
TIMED_OUT, REFERRAL_CHANGED = "acceptance_timeout", "referral_changed"
# Ends the system decides, not the provider: the referral changed, or the task closed without an interview.
WITHDRAWALS = frozenset(
    {REFERRAL_CHANGED, "not_offered", "episode_cancelled", "left_care", "covered_by_interview"}
)


async def record_tasks(
    conn: tables.Connection, requests: Sequence[InterviewRequested], *, directory: Directory, now: datetime
) -> dict[str, ReferralPacket]:
    """Record new return-interview tasks in one statement; return the referral packet of each task
    that was new (a task already known is not routed again)."""
    packets = {task_key(request.task_id): packet_of(request, directory) for request in requests}
    rows = [
        (
            request.task_id,
            request.child_key,
            request.episode_id,
            request.responsible_authority,
            request.placement_authority,
            packets[task_key(request.task_id)].model_dump_json(),
        )
        for request in requests
    ]
    return {task_id: packets[task_id] for task_id in await tables.insert_tasks(conn, rows, now)}


def task_key(task_id: str) -> str:
    """A task id as the database writes it back (a UUID's canonical text)."""
    return str(uuid.UUID(task_id))


def packet_of(request: InterviewRequested | InterviewUpdated, directory: Directory) -> ReferralPacket:
    """What a provider is told about the child (docs/domain.md rule 13), and whom at the council to ask."""
    coordinator = directory.authority(request.responsible_authority)
    return ReferralPacket(
        child_ref=request.child_ref,
        responsible_authority=request.responsible_authority,
        placement_authority=request.placement_authority,
        returned_at=request.returned_at,
        offer_due_at=request.offer_due_at,
        risk_level=request.risk_level,
        exploitation_indicators=request.exploitation_indicators,
        preferred_language=request.preferred_language,
        coordinator_contact=coordinator.coordinator_contact if coordinator else None,
    )


async def offer_next(
    conn: tables.Connection,
    writes: Writes,
    task_id: str,
    episode_id: str,
    packet: ReferralPacket,
    *,
    directory: Directory,
    now: datetime,
    new_task: bool = False,
    only_if_someone: bool = False,
) -> str | None:
    """Offer the task to the best eligible provider not yet asked; tell the council if none is left
    (with `only_if_someone`, a task nobody can take is left as it is: the council was told already).
    Return the new assignment's id.

    The caller holds the routing lock (tables.lock_routing) for its whole transaction, taken before
    any row lock, so two decisions cannot both take a provider's last free place."""
    if writes.loads is None:
        writes.loads, writes.disabled_urls = await tables.routing_state(conn)
    # Nobody has been asked about a task created in this transaction.
    asked = writes.asked(task_id) | (frozenset() if new_task else await tables.asked_for_task(conn, task_id))
    outcome = decide_offer(
        task_id,
        episode_id,
        packet,
        directory=directory,
        loads=writes.loads,
        disabled_urls=writes.disabled_urls,
        asked=asked,
        now=now,
    )
    if isinstance(outcome, Exhausted):
        if only_if_someone:
            return None
        writes.status(task_id, "exhausted")
        if outcome.council is not None:
            queue.enqueue(
                writes,
                org=outcome.council,
                cause=f"exhausted:{task_id}",
                data=outcome.notice,
                now=now,
                subject=episode_id,
            )
        fact(writes, f"exhausted:{task_id}", outcome.notice, now)
        log.warning(
            "assignment_exhausted", task_id=task_id, episode_id=episode_id, excluded=outcome.decision.excluded
        )
        return None
    writes.assignment(outcome.row)
    writes.status(task_id, "assigned")
    new_id = outcome.assignment_id
    queue.enqueue(
        writes, org=outcome.provider, cause=f"offered:{new_id}", data=outcome.offer, now=now, subject=new_id
    )
    fact(writes, f"assigned:{new_id}", outcome.fact, now)
    log.info(
        "assignment_offered",
        task_id=task_id,
        episode_id=episode_id,
        provider=outcome.provider.id,
        excluded=outcome.decision.excluded,
    )
    return new_id


async def move_on(
    conn: tables.Connection,
    writes: Writes,
    held: Mapping[str, Any],
    *,
    reason: str,
    directory: Directory,
    now: datetime,
) -> str | None:
    """End an offer that was declined (`reason` is the provider's), timed out (`acceptance_timeout`) or
    no longer fits the referral (`referral_changed`: the child prefers Welsh, or moved out of the
    provider's area): record it, tell the provider it is withdrawn, and offer the task to the next."""
    packet = ReferralPacket.model_validate(held["packet"])
    await end_assignment(conn, writes, held, packet, reason=reason, directory=directory, now=now)
    return await offer_next(
        conn, writes, str(held["task_id"]), str(held["episode_id"]), packet, directory=directory, now=now
    )


async def end_assignment(
    conn: tables.Connection,
    writes: Writes,
    held: Mapping[str, Any],
    packet: ReferralPacket,
    *,
    reason: str,
    directory: Directory,
    now: datetime,
) -> None:
    """Record an assignment's early end, publish the fact and tell the provider it is withdrawn."""
    assignment = str(held["assignment_id"])
    task_id = str(held["task_id"])
    provider_id = str(held["provider_id"])
    common = {
        "child_ref": packet.child_ref,
        "responsible_authority": packet.responsible_authority,
        "task_id": task_id,
        "assignment_id": assignment,
        "provider_id": provider_id,
        "at": now,
    }
    ended: EventData
    if reason == TIMED_OUT:
        status, told, ended = "expired", TIMED_OUT, AssignmentExpired.model_validate(common)
    elif reason in WITHDRAWALS:
        status, told = "withdrawn", reason
        ended = AssignmentClosed.model_validate({**common, "reason": reason})
    else:
        status, told = "declined", "declined_by_provider"
        ended = AssignmentDeclined.model_validate({**common, "reason": reason})
    await tables.end_assignment(conn, assignment, status, now, reason)
    writes.ended(provider_id)
    fact(writes, f"ended:{assignment}", ended, now)
    provider = directory.get(provider_id)
    if provider is not None:
        withdrawn = AssignmentWithdrawn(assignment_id=assignment, reason=told)
        queue.enqueue(
            writes, org=provider, cause=f"withdrawn:{assignment}", data=withdrawn, now=now, subject=assignment
        )
    log.info(
        "assignment_moved_on", task_id=task_id, assignment_id=assignment, provider=provider_id, reason=reason
    )


def still_fits(provider: Organisation, packet: ReferralPacket, directory: Directory) -> bool:
    """Whether a provider offered a task could still be chosen for it as the referral now stands."""
    police_ids = frozenset(org.id for org in directory.of_kind("police"))
    need = Need(packet.responsible_authority, packet.placement_authority, packet.preferred_language)
    return exclusion(provider, need, police_ids=police_ids, open_assignments=0, already_asked=False) is None


def fact(writes: Writes, cause: str, data: ChildEvent, now: datetime) -> None:
    """Publish an assignment fact about its child, with the transaction's other rows."""
    envelope = Envelope(
        id=queue.webhook_id("fact", cause), source=queue.SOURCE, type=data.type_name, time=now, data=data
    )
    writes.fact(data.child_key, envelope)
