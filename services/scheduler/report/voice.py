"""The figures of the child's voice (docs/domain.md rule 35), from per-findings and per-episode records.

Pure counting, no I/O, like `figures.compute`: the records come from the scheduler's voice tables
(`report.store`) or from a replay of the topics (`report.replay`), and the two must agree.

Findings count in the month (UK time) the interview was held, for the responsible authority. A child
is placed in or out of area as the episode the interview followed stands now (the child's latest begun
by then). An answer is judged by the first one (a correction never moves it) against the
authority's time to answer; an answer recorded after `as_of` (and what it says of the child being told)
is not yet known. A reason is said again when the child gave it in `said_again_count` interviews within
`said_again_within` ending with this one (one per reason per interview, as the alert). Exploitation episodes count in the month they began,
as rule 21's episodes do.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from shared.directory import TimingSettings

REVIEW_VIEWS = ("move", "return_home_area")  # an out-of-area child's view that asks for a review


@dataclass(frozen=True)
class FindingsRecord:
    """What the figures need to know about one set of findings (codes and times: never the words)."""

    findings_id: str
    child_key: str
    responsible_authority: str
    placement_authority: str  # of the episode the interview followed, as it stands
    completed_at: datetime
    reasons: tuple[str, ...]
    placement_view: str | None
    answers: tuple[tuple[datetime, bool], ...] = ()  # each answer: when, and whether the child was told

    @property
    def out_of_area(self) -> bool:
        return self.placement_authority != self.responsible_authority


@dataclass(frozen=True)
class VoiceRules:
    """An authority's settings the voice's figures are judged by (docs/domain.md rules 31-32)."""

    response: timedelta = timedelta(days=7)
    said_again_count: int = 3
    said_again_within: timedelta = timedelta(days=180)

    @classmethod
    def of(cls, timing: TimingSettings) -> "VoiceRules":
        return cls(
            response=timedelta(days=timing.findings_response_days),
            said_again_count=timing.said_again.count,
            said_again_within=timedelta(days=timing.said_again.within_days),
        )


AS_BY_DEFAULT = VoiceRules()  # the directory's defaults


@dataclass(frozen=True, kw_only=True)
class VoiceFigures:
    """Rule 35's figures for one authority and period (all zero where nothing was heard)."""

    heard: int = 0
    heard_in_area: int = 0
    heard_out_of_area: int = 0
    reasons_in_area: dict[str, int] = field(default_factory=dict)
    reasons_out_of_area: dict[str, int] = field(default_factory=dict)
    answers_decided: int = 0
    answered_in_time: int = 0
    answered_late: int = 0
    answer_overdue: int = 0
    answer_awaited: int = 0
    child_told: int = 0
    said_again: int = 0
    placement_views: dict[str, int] = field(default_factory=dict)
    placement_reviews: int = 0
    exploitation_episodes: int = 0
    exploitation_arrested: int = 0
    nrm_decided: int = 0
    nrm_undecided: int = 0
    nrm_decisions: dict[str, int] = field(default_factory=dict)


class EpisodeFacts(Protocol):
    """What the voice's figures read of an episode (a `figures.EpisodeRecord`)."""

    @property
    def exploitation_alerts(self) -> int: ...  # signs of exploitation, from a report or the interview

    @property
    def arrested(self) -> bool: ...  # a return at which the child was arrested ended it

    @property
    def nrm_decision(self) -> str | None: ...


def count_voice(
    findings: Iterable[FindingsRecord],
    episodes: Iterable[EpisodeFacts],
    *,
    within: Callable[[datetime], bool],
    rules: VoiceRules,
    as_of: datetime,
) -> VoiceFigures:
    """The voice's figures: `findings` are every set of the authority's children that may matter (those
    held in the period, and the earlier ones a reason said again looks back on); `episodes` those rule
    21 counts for the period (begun in it, not reported in error); `within` says whether a moment is in
    the period."""
    known = list(findings)
    mine = [f for f in known if within(f.completed_at)]
    answers = {f.findings_id: [a for a in f.answers if a[0] <= as_of] for f in mine}
    first = {key: min((at for at, _ in found), default=None) for key, found in answers.items()}
    due = {f.findings_id: f.completed_at + rules.response for f in mine}
    in_time = [f for f in mine if (at := first[f.findings_id]) is not None and at <= due[f.findings_id]]
    late = [f for f in mine if (at := first[f.findings_id]) is not None and at > due[f.findings_id]]
    unanswered = [f for f in mine if first[f.findings_id] is None]
    overdue = [f for f in unanswered if due[f.findings_id] <= as_of]
    inside = [f for f in mine if not f.out_of_area]
    outside = [f for f in mine if f.out_of_area]
    exploited = [e for e in episodes if e.exploitation_alerts > 0]
    decided = [e for e in exploited if e.nrm_decision is not None]
    return VoiceFigures(
        heard=len(mine),
        heard_in_area=len(inside),
        heard_out_of_area=len(outside),
        reasons_in_area=_by_code(code for f in inside for code in set(f.reasons)),
        reasons_out_of_area=_by_code(code for f in outside for code in set(f.reasons)),
        answers_decided=len(in_time) + len(late) + len(overdue),
        answered_in_time=len(in_time),
        answered_late=len(late),
        answer_overdue=len(overdue),
        answer_awaited=len(unanswered) - len(overdue),
        child_told=sum(1 for f in mine if any(told for _, told in answers[f.findings_id])),
        said_again=_said_again(known, mine, rules),
        placement_views=_by_code(f.placement_view for f in outside if f.placement_view),
        placement_reviews=sum(1 for f in outside if f.placement_view in REVIEW_VIEWS),
        exploitation_episodes=len(exploited),
        exploitation_arrested=sum(1 for e in exploited if e.arrested),
        nrm_decided=len(decided),
        nrm_undecided=len(exploited) - len(decided),
        nrm_decisions=_by_code(e.nrm_decision for e in decided if e.nrm_decision),
    )


def add(parts: Sequence[VoiceFigures]) -> dict[str, object]:
    """The voice's figures of a period from its months': every count and every breakdown summed."""
    totals: dict[str, object] = {}
    for name in VoiceFigures.__dataclass_fields__:
        values = [getattr(part, name) for part in parts]
        if values and isinstance(values[0], dict):
            summed: Counter[str] = Counter()
            for value in values:
                summed.update(value)
            totals[name] = dict(sorted(summed.items()))
        else:
            totals[name] = sum(values)
    return totals


def _said_again(known: list[FindingsRecord], mine: list[FindingsRecord], rules: VoiceRules) -> int:
    """How many (interview, reason) pairs of the period reach the count (as `alert.said_again` does)."""
    by_child: dict[str, list[FindingsRecord]] = {}
    for found in known:
        by_child.setdefault(found.child_key, []).append(found)
    count = 0
    for found in mine:
        since = found.completed_at - rules.said_again_within
        for reason in set(found.reasons):
            given = sum(
                1
                for other in by_child[found.child_key]
                if reason in other.reasons and since < other.completed_at <= found.completed_at
            )
            count += given >= rules.said_again_count
    return count


def _by_code(codes: Iterable[str | None]) -> dict[str, int]:
    return dict(sorted(Counter(code for code in codes if code).items()))
