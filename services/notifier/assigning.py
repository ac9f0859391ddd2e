"""Opening an interview task, offering it to the next eligible independent provider, and moving on
when a provider declines or stays silent."""

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog

from services.notifier import outgoing, store
from services.notifier.routing import Need, choose_provider
from services.notifier.writes import Writes
from shared import outbox, topics
from shared.contracts.assignments import (
    AssignmentAssigned,
    AssignmentDeclined,
    AssignmentExhausted,
    AssignmentExpired,
    AssignmentOffered,
    AssignmentWithdrawn,
    ReferralPacket,
)
from shared.contracts.common import EventData
from shared.contracts.envelope import Envelope
from shared.contracts.tasks import InterviewRequested
from shared.directory import Directory

log = structlog.get_logger()
_NAMESPACE = uuid.UUID("5d0e3f4a-9b61-4f3c-a2de-7c9b1e0d4a11")


def assignment_id(task_id: str, provider_id: str) -> str:
    """One assignment per task and provider: the same id however often it is computed."""
    return str(uuid.uuid5(_NAMESPACE, f"{task_id}|{provider_id}"))


async def record_tasks(
    conn: asyncpg.Connection, requests: Sequence[InterviewRequested], *, directory: Directory, now: datetime
) -> dict[str, ReferralPacket]:
    """Record new return-interview tasks in one statement; return the referral packet of each task
    that was new (a task already known is not routed again)."""
    if not requests:
        return {}
    packets = {task_key(request.task_id): _packet(request, directory) for request in requests}
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


def _packet(request: InterviewRequested, directory: Directory) -> ReferralPacket:
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
    accept_by = now + timedelta(hours=directory.settings.acceptance_timeout_hours)
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


async def move_on(
    conn: asyncpg.Connection,
    held: Mapping[str, Any],
    *,
    reason: str,
    directory: Directory,
    now: datetime,
    namespace: str,
) -> str | None:
    """End an offer that was declined (`reason` is the provider's) or timed out (`acceptance_timeout`):
    record it, tell the provider it is withdrawn, and offer the task to the next provider."""
    assignment = str(held["assignment_id"])
    task_id = str(held["task_id"])
    provider_id = str(held["provider_id"])
    packet = ReferralPacket.model_validate(held["packet"])
    timed_out = reason == "acceptance_timeout"
    await conn.execute(store.END_ASSIGNMENT, assignment, "expired" if timed_out else "declined", now, reason)
    common = {
        "child_ref": packet.child_ref,
        "responsible_authority": packet.responsible_authority,
        "task_id": task_id,
        "assignment_id": assignment,
        "provider_id": provider_id,
        "at": now,
    }
    ended: EventData = (
        AssignmentExpired.model_validate(common)
        if timed_out
        else AssignmentDeclined.model_validate({**common, "reason": reason})
    )
    await fact(conn, namespace, packet, f"ended:{assignment}", ended, now)
    provider = directory.get(provider_id)
    if provider is not None:
        withdrawn = AssignmentWithdrawn(
            assignment_id=assignment, reason="acceptance_timeout" if timed_out else "declined_by_provider"
        )
        await outgoing.send(
            conn, org=provider, cause=f"withdrawn:{assignment}", data=withdrawn, now=now, subject=assignment
        )
    log.info(
        "assignment_moved_on",
        task_id=task_id,
        assignment_id=assignment,
        provider=provider_id,
        reason=reason,
    )
    return await offer_next(
        conn, task_id, str(held["episode_id"]), packet, directory=directory, now=now, namespace=namespace
    )


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
