"""Opening an interview task, offering it to the next eligible independent provider, and moving on
when a provider declines or stays silent."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog

from services.notifier import outgoing, store
from services.notifier.routing import Need, choose_provider, exclusion
from services.notifier.writes import Writes
from shared import outbox, topics
from shared.contracts.assignments import (
    AssignmentAssigned,
    AssignmentClosed,
    AssignmentDeclined,
    AssignmentExhausted,
    AssignmentExpired,
    AssignmentOffered,
    AssignmentWithdrawn,
    ReferralPacket,
    assignment_id,
)
from shared.contracts.common import EventData
from shared.contracts.envelope import Envelope
from shared.contracts.tasks import InterviewRequested, InterviewUpdated
from shared.directory import Directory, Organisation

log = structlog.get_logger()


async def record_tasks(
    conn: asyncpg.Connection, requests: Sequence[InterviewRequested], *, directory: Directory, now: datetime
) -> dict[str, ReferralPacket]:
    """Record new return-interview tasks in one statement; return the referral packet of each task
    that was new (a task already known is not routed again)."""
    if not requests:
        return {}
    packets = {task_key(request.task_id): packet_of(request, directory) for request in requests}
    rows = await conn.fetch(
        store.INSERT_TASKS,
        [request.task_id for request in requests],
        [request.child_key for request in requests],
        [request.episode_id for request in requests],
        [request.responsible_authority for request in requests],
        [request.placement_authority for request in requests],
        [packets[task_key(request.task_id)].model_dump_json() for request in requests],
        now,
    )
    return {row["task_id"]: packets[row["task_id"]] for row in rows}


def task_key(task_id: str) -> str:
    """A task id as the database writes it back (a UUID's canonical text)."""
    return str(uuid.UUID(task_id))


def packet_of(request: InterviewRequested | InterviewUpdated, directory: Directory) -> ReferralPacket:
    """What a provider is told about the child (DOMAIN rule 13), and whom at the council to ask."""
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
    conn: asyncpg.Connection,
    task_id: str,
    episode_id: str,
    packet: ReferralPacket,
    *,
    directory: Directory,
    now: datetime,
    namespace: str,
    new_task: bool = False,
    writes: Writes | None = None,
    only_if_someone: bool = False,
) -> str | None:
    """Offer the task to the best eligible provider not yet asked; tell the council if none is left
    (with `only_if_someone`, a task nobody can take is left as it is: the council was told already).

    The caller holds the routing lock (store.LOCK_ROUTING) for its whole transaction, taken before
    any row lock, so two decisions cannot both take a provider's last free place."""
    if writes is not None and writes.loads is not None:
        loads, disabled = writes.loads, writes.disabled_urls
    else:
        rows = await conn.fetch(store.ROUTING_STATE)
        loads = {row["provider_id"]: row["open"] for row in rows if row["disabled_url"] is None}
        disabled = frozenset(row["disabled_url"] for row in rows if row["disabled_url"] is not None)
        if writes is not None:
            writes.loads, writes.disabled_urls = loads, disabled
    asked: frozenset[str] = frozenset()
    if not new_task:  # nobody has been asked about a task created in this transaction
        asked = frozenset(row["provider_id"] for row in await conn.fetch(store.ASKED_FOR_TASK, task_id))
    police_ids = frozenset(org.id for org in directory.of_kind("police"))
    need = Need(packet.responsible_authority, packet.placement_authority, packet.preferred_language)
    providers = list(directory.of_kind("provider"))
    decision = choose_provider(
        providers,
        need,
        police_ids=police_ids,
        open_assignments=loads,
        already_asked=asked,
        unreachable=frozenset(p.id for p in providers if p.delivery_url in disabled),
    )
    child = packet.child_ref
    key = f"{packet.responsible_authority}/{child}"
    fact_topic = topics.named(namespace, topics.ASSIGNMENTS)
    if decision.chosen is None and only_if_someone:
        return None
    if decision.chosen is None:
        await _status(conn, writes, task_id, "exhausted")
        exhausted = AssignmentExhausted(
            child_ref=child,
            responsible_authority=packet.responsible_authority,
            placement_authority=packet.placement_authority,
            task_id=task_id,
            episode_id=episode_id,
            at=now,
            excluded=decision.excluded,
        )
        council = directory.authority(packet.responsible_authority)
        if council is not None:
            await outgoing.send(
                conn,
                org=council,
                cause=f"exhausted:{task_id}",
                data=exhausted,
                now=now,
                subject=episode_id,
                writes=writes,
            )
        await _fact(conn, fact_topic, key, f"exhausted:{task_id}", exhausted, now, writes)
        log.warning(
            "assignment_exhausted", task_id=task_id, episode_id=episode_id, excluded=decision.excluded
        )
        return None

    provider = directory.get(decision.chosen)
    assert provider is not None
    timing = directory.timing_for(packet.responsible_authority)  # the council's own, over the defaults
    accept_by = now + timedelta(hours=timing.acceptance_timeout_hours)
    new_id = assignment_id(task_id, provider.id)
    row = (new_id, task_id, provider.id, now, accept_by, decision.as_record())
    if writes is None:
        await conn.execute(store.INSERT_ASSIGNMENT, *row)
    else:
        writes.assignments.append(row)
        loads[provider.id] = loads.get(provider.id, 0) + 1  # the cached loads stay true for the next decision
    await _status(conn, writes, task_id, "assigned")
    offered = AssignmentOffered(
        assignment_id=new_id, referral=packet, offer_due_at=packet.offer_due_at, accept_by=accept_by
    )
    await outgoing.send(
        conn, org=provider, cause=f"offered:{new_id}", data=offered, now=now, subject=new_id, writes=writes
    )
    assigned = AssignmentAssigned(
        child_ref=child,
        responsible_authority=packet.responsible_authority,
        task_id=task_id,
        assignment_id=new_id,
        provider_id=provider.id,
        at=now,
        accept_by=accept_by,
    )
    await _fact(conn, fact_topic, key, f"assigned:{new_id}", assigned, now, writes)
    log.info(
        "assignment_offered",
        task_id=task_id,
        episode_id=episode_id,
        provider=provider.id,
        excluded=decision.excluded,
    )
    return new_id


