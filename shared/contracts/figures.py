"""The figures councils return (topic `mtp.figures.v1`, keyed by the authority's code): counts only.

The scheduler counts them from its state (the same counting as `mtp report`) and publishes each
authority's months, quarters and financial years again whenever they may have changed; intake keeps
the latest of each period for the senior manager's page. No child is named or can be picked out:
every field is a count of episodes, children, tasks or alerts.
"""

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.common import AuthorityCode, EventData, ReasonCode, Timestamp

PeriodKind = Literal["month", "quarter", "year"]

# The figures, in the order a council's return lists them: (field, what it counts). The percentages
# are worked out from the counts (`percentage`), one decimal, empty where nothing was due. The CSV
# from `mtp report` and from the manager's page both follow this order.
FIGURES: tuple[tuple[str, str], ...] = (
    ("episodes", "episodes"),
    ("children", "children"),
    ("in_area", "  in area"),
    ("out_of_area", "  out of area"),
    ("returned", "returned"),
    ("windows_closed", "  window closed"),
    ("windows_open", "  window still open"),
    ("offers_decided", "offer decided (window closed, offered, declined or not offered)"),
    ("offered_within_window", "  offered within window"),
    ("pct_offered_within_window", "  % offered within window"),
    ("declined", "  child declined (after an offer)"),
    ("unable_to_contact", "  provider could not reach the child (an attempt)"),
    ("not_offered", "  recorded as not offered"),
    ("interviews_decided", "interview decided (closed or held)"),
    ("completed_within_window", "  interviewed within window"),
    ("pct_completed_within_window", "  % completed within window"),
    ("breaches", "breaches (no offer in window)"),
    ("breach_alerts", "breach alerts raised"),
    ("tasks", "interview tasks"),
    ("accepted", "  accepted by a provider"),
    ("pct_accepted", "  % accepted"),
    ("repeat_missing_alerts", "repeat missing alerts"),
    ("exploitation_alerts", "exploitation alerts"),
)
# The figures of the child's voice (docs/domain.md rule 35), those a campaigner cites first. Findings
# count in the month the interview was held; exploitation episodes in the month they began.
VOICE_FIGURES: tuple[tuple[str, str], ...] = (
    ("heard", "interviews in which the child said what happened (findings)"),
    ("answers_decided", "  answer due (answered, or its time ran out)"),
    ("answered_in_time", "  answered in time"),
    ("pct_answered_in_time", "  % answered in time"),
    ("answered_late", "  answered late"),
    ("answer_overdue", "  time ran out, not answered"),
    ("answer_awaited", "  not answered, still in time"),
    ("child_told", "  the child was told what happens next"),
    ("pct_child_told", "  % told what happens next"),
    ("heard_in_area", "  placed in area, and why they went:"),
    ("heard_out_of_area", "  placed out of area, and why they went:"),
    ("said_again", "reasons said again (the same reason in enough interviews)"),
    ("placement_reviews", "placement reviews asked (out of area, wants to move or go home); every view:"),
    ("exploitation_episodes", "episodes with signs of exploitation"),
    ("exploitation_arrested", "  ended in the child's arrest"),
    ("nrm_decided", "  NRM decision recorded"),
    ("nrm_undecided", "  no NRM decision recorded"),
)
# Counts by code, each listed under the figure it breaks down: (breakdown, figure it is under).
BREAKDOWNS: tuple[tuple[str, str], ...] = (
    ("not_offered_by_reason", "not_offered"),
    ("reasons_in_area", "heard_in_area"),
    ("reasons_out_of_area", "heard_out_of_area"),
    ("placement_views", "placement_reviews"),
    ("nrm_decisions", "nrm_decided"),
)
# Each percentage: (part, whole).
PERCENTAGES: dict[str, tuple[str, str]] = {
    "pct_offered_within_window": ("offered_within_window", "offers_decided"),
    "pct_completed_within_window": ("completed_within_window", "interviews_decided"),
    "pct_accepted": ("accepted", "tasks"),
    "pct_answered_in_time": ("answered_in_time", "answers_decided"),
    "pct_child_told": ("child_told", "heard"),
}


def breakdown_cell(counts: dict[str, int]) -> str:
    """A breakdown in one CSV cell: `code=n;code=n`, codes in order."""
    return ";".join(f"{code}={n}" for code, n in sorted(counts.items()))


