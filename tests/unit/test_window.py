"""The 72-hour window and the triggers in virtual time: each warning at its moment, and nothing else."""

from services.scheduler.domain.history import Entry
from services.scheduler.domain.triggers import due_events, wakeups
from shared.directory import RepeatMissing, TimingSettings
from tests.unit.timeline import (
    TIMING,
    accepted,
    assigned,
    cancelled,
    completed,
    declined,
    hours,
    offered,
    reported,
    returned,
    risk,
    state,
    task_of,
)

# Kinds of event that say something about an episode or a task without being a warning or an alert.
BOOKKEEPING = ("changed", "updated")


def kinds_between(
    facts: list[Entry], start: float, end: float, step: float = 0.25
) -> list[tuple[float, str]]:
    """Move a virtual clock from `start` to `end` hours; return (hour, key-kind) for each event as it
    first appears (changes to episodes and task updates left out)."""
    seen: set[str] = set()
    found = []
    child = state(facts)
    moment = start
    while moment <= end:
        for item in due_events(child, hours(moment), TIMING):
            if item.key not in seen and item.kind not in BOOKKEEPING:
                seen.add(item.key)
                found.append((moment, item.kind))
        moment += step
    return found


def test_each_warning_and_the_breach_at_their_hour_and_nothing_else() -> None:
    facts = [reported(hours(0)), returned(hours(10))]
    found = kinds_between(facts, 10, 10 + 100)
    assert found == [
        (10, "opened"),
        (10, "requested"),
        (10 + 24, "reminder"),
        (10 + 48, "warning"),
        (10 + 72, "breach"),
    ]


def test_acceptance_silences_the_reminder_and_an_offer_closes_the_window() -> None:
    opening = [reported(hours(0)), returned(hours(10))]
    task_id = task_of(*opening)
    facts = [
        *opening,
        assigned(hours(10.5), task_id),
        accepted(hours(12), task_id),
        offered(hours(40), task_id),
    ]
    assert [kind for _, kind in kinds_between(facts, 10, 200)] == ["opened", "requested"]


def test_a_task_handed_back_after_acceptance_gets_the_reminder_again() -> None:
    """Accepted, then handed back: at +24 h nobody has accepted it, so the coordinator is told."""
    opening = [reported(hours(0)), returned(hours(10))]
    task_id = task_of(*opening)
    facts = [
        *opening,
        assigned(hours(10.5), task_id),
        accepted(hours(11), task_id),
        declined(hours(12), task_id),
        assigned(hours(12), task_id, provider="safe-return-gwent"),
    ]
    assert kinds_between(facts, 10, 10 + 30) == [(10, "opened"), (10, "requested"), (10 + 24, "reminder")]
    handed_back_later = [*facts[:4], declined(hours(40), task_id)]
    assert "reminder" not in [kind for _, kind in kinds_between(handed_back_later, 10, 10 + 30)]


def test_an_offer_after_the_breach_is_recorded_as_late_and_the_breach_stays() -> None:
    opening = [reported(hours(0)), returned(hours(10))]
    task_id = task_of(*opening)
    facts = [*opening, assigned(hours(11), task_id), offered(hours(90), task_id)]
    child = state(facts)
    assert child.episodes[0].offered_at == hours(90)
    assert child.episodes[0].offered_late
    assert "breach" in [kind for _, kind in kinds_between(facts, 10, 200)]


def test_an_offer_timed_before_the_assignment_was_recorded_still_closes_the_window() -> None:
    """The provider's clock (or its rounding) puts the offer before the notifier's assignment record:
    the offer is applied, at the time the provider gave, and no breach follows."""
    opening = [reported(hours(0)), returned(hours(10))]
    task_id = task_of(*opening)
    facts = [*opening, assigned(hours(11), task_id), offered(hours(10.5), task_id)]
    child = state(facts)
    assert child.unapplied == []
    assert child.tasks[0].offered_at == hours(10.5)
    assert [kind for _, kind in kinds_between(facts, 10, 200)] == ["opened", "requested"]


def test_a_child_declining_closes_the_window_without_counting_as_an_offer() -> None:
    opening = [reported(hours(0)), returned(hours(10))]
    task_id = task_of(*opening)
    facts = [
        *opening,
        assigned(hours(11), task_id),
        accepted(hours(11), task_id),
        completed(hours(20), task_id, outcome="child_declined", decline_reason="does_not_want_to_talk"),
    ]
    assert [kind for _, kind in kinds_between(facts, 10, 200)] == ["opened", "requested"]
    episode = state(facts).episodes[0]
    assert (episode.offered_at, episode.declined_at, episode.decline_reason) == (
        None,
        hours(20),
        "does_not_want_to_talk",
    )


