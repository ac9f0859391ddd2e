"""An injected clock moved through the window, and the repeat-missing period at its edges."""

from datetime import timedelta

import pytest

from services.scheduler.episodes import Fact, fold
from services.scheduler.triggers import due_events, wakeups
from shared.clock import ManualClock
from shared.contracts.tasks import WindowBreached, WindowWarning
from shared.directory import RepeatMissing, TimingSettings
from tests.unit.timeline import assigned, completed, hours, offered, reported, returned, risk

TIMING = TimingSettings()


def walk(facts: list[Fact], clock: ManualClock, until: float, timing: TimingSettings = TIMING) -> list[str]:
    """Move the clock from timer to timer, as the timer loop does; return each new event's key kind."""
    state = fold(facts, timedelta(hours=timing.interview_window_hours))
    seen: set[str] = set()
    kinds = []
    while clock.now() <= hours(until):
        for item in due_events(state, clock.now(), timing):
            if item.key not in seen:
                seen.add(item.key)
                kinds.append(f"{item.key.split(':')[0]}@{(item.at - hours(0)).total_seconds() / 3600:g}")
        upcoming = wakeups(state, clock.now(), timing)
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
    state = fold([reported(hours(0)), returned(hours(10))], timedelta(hours=72))
    on_time = {i.key.split(":")[0]: i.data for i in due_events(state, hours(82), TIMING)}
    after_downtime = {i.key.split(":")[0]: i.data for i in due_events(state, hours(90), TIMING)}
    assert isinstance(on_time["breach"], WindowBreached)
    assert not on_time["breach"].late
    assert isinstance(on_time["warning"], WindowWarning)
    assert on_time["warning"].late
    assert isinstance(after_downtime["breach"], WindowBreached)
    assert after_downtime["breach"].late


def test_a_late_offer_is_recorded_as_late_and_the_breach_stays_recorded() -> None:
    window = timedelta(hours=72)
    task_id = fold([reported(hours(0)), returned(hours(10))], window).tasks[0].task_id
    state = fold(
        [reported(hours(0)), returned(hours(10)), assigned(hours(11), task_id), offered(hours(90))], window
    )
    episode = state.episodes[0]
    assert (episode.offer_due_at, episode.offered_late, episode.breached(hours(100))) == (
        hours(82),
        True,
        True,
    )


def test_completion_within_the_window_is_tracked_beside_the_offer() -> None:
    window = timedelta(hours=72)
    task_id = fold([reported(hours(0)), returned(hours(10))], window).tasks[0].task_id
    base = [reported(hours(0)), returned(hours(10)), assigned(hours(11), task_id), offered(hours(20))]
    assert fold([*base, completed(hours(50))], window).tasks[0].completed_within_window is True
    assert fold([*base, completed(hours(90))], window).tasks[0].completed_within_window is False
    declined = fold([*base, completed(hours(30), outcome="child_declined")], window).tasks[0]
    assert (declined.open, declined.outcome, declined.completed_within_window) == (
        False,
        "child_declined",
        False,
    )


def test_missing_again_after_the_offer_the_second_episode_keeps_its_own_offer_status() -> None:
    window = timedelta(hours=72)
    task_id = fold([reported(hours(0)), returned(hours(10))], window).tasks[0].task_id
    facts = [
        reported(hours(0)),
        returned(hours(10)),
        assigned(hours(11), task_id),
        offered(hours(20)),
        reported(hours(30)),  # missing again before the interview
        returned(hours(40)),
    ]
    state = fold(facts, window)
    first, second = state.episodes
    assert len(state.tasks) == 1
    assert state.tasks[0].episode_ids == [first.episode_id, second.episode_id]
    assert (first.offered_at, second.offered_at) == (hours(20), None)
    kinds = walk(facts, ManualClock(hours(40)), until=500)
    assert [k for k in kinds if k.startswith(("warning", "breach"))] == ["warning@88", "breach@112"]


def test_a_risk_change_after_the_return_attaches_to_the_returned_episode_in_any_arrival_order() -> None:
    window = timedelta(hours=72)
    facts = [reported(hours(0)), returned(hours(10)), risk(hours(12), "high", ("cse",))]
    in_order = fold(facts, window)
    assert fold(list(reversed(facts)), window) == in_order
    assert in_order.episodes[0].high_risk_at == hours(12)
    assert {i.key.split(":")[0] for i in due_events(in_order, hours(13), TIMING)} >= {
        "high_risk",
        "exploitation",
    }


DAY = 24.0


def nth_episode_on(days: list[float]) -> list[Fact]:
    facts: list[Fact] = []
    for day in days:
        facts += [reported(hours(day * DAY)), returned(hours(day * DAY + 1))]
    return facts


@pytest.mark.parametrize(("count", "within_days"), [(3, 90), (3, 30), (4, 30)])
def test_repeat_missing_the_nth_episode_on_day_d_raises_it_and_on_day_d_plus_1_does_not(
    count: int, within_days: int
) -> None:
    """First episode on day 0; the Nth on the last day of the period (D = within_days - 1) counts,
    the Nth a day later (day D + 1 = within_days) is outside the period."""
    timing = TimingSettings(repeat_missing=RepeatMissing(count=count, within_days=within_days))
    window = timedelta(hours=72)
    middle = [float(d) for d in range(1, count - 1)]
    last_day = float(within_days - 1)

    def repeat_alerts(days: list[float]) -> list[str]:
        state = fold(nth_episode_on(days), window)
        return [i.key for i in due_events(state, hours(1000 * DAY), timing) if i.key.startswith("repeat:")]

    inside = [0.0, *middle, last_day]
    nth = fold(nth_episode_on(inside), window).episodes[-1]
    assert repeat_alerts(inside) == [f"repeat:{nth.episode_id}"]
    assert repeat_alerts([0.0, *middle, last_day + 1]) == []
    assert repeat_alerts([0.0, last_day]) == []  # one episode short never raises it


def test_a_long_missing_alert_sent_on_time_is_not_late_and_after_downtime_is() -> None:
    state = fold([reported(hours(0))], timedelta(hours=72))
    on_time = [i.data for i in due_events(state, hours(24), TIMING) if i.key.startswith("long:")]
    after_downtime = [i.data for i in due_events(state, hours(30), TIMING) if i.key.startswith("long:")]
    assert [getattr(d, "late", None) for d in on_time] == [False]
    assert [getattr(d, "late", None) for d in after_downtime] == [True]