def percentage(part: int, whole: int) -> float | None:
    """`part` of `whole` in per cent, one decimal; None when nothing was due."""
    return round(100.0 * part / whole, 1) if whole else None


Count = int


class FiguresPublished(EventData):
    """An authority's figures for one month, quarter or financial year, as counted at `as_of`
    (episodes count in the month they began, in UK time). A later `as_of` replaces an earlier one."""

    type_name: ClassVar[str] = "figures.published"

    authority: AuthorityCode = Field(description="The responsible authority the figures are for.")
    period: str = Field(
        pattern=r"^[0-9]{4}(-(0[1-9]|1[0-2])|-Q[1-4]|/[0-9]{2})$",
        description="2026-09 (a month), 2026-Q3 (a calendar quarter) or 2026/27 (a financial year, "
        "April to March).",
        examples=["2026-09", "2026-Q3", "2026/27"],
    )
    kind: PeriodKind
    first_day: date = Field(description="The period's first day (UK time).")
    last_day: date = Field(description="The period's last day, included.")
    as_of: Timestamp = Field(description="Windows closed by this moment are counted as closed.")
    window_hours: float = Field(gt=0, description="The authority's return-interview window.")
    episodes: Count = Field(ge=0)
    children: Count = Field(ge=0)
    in_area: Count = Field(ge=0)
    out_of_area: Count = Field(ge=0)
    returned: Count = Field(ge=0)
    windows_closed: Count = Field(ge=0)
    windows_open: Count = Field(ge=0)
    offers_decided: Count = Field(ge=0)
    offered_within_window: Count = Field(ge=0)
    interviews_decided: Count = Field(ge=0)
    completed_within_window: Count = Field(ge=0)
    breaches: Count = Field(ge=0)
    breach_alerts: Count = Field(ge=0)
    declined: Count = Field(ge=0)
    unable_to_contact: Count = Field(ge=0)
    not_offered: Count = Field(ge=0)
    tasks: Count = Field(ge=0)
    accepted: Count = Field(ge=0)
    repeat_missing_alerts: Count = Field(ge=0)
    exploitation_alerts: Count = Field(ge=0)
    not_offered_by_reason: dict[ReasonCode, Count] = Field(default_factory=dict)
    # The child's voice (rule 35); absent from figures published before they were counted.
    heard: Count = Field(0, ge=0, description="Interviews held in the period whose findings were recorded.")
    heard_in_area: Count = Field(0, ge=0)
    heard_out_of_area: Count = Field(0, ge=0)
    reasons_in_area: dict[ReasonCode, Count] = Field(
        default_factory=dict, description="Children placed in area: interviews giving each reason."
    )
    reasons_out_of_area: dict[ReasonCode, Count] = Field(default_factory=dict)
    answers_decided: Count = Field(0, ge=0, description="Findings answered, or whose time to answer ran out.")
    answered_in_time: Count = Field(
        0, ge=0, description="First answer by the time (a correction never moves it)."
    )
    answered_late: Count = Field(0, ge=0)
    answer_overdue: Count = Field(0, ge=0, description="Time ran out and no answer yet.")
    answer_awaited: Count = Field(0, ge=0, description="No answer yet, still in time.")
    child_told: Count = Field(
        0, ge=0, description="Findings whose answer says the child was told what happens next."
    )
    said_again: Count = Field(
        0, ge=0, description="Reasons given again in enough interviews (one per reason per interview)."
    )
    placement_views: dict[ReasonCode, Count] = Field(
        default_factory=dict,
        description="Children placed out of area: interviews recording each view of the placement.",
    )
    placement_reviews: Count = Field(0, ge=0)
    exploitation_episodes: Count = Field(
        0, ge=0, description="Episodes begun in the period with signs of exploitation."
    )
    exploitation_arrested: Count = Field(
        0, ge=0, description="Of those, ended by a return at which the child was arrested."
    )
    nrm_decided: Count = Field(0, ge=0)
    nrm_undecided: Count = Field(0, ge=0)
    nrm_decisions: dict[ReasonCode, Count] = Field(default_factory=dict, description="NRM decisions by code.")

    def value(self, field: str) -> int | float | None:
        """A figure by its name in `FIGURES`, percentages worked out."""
        if field in PERCENTAGES:
            part, whole = PERCENTAGES[field]
            return percentage(getattr(self, part), getattr(self, whole))
        count: int = getattr(self, field)
        return count


FIGURES_EVENTS: tuple[type[EventData], ...] = (FiguresPublished,)
