"""Generated histories of one child, for the tests of the episode and task model.

A history is some absences of one child, each reported by the police (with a reference) and/or the
council (without, sometimes of the other kind), with risk changes, one or two returns at different
times, withdrawals, "not offered" records, and the provider's acceptances, offers and outcomes. The
order intake learnt of them (their `childseq`) differs from the order they happened: reports arrive
late, returns before their reports, an interview after the next absence.
"""

from dataclasses import dataclass
from datetime import timedelta

from hypothesis import strategies as st

from services.scheduler.domain.child import Folding
from services.scheduler.domain.history import Entry
from tests.unit.timeline import (
    COUNCIL,
    NEWPORT,
    TIMING,
    accepted,
    assigned,
    cancelled,
    completed,
    fresh_ids,
    hours,
    learnt,
    not_offered,
    offered,
    reported,
    returned,
    risk,
)

# How many hours after it happened each act is learnt of: most at once, some a little or a long time later.
LATENESS = (0, 0, 0, 1, 5, 40, 150)
FEW = st.integers(1, 4)


@dataclass
class Act:
    """Something that happens to the child, at an hour; `learnt` is when the system heard of it."""

    happened: int
    learnt: int
    absence: int
    what: str  # report, return, risk, cancel, not_offered, accept, offer, complete
    fact: Entry | None = None  # for acts that need nothing from the state
    detail: str = ""


@st.composite
def histories(
    draw: st.DrawFn,
    absences: st.SearchStrategy[int] = FEW,
    lateness: tuple[int, ...] = LATENESS,
    variety: bool = False,
) -> tuple[list[Entry], list[Entry]]:
    """(what intake accepted, in the order it accepted it; what the notifier said). With `variety`, some
    withdrawals name no report, and the child may leave care."""
    fresh_ids()
    acts: list[Act] = []
    start = 0
    for absence in range(draw(absences)):
        start += draw(st.integers(1, 60))
        police = draw(st.booleans())
        kind = draw(st.sampled_from(["missing", "away"]))
        common = {
            "risk": draw(st.sampled_from(["low", "medium", "high"])),
            "indicators": tuple(
                draw(st.lists(st.sampled_from(["cce", "county_lines", "cse"]), max_size=2, unique=True))
            ),
            "placement": draw(st.sampled_from(["W06000015", NEWPORT])),
        }
        reports = []
        if police or draw(st.booleans()):
            at = start + draw(st.integers(0, 3))
            reports.append(reported(hours(at), ref=f"R{absence}", kind="missing", **common))  # type: ignore[arg-type]
        if not reports or draw(st.booleans()):
            at = start + draw(st.integers(0, 3))
            language = draw(st.sampled_from([None, "cy"]))
            reports.append(reported(hours(at), org=COUNCIL, ref=None, kind=kind, language=language, **common))  # type: ignore[arg-type]
        for report in reports:
            acts.append(
                Act(
                    int((report.happened_at - hours(0)).total_seconds() // 3600), 0, absence, "report", report
                )
            )
        if draw(st.booleans()):
            at = start + draw(st.integers(1, 10))
            acts.append(Act(at, 0, absence, "risk", risk(hours(at), "high", ("trafficking",))))
        if draw(st.integers(0, 9)) == 0:
            withdrawn = draw(st.sampled_from(reports))
            at = int((withdrawn.happened_at - hours(0)).total_seconds() // 3600) + 1
            # by its id, or (sometimes) the sender's reports of the latest absence it reported
            named = withdrawn if not variety or draw(st.booleans()) else None
            acts.append(
                Act(
                    at,
                    0,
                    absence,
                    "cancel",
                    cancelled(hours(at), org=withdrawn.org or COUNCIL, report=named),
                    detail=withdrawn.key,
                )
            )
        if draw(st.integers(0, 4)) > 0:
            back = start + draw(st.integers(4, 30))
            acts.append(Act(back, 0, absence, "return", returned(hours(back))))
            if draw(st.integers(0, 3)) == 0:  # the council reports the return at another time
                other = back + draw(st.integers(-3, 3))
                acts.append(Act(other, 0, absence, "return", returned(hours(other), org=COUNCIL)))
            if draw(st.integers(0, 6)) == 0:
                acts.append(Act(back + 1, 0, absence, "not_offered"))
            else:
                outcome = draw(
                    st.sampled_from(
                        ["none", "accept", "offer", "completed", "child_declined", "unable_to_contact"]
                    )
                )
                if outcome != "none":
                    acts.append(Act(back + draw(st.integers(1, 90)), 0, absence, "provider", detail=outcome))
            start = back
        else:
            start += 30
        if variety and draw(st.integers(0, 29)) == 0:  # the council records that the child left care
            at = start + draw(st.integers(0, 10))
            acts.append(Act(at, 0, absence, "left_care", cancelled(hours(at), "left_care", org=COUNCIL)))
    for act in acts:  # most are learnt as they happen; some a little or a long time later
        act.learnt = act.happened + draw(st.sampled_from(lateness))
    for act in acts:  # intake takes a withdrawal only of a report it already has
        if act.what == "cancel" and act.fact is not None:
            withdrawn = next(a for a in acts if a.fact is not None and a.fact.key == act.detail)
            act.learnt = max(act.learnt, withdrawn.learnt + 1)
    acts.sort(key=lambda a: (a.learnt, a.happened))
    return _facts(acts)


def _facts(acts: list[Act]) -> tuple[list[Entry], list[Entry]]:
    """The events of the acts, in the order learnt; a provider's report or the council's record goes to
    the task or episode of its absence as it stood when it was learnt (skipped if there was none)."""
    intake: list[Entry] = []
    notifier: list[Entry] = []
    first_report: dict[int, str] = {}
    folding = Folding(TIMING)  # the fold of what intake accepted so far, a step per event
    for act in acts:
        if act.fact is not None:
            intake.append(act.fact)
            if act.what == "report":
                first_report.setdefault(act.absence, act.fact.key)
            continue
        for fact in learnt(intake)[len(folding.learnt) :]:
            folding.step([fact])
        known = folding.state()
        episode = next((e for e in known.episodes if first_report.get(act.absence) in e.reports), None)
        if episode is None or episode.returned_at is None:
            continue
        if act.what == "not_offered":
            intake.append(not_offered(hours(act.happened), episode.episode_id))
            continue
        task = next((t for t in known.tasks if episode.episode_id in t.episode_ids), None)
        if task is None:
            continue
        moment = max(hours(act.happened), episode.returned_at + timedelta(minutes=30))
        notifier += [assigned(episode.returned_at, task.task_id), accepted(moment, task.task_id)]
        if act.detail in ("offer", "completed", "child_declined"):
            intake.append(offered(moment, task.task_id))
        if act.detail in ("completed", "child_declined", "unable_to_contact"):
            intake.append(
                completed(moment + timedelta(hours=2), task.task_id, outcome=act.detail, decline_reason="no")
            )
    return learnt(intake), notifier