def test_no_timers_after_the_window_has_passed() -> None:
    child = state(reported(hours(0)), returned(hours(10)))
    assert wakeups(child, hours(10), TIMING) == [hours(34), hours(58), hours(82)]
    assert wakeups(child, hours(83), TIMING) == []


def test_long_missing_alerts_at_24_72_and_168_hours_while_still_missing() -> None:
    found = kinds_between([reported(hours(0))], 0, 200, step=1)
    assert [(h, k) for h, k in found if k == "long"] == [(24, "long"), (72, "long"), (168, "long")]
    returned_early = [reported(hours(0)), returned(hours(30))]
    assert [h for h, k in kinds_between(returned_early, 0, 200, step=1) if k == "long"] == [24]


def test_missing_again_before_the_interview_keeps_one_task_with_each_episode_its_own_due_time() -> None:
    facts = [reported(hours(0)), returned(hours(10)), reported(hours(20), ref="R2"), returned(hours(30))]
    child = state(facts)
    assert len(child.episodes) == 2
    assert len(child.tasks) == 1
    assert child.tasks[0].episode_ids == [e.episode_id for e in child.episodes]
    breaches = [h for h, k in kinds_between(facts, 0, 200) if k == "breach"]
    assert breaches == [82, 102]


def test_high_risk_and_exploitation_alerts_from_the_report_or_later() -> None:
    at_report = kinds_between([reported(hours(0), risk="high", indicators=("county_lines",))], 0, 1)
    assert {k for _, k in at_report} == {"opened", "high_risk", "exploitation"}
    later = kinds_between([reported(hours(0)), risk(hours(5), "high", ("cce",))], 0, 6)
    assert sorted((h, k) for h, k in later if k in ("high_risk", "exploitation")) == [
        (5, "exploitation"),
        (5, "high_risk"),
    ]


def test_exploitation_from_the_interview_outcome() -> None:
    opening = [reported(hours(0)), returned(hours(10))]
    task_id = task_of(*opening)
    facts = [
        *opening,
        assigned(hours(11), task_id),
        completed(hours(30), task_id, indicators=("cse",)),
    ]
    assert (30, "exploitation_interview") in kinds_between(facts, 10, 40)


def test_a_cancelled_report_gets_no_task_and_does_not_count_as_repeat() -> None:
    child = state(reported(hours(0)), cancelled(hours(2)))
    assert child.tasks == []
    assert child.episodes[0].end_reason == "cancelled"


def test_away_becoming_missing_closes_one_episode_and_opens_the_next_where_it_ended() -> None:
    """The same organisation reports the child away, then missing: two absences."""
    child = state(
        reported(hours(0), kind="away", org="cardiff", ref=None),
        reported(hours(5), kind="missing", org="cardiff", ref=None),
        returned(hours(9)),
    )
    away, missing = child.episodes
    assert (away.kind, away.ended_at, away.end_reason) == ("away", hours(5), "kind_changed")
    assert (missing.kind, missing.started_at, missing.returned_at) == ("missing", hours(5), hours(9))


def test_police_and_council_reports_of_one_episode_join() -> None:
    child = state(reported(hours(0), risk="low"), reported(hours(1), risk="high", org="cardiff", ref=None))
    assert len(child.episodes) == 1
    assert child.episodes[0].risk_level == "high"


def test_repeat_missing_at_the_edge_of_the_period() -> None:
    timing = TimingSettings(repeat_missing=RepeatMissing(count=3, within_days=30))
    day = 24.0

    def episodes_at(*days: float) -> list[Entry]:
        facts = []
        for n, d in enumerate(days):
            facts += [reported(hours(d * day), ref=f"R{n}"), returned(hours(d * day + 2))]
        return facts

    def repeats(facts: list[Entry]) -> int:
        child = state(facts, timing=timing)
        return sum(1 for e in due_events(child, hours(400 * day), timing) if e.kind == "repeat")

    # Third episode on day 29.9 (inside 30 days of the first) raises it; on day 30 it does not.
    assert repeats(episodes_at(0, 10, 29.9)) == 1
    assert repeats(episodes_at(0, 10, 30)) == 0
    assert repeats(episodes_at(0, 10, 20, 25)) == 2


def test_out_of_area_is_recorded_on_the_episode() -> None:
    assert state(reported(hours(0), placement="W06000022")).episodes[0].out_of_area
