"""Deciding what happens to a task that needs a provider (docs/domain.md rules 10-12): pure, no I/O.

Given the referral and what the notifier knows (each provider's open assignments, the URLs disabled
after a 410 Gone, who was already asked), the best eligible provider is offered the task with an
acceptance deadline (the responsible authority's own, over the defaults); with none left, the council
is told the task is exhausted and why each provider could not take it."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.notifier.domain.routing import Decision, Need, choose_provider
from shared.contracts.assignments import (
    AssignmentAssigned,
    AssignmentExhausted,
    AssignmentOffered,
    ReferralPacket,
    assignment_id,
)
from shared.directory import Directory, Organisation


@dataclass(frozen=True)
class Offered:
    """The task offered to a provider: the row to write, the webhook and the fact to publish."""

    provider: Organisation
    decision: Decision
    row: tuple[object, ...]  # (assignment id, task id, provider id, offered at, accept by, routing record)
    offer: AssignmentOffered
    fact: AssignmentAssigned

    @property
    def assignment_id(self) -> str:
        return self.offer.assignment_id


@dataclass(frozen=True)
class Exhausted:
    """No independent provider can take the task now: the council must act."""

    decision: Decision
    council: Organisation | None
    notice: AssignmentExhausted


def decide_offer(
    task_id: str,
    episode_id: str,
    packet: ReferralPacket,
    *,
    directory: Directory,
    loads: dict[str, int],
    disabled_urls: frozenset[str],
    asked: frozenset[str],
    now: datetime,
) -> Offered | Exhausted:
    """Offer the task to the best eligible provider not yet asked, or say that none is left."""
    providers = list(directory.of_kind("provider"))
    decision = choose_provider(
        providers,
        Need(packet.responsible_authority, packet.placement_authority, packet.preferred_language),
        police_ids=frozenset(org.id for org in directory.of_kind("police")),
        open_assignments=loads,
        already_asked=asked,
        unreachable=frozenset(p.id for p in providers if p.delivery_url in disabled_urls),
    )
    child = {"child_ref": packet.child_ref, "responsible_authority": packet.responsible_authority}
    if decision.chosen is None:
        notice = AssignmentExhausted(
            **child,
            placement_authority=packet.placement_authority,
            task_id=task_id,
            episode_id=episode_id,
            at=now,
            excluded=decision.excluded,
        )
        return Exhausted(decision, directory.authority(packet.responsible_authority), notice)
    provider = directory.get(decision.chosen)
    assert provider is not None  # chosen from the directory's providers
    timing = directory.timing_for(packet.responsible_authority)
    accept_by = now + timedelta(hours=timing.acceptance_timeout_hours)
    new_id = assignment_id(task_id, provider.id)
    return Offered(
        provider=provider,
        decision=decision,
        row=(new_id, task_id, provider.id, now, accept_by, decision.as_record()),
        offer=AssignmentOffered(
            assignment_id=new_id, referral=packet, offer_due_at=packet.offer_due_at, accept_by=accept_by
        ),
        fact=AssignmentAssigned(
            **child,
            task_id=task_id,
            assignment_id=new_id,
            provider_id=provider.id,
            at=now,
            accept_by=accept_by,
        ),
    )
