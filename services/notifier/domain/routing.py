"""Choosing an independent provider for a return interview (docs/domain.md rules 10-12).

Eligible: not employed by the responsible authority or by a police force, covers the host authority,
has room (open assignments below capacity), offers Welsh when the child prefers Welsh, can be reached
(its webhook URL is not disabled after a 410 Gone), and was not already asked for this task. Among
the eligible, the one with the most room left goes first (ties by directory order), so the choice is
deterministic and every exclusion is recorded with its rule. A child in Wales whose language nobody
stated goes first to a provider that interviews in Welsh (the Active Offer: unstated is not English).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from shared.directory import Organisation


@dataclass(frozen=True)
class Need:
    """What the task needs of a provider."""

    responsible_authority: str
    placement_authority: str
    preferred_language: str | None  # None: nobody said

    @property
    def welsh_first(self) -> bool:
        """Welsh is to be offered unasked: the child lives in Wales and no language was stated."""
        return self.preferred_language is None and self.placement_authority.startswith("W")


@dataclass(frozen=True)
class Decision:
    """The provider chosen (or none) and why each other provider was not."""

    chosen: str | None
    excluded: dict[str, str] = field(default_factory=dict)
    ranked: list[str] = field(default_factory=list)

    def as_record(self) -> dict[str, object]:
        """The decision as stored with the assignment, for a coordinator asking why."""
        return {"chosen": self.chosen, "ranked": self.ranked, "excluded": self.excluded}


def exclusion(
    provider: Organisation,
    need: Need,
    *,
    police_ids: frozenset[str],
    open_assignments: int,
    already_asked: bool,
    unreachable: bool = False,
) -> str | None:
    """The first rule that rules this provider out, or None if it is eligible."""
    if provider.employer is not None and provider.employer == need.responsible_authority:
        return "employed_by_responsible_authority"
    if provider.employer is not None and provider.employer in police_ids:
        return "employed_by_police"
    if need.placement_authority not in provider.covers:
        return "does_not_cover_host_authority"
    if need.preferred_language == "cy" and "cy" not in provider.languages:
        return "no_welsh_interviews"
    if unreachable:
        return "endpoint_disabled"
    if already_asked:
        return "already_asked_for_this_task"
    if open_assignments >= provider.capacity:
        return "at_capacity"
    return None


def choose_provider(
    providers: Iterable[Organisation],
    need: Need,
    *,
    police_ids: frozenset[str],
    open_assignments: Mapping[str, int],
    already_asked: frozenset[str],
    unreachable: frozenset[str] = frozenset(),
) -> Decision:
    """Pick the eligible provider with the most spare capacity; record why the others were not."""
    excluded: dict[str, str] = {}
    eligible: list[tuple[bool, int, int, str]] = []
    for order, provider in enumerate(providers):
        load = open_assignments.get(provider.id, 0)
        reason = exclusion(
            provider,
            need,
            police_ids=police_ids,
            open_assignments=load,
            already_asked=provider.id in already_asked,
            unreachable=provider.id in unreachable,
        )
        if reason is None:
            no_welsh = need.welsh_first and "cy" not in provider.languages
            eligible.append((no_welsh, -(provider.capacity - load), order, provider.id))
        else:
            excluded[provider.id] = reason
    ranked = [provider_id for *_, provider_id in sorted(eligible)]
    return Decision(chosen=ranked[0] if ranked else None, excluded=excluded, ranked=ranked)