# How an assignment that ends early ends: its status, and the reason the provider is given.
_TIMED_OUT, _REFERRAL_CHANGED = "acceptance_timeout", "referral_changed"


async def move_on(
    conn: asyncpg.Connection,
    held: Mapping[str, Any],
    *,
    reason: str,
    directory: Directory,
    now: datetime,
    namespace: str,
) -> str | None:
    """End an offer that was declined (`reason` is the provider's), timed out (`acceptance_timeout`) or
    no longer fits the referral (`referral_changed`: the child prefers Welsh, or moved out of the
    provider's area): record it, tell the provider it is withdrawn, and offer the task to the next."""
    packet = ReferralPacket.model_validate(held["packet"])
    await end_assignment(conn, held, packet, reason=reason, directory=directory, now=now, namespace=namespace)
    return await offer_next(
        conn,
        str(held["task_id"]),
        str(held["episode_id"]),
        packet,
        directory=directory,
        now=now,
        namespace=namespace,
    )


async def end_assignment(
    conn: asyncpg.Connection,
    held: Mapping[str, Any],
    packet: ReferralPacket,
    *,
    reason: str,
    directory: Directory,
    now: datetime,
    namespace: str,
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
    if reason == _TIMED_OUT:
        status, told, ended = "expired", _TIMED_OUT, AssignmentExpired.model_validate(common)
    elif reason in WITHDRAWALS:
        status, told, ended = (
            "withdrawn",
            reason,
            AssignmentClosed.model_validate({**common, "reason": reason}),
        )
    else:
        status, told = "declined", "declined_by_provider"
        ended = AssignmentDeclined.model_validate({**common, "reason": reason})
    await conn.execute(store.END_ASSIGNMENT, assignment, status, now, reason)
    await fact(conn, namespace, packet, f"ended:{assignment}", ended, now)
    provider = directory.get(provider_id)
    if provider is not None:
        withdrawn = AssignmentWithdrawn(assignment_id=assignment, reason=told)
        await outgoing.send(
            conn, org=provider, cause=f"withdrawn:{assignment}", data=withdrawn, now=now, subject=assignment
        )
    log.info(
        "assignment_moved_on", task_id=task_id, assignment_id=assignment, provider=provider_id, reason=reason
    )


# Ends the system decides, not the provider: the referral changed, or the task closed without an interview.
WITHDRAWALS = frozenset({_REFERRAL_CHANGED, "not_offered", "episode_cancelled", "left_care"})


def still_fits(provider: Organisation, packet: ReferralPacket, directory: Directory) -> bool:
    """Whether a provider offered a task could still be chosen for it as the referral now stands."""
    police_ids = frozenset(org.id for org in directory.of_kind("police"))
    need = Need(packet.responsible_authority, packet.placement_authority, packet.preferred_language)
    return exclusion(provider, need, police_ids=police_ids, open_assignments=0, already_asked=False) is None


async def fact(
    conn: asyncpg.Connection,
    namespace: str,
    packet: ReferralPacket,
    cause: str,
    data: EventData,
    now: datetime,
) -> None:
    """Publish an assignment fact about the packet's child (via the outbox, in the caller's transaction)."""
    key = f"{packet.responsible_authority}/{packet.child_ref}"
    await _fact(conn, topics.named(namespace, topics.ASSIGNMENTS), key, cause, data, now)


async def _status(conn: asyncpg.Connection, writes: Writes | None, task_id: str, status: str) -> None:
    if writes is None:
        await conn.execute(store.SET_TASK_STATUS, task_id, status)
    else:
        writes.statuses.append((task_id, status))


async def _fact(
    conn: asyncpg.Connection,
    topic: str,
    key: str,
    cause: str,
    data: EventData,
    now: datetime,
    writes: Writes | None = None,
) -> None:
    envelope = Envelope(
        id=outgoing.webhook_id("fact", cause),
        source=outgoing.SOURCE,
        type=data.type_name,
        time=now,
        data=data,
    )
    if writes is None:
        await outbox.enqueue(conn, store.SCHEMA, [(topic, key, envelope)])
    else:
        writes.facts.append((topic, key, envelope))
