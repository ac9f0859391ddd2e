"""An injected clock moved through the window, and the repeat-missing period at its edges."""

import pytest

from services.scheduler.domain.child import fold
from services.scheduler.domain.history import Entry
from services.scheduler.domain.triggers import due_events, wakeups
from shared.clock import ManualClock
from shared.contracts.tasks import WindowBreached, WindowWarning
from shared.directory import RepeatMissing, TimingSettings
from tests.unit.timeline import (
    TIMING,
    assigned,
    completed,
    hours,
    learnt,
    offered,
    reported,
    returned,
    risk,
    state,
    task_of,
)


def walk(facts: list[Entry], clock: ManualClock, until: float, timing: TimingSettings = TIMING) -> list[str]:
    """Move the clock from timer to timer, as the timer loop does; return each new event's key kind."""
    child = state(facts, timing=timing)
    seen: set[str] = set()
    kinds = []
    while clock.now() <= hours(until):
        for item in due_events(child, clock.now(), timing):
            if item.key not in seen and item.kind not in ("changed", "updated"):
                seen.add(item.key)
                kinds.append(f"{item.kind}@{(item.at - hours(0)).total_seconds() / 3600:g}")
        upcoming = wakeups(child, clock.now(), timing)
        if not upcoming:
            break
        clock.set(upcoming[0])
    return kinds


def test_the_clock_moved_through_72_hours_sees_each_warning_the_breach_and_nothing_else() -> None:
    clock = ManualClock(hours(10))
    kinds = walk([reported(hours(0)), returned(hours(10))], clock, until=500)
    assert kinds == ["opened@0", "requested@10", "reminder@34", "warning@58", "breach@82"]
    assert clock.now() == hours(82)  # and no timer after the breach


def test_thresholds_come_from_configuration_fractions_of_hours_allowed() -> None:
    timing = TimingSettings(
        interview_window_hours=0.75, acceptance_reminder_hours=0.25, offer_warning_hours=0.5
    )
    clock = ManualClock(hours(1))
    kinds = walk([reported(hours(0)), returned(hours(1))], clock, until=10, timing=timing)
    assert kinds == ["opened@0", "requested@1", "reminder@1.25", "warning@1.5", "breach@1.75"]


def test_an_on_time_event_is_not_late_and_one_published_after_downtime_is() -> None:
    child = state(reported(hours(0)), returned(hours(10)))
    on_time = {i.kind: i.data for i in due_events(child, hours(82), TIMING)}
    after_downtime = {i.kind: i.data for i in due_events(child, hours(90), TIMING)}
    assert isinstance(on_time["breach"], WindowBreached)
    assert not on_time["breach"].late
    assert isinstance(on_time["warning"], WindowWarning)
    assert on_time["warning"].late
    assert isinstance(after_downtime["breach"], WindowBreached)
    assert after_downtime["breach"].late


def test_a_late_offer_is_recorded_as_late_and_the_breach_stays_recorded() -> None:
    opening = [reported(hours(0)), returned(hours(10))]
    task_id = task_of(*opening)
    episode = state(opening, assigned(hours(11), task_id), offered(hours(90), task_id)).episodes[0]
    assert (episode.offer_due_at, episode.offered_late, episode.breached(hours(100))) == (
        hours(82),
        True,
        True,
    )


def test_completion_within_the_window_is_tracked_beside_the_offer() -> None:
    opening = [reported(hours(0)), returned(hours(10))]
    task_id = task_of(*opening)
    base = [*opening, assigned(hours(11), task_id), offered(hours(20), task_id)]
    in_time = state(base, completed(hours(50), task_id)).tasks[0]
    assert (in_time.completed_at, in_time.outcome) == (hours(50), "completed")
    declined = state(
        base, completed(hours(30), task_id, outcome="child_declined", decline_reason="no")
    ).tasks[0]
    assert (declined.open, declined.outcome) == (False, "child_declined")


def test_missing_again_after_the_offer_the_second_episode_keeps_its_own_offer_status() -> None:
    opening = [reported(hours(0)), returned(hours(10))]
    task_id = task_of(*opening)
    facts = [
        *opening,
        assigned(hours(11), task_id),
        offered(hours(20), task_id),
        reported(hours(30), ref="R2"),  # missing again before the interview
        returned(hours(40)),
    ]
    child = state(facts)
    first, second = child.episodes
    assert len(child.tasks) == 1
    assert child.tasks[0].episode_ids == [first.episode_id, second.episode_id]
    assert (first.offered_at, second.offered_at) == (hours(20), None)
    kinds = walk(facts, ManualClock(hours(40)), until=500)
    assert [k for k in kinds if k.startswith(("warning", "breach"))] == ["warning@88", "breach@112"]


def test_a_risk_change_after_the_return_attaches_to_the_returned_episode_in_any_arrival_order() -> None:
    facts = [reported(hours(0)), returned(hours(10)), risk(hours(12), "high", ("cse",))]
    in_order = state(facts)
    assert fold(list(reversed(learnt(facts))), TIMING) == in_order
    assert in_order.episodes[0].high_risk_at == hours(12)
    assert {i.kind for i in due_events(in_order, hours(13), TIMING)} >= {"high_risk", "exploitation"}


DAY = 24.0


def nth_episode_on(days: list[float]) -> list[Entry]:
    facts: list[Entry] = []
    for n, day in enumerate(days):
        facts += [reported(hours(day * DAY), ref=f"R{n}"), returned(hours(day * DAY + 1))]
    return facts


@pytest.mark.parametrize(("count", "within_days"), [(3, 90), (3, 30), (4, 30)])
def test_repeat_missing_the_nth_episode_on_day_d_raises_it_and_on_day_d_plus_1_does_not(
    count: int, within_days: int
) -> None:
    """First episode on day 0; the Nth on the last day of the period (D = within_days - 1) counts,
    the Nth a day later (day D + 1 = within_days) is outside the period."""
    timing = TimingSettings(repeat_missing=RepeatMissing(count=count, within_days=within_days))
    middle = [float(d) for d in range(1, count - 1)]
    last_day = float(within_days - 1)

    def repeat_alerts(facts: list[Entry]) -> list[str]:
        child = state(facts, timing=timing)
        return [i.key for i in due_events(child, hours(1000 * DAY), timing) if i.kind == "repeat"]

    inside = nth_episode_on([0.0, *middle, last_day])
    nth = state(inside, timing=timing).episodes[-1]
    assert repeat_alerts(inside) == [f"repeat:{nth.episode_id}"]
    assert repeat_alerts(nth_episode_on([0.0, *middle, last_day + 1])) == []
    assert repeat_alerts(nth_episode_on([0.0, last_day])) == []  # one episode short never raises it


def test_a_long_missing_alert_sent_on_time_is_not_late_and_after_downtime_is() -> None:
    child = state(reported(hours(0)))
    on_time = [i.data for i in due_events(child, hours(24), TIMING) if i.kind == "long"]
    after_downtime = [i.data for i in due_events(child, hours(30), TIMING) if i.kind == "long"]
    assert [getattr(d, "late", None) for d in on_time] == [False]
    assert [getattr(d, "late", None) for d in after_downtime] == [True]
