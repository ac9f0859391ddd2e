"""Sequences councils, police forces and providers meet every week, each once lost an interview or an
alert or sent a false one. Each test states what the council or the provider must see."""

from pathlib import Path

from services.notifier.domain.recipients import council_recipients
from services.scheduler.domain.child import ChildState
from services.scheduler.domain.history import Entry
from services.scheduler.domain.triggers import Outgoing, due_events
from shared.contracts.tasks import EpisodeChanged, InterviewRequested, InterviewUpdated, WindowBreached
from shared.directory_file import load_directory
from tests.directory_factory import DirectoryFactory
from tests.unit.timeline import (
    COUNCIL,
    NEWPORT,
    TIMING,
    accepted,
    assigned,
    cancelled,
    completed,
    hours,
    not_offered,
    offered,
    reported,
    returned,
    risk,
    state,
    task_of,
)

LATER = hours(1000)


def published(child: ChildState, kind: str | None = None) -> list[Outgoing]:
    """Everything due once all the windows have passed, or only one kind of it."""
    return [o for o in due_events(child, LATER, TIMING) if kind is None or o.kind == kind]


def handled(opening: list[Entry], outcome: str = "completed", at: float = 20) -> list[Entry]:
    """The opening episode's task accepted by a provider and reported on."""
    task_id = task_of(*opening)
    return [
        *opening,
        assigned(hours(10.5), task_id),
        accepted(hours(11), task_id),
        offered(hours(12), task_id) if outcome == "completed" else accepted(hours(11), task_id),
        completed(
            hours(at), task_id, outcome=outcome, decline_reason="no" if outcome == "child_declined" else None
        ),
    ]


# 1. A later absence after a task has ended gets its own interview.


def test_an_absence_after_the_interview_gets_a_task_and_a_window_of_its_own() -> None:
    opening = [reported(hours(0)), returned(hours(10))]
    later = [reported(hours(30), ref="R2"), returned(hours(40))]
    child = state(handled(opening), later)
    first, second = child.episodes
    assert len(child.tasks) == 2
    assert child.tasks[1].episode_ids == [second.episode_id]
    requests = [o.data for o in published(child, "requested")]
    assert [r.episode_id for r in requests if isinstance(r, InterviewRequested)] == [
        first.episode_id,
        second.episode_id,
    ]
    assert [o.data.episode_id for o in published(child, "breach")] == [second.episode_id]


def test_an_absence_after_the_provider_could_not_reach_the_child_gets_a_new_task() -> None:
    opening = [reported(hours(0)), returned(hours(10))]
    child = state(handled(opening, "unable_to_contact"), reported(hours(30), ref="R2"), returned(hours(40)))
    assert len(child.tasks) == 2
    assert len(published(child, "requested")) == 2


# 2. A joined episode reaches the provider that holds the task.


def test_a_new_return_joins_the_held_task_and_the_holder_is_told_the_new_deadline_risk_and_host() -> None:
    opening = [reported(hours(0)), returned(hours(10))]
    task_id = task_of(*opening)
    facts = [
        *opening,
        assigned(hours(10.5), task_id),
        accepted(hours(11), task_id),
        reported(hours(20), ref="R2", risk="high", indicators=("cce",), placement=NEWPORT),
        returned(hours(30)),
    ]
    child = state(facts)
    assert len(child.tasks) == 1
    updates = [o.data for o in published(child, "updated")]
    assert len(updates) == 1
    update = updates[0]
    assert isinstance(update, InterviewUpdated)
    assert (update.task_id, update.offer_due_at, update.risk_level, update.placement_authority) == (
        task_id,
        hours(30 + 72),
        "high",
        NEWPORT,
    )
    assert update.exploitation_indicators == ["cce"]
    assert set(update.changes) == {
        "episode_added",
        "deadline_moved",
        "risk_raised",
        "indicators_added",
        "host_changed",
    }
    # Each episode keeps its own window: both breach, each at its own hour.
    assert [o.at for o in published(child, "breach")] == [hours(82), hours(102)]


# 3. A cancellation withdraws the sender's own report, not the police's episode.


def test_a_council_withdrawing_its_duplicate_report_leaves_the_police_episode_open() -> None:
    police = reported(hours(0), risk="high")
    council = reported(hours(1), org=COUNCIL, ref=None)
    child = state(police, council, cancelled(hours(2), org=COUNCIL), returned(hours(30)))
    (episode,) = child.episodes
    assert episode.live
    assert episode.returned_at == hours(30)
    assert episode.standing == [police.key]
    assert [o.at for o in published(child, "long")] == [hours(24)]
    assert len(published(child, "requested")) == 1


def test_a_cancellation_naming_its_report_withdraws_that_report_only() -> None:
    first = reported(hours(0), org=COUNCIL, ref=None, kind="away")
    second = reported(hours(50), org=COUNCIL, ref=None, kind="away")
    child = state(first, returned(hours(10)), second, cancelled(hours(51), org=COUNCIL, report=first))
    kept, withdrawn = sorted(child.episodes, key=lambda e: e.started_at, reverse=True)
    assert (kept.started_at, kept.live) == (hours(50), True)
    assert (withdrawn.end_reason, withdrawn.live) == ("cancelled", False)


def test_when_the_police_withdraw_their_only_report_the_episode_ends_and_the_council_is_told() -> None:
    report = reported(hours(0), org=COUNCIL, ref=None)
    police = reported(hours(0.5))
    child = state(report, police, cancelled(hours(2), report=police))
    changes = [o.data for o in published(child, "changed") if isinstance(o.data, EpisodeChanged)]
    assert [(c.by, c.changes) for c in changes] == [
        ("south-wales-police", ["report_added"]),
        ("south-wales-police", ["report_withdrawn"]),
    ]
    assert child.episodes[0].live  # the council's own report still stands


def test_a_police_force_joining_the_councils_episode_is_told_to_the_council_by_name(tmp_path: Path) -> None:
    """Access follows the reports: once a force's report joins an episode the force can read it, so the
    responsible council learns who joined (and not of its own reports)."""
    council = reported(hours(0), org=COUNCIL, ref=None)
    police = reported(hours(0.5))
    child = state(council, police)
    (episode,) = child.episodes
    assert episode.reports == [council.key, police.key]
    (joined,) = [o.data for o in published(child, "changed")]
    assert isinstance(joined, EpisodeChanged)
    assert (joined.by, joined.changes) == ("south-wales-police", ["report_added"])
    directory = load_directory(DirectoryFactory(tmp_path).write())
    assert [org.id for org in council_recipients(directory, joined)] == ["cardiff"]


# 4. Ids never move: a late report of an earlier, separate absence gets an id of its own.


def test_a_late_report_of_an_earlier_absence_renames_nothing_and_is_announced() -> None:
    recent = [reported(hours(100), ref="R2"), returned(hours(110))]
    task_id = task_of(*recent)
    before = state(recent, assigned(hours(111), task_id), offered(hours(120), task_id))
    late = [reported(hours(0), ref="R1", org="gwent-police"), returned(hours(10), org="gwent-police")]
    after = state(recent, assigned(hours(111), task_id), offered(hours(120), task_id), late)
    ids_before = {e.episode_id for e in before.episodes}
    assert ids_before < {e.episode_id for e in after.episodes}
    assert {o.key for o in published(before)} <= {o.key for o in published(after)}
    recent_episode = next(e for e in after.episodes if e.episode_id in ids_before)
    assert recent_episode.offered_at == hours(120)  # the offer made in time still counts
    late_episode = next(e for e in after.episodes if e.episode_id not in ids_before)
    assert f"opened:{late_episode.episode_id}" in {o.key for o in published(after)}
    # Only the absence learnt late breaches, and the breach says it was published late.
    assert [(o.data.episode_id, o.data.late) for o in published(after, "breach")] == [  # type: ignore[union-attr]
        (late_episode.episode_id, True)
    ]


# 5. A second report's facts are kept.


def test_welsh_stated_by_the_council_after_a_police_report_that_said_nothing_reaches_the_provider() -> None:
    child = state(
        reported(hours(0)), reported(hours(0.5), org=COUNCIL, ref=None, language="cy"), returned(hours(5))
    )
    assert child.episodes[0].preferred_language == "cy"
    (request,) = [o.data for o in published(child, "requested")]
    assert isinstance(request, InterviewRequested)
    assert request.preferred_language == "cy"


def test_a_changed_placement_reaches_the_new_host_council() -> None:
    child = state(reported(hours(0)), reported(hours(2), org=COUNCIL, ref=None, placement=NEWPORT))
    assert child.episodes[0].placement_authority == NEWPORT
    (change,) = [o.data for o in published(child, "changed")]
    assert isinstance(change, EpisodeChanged)
    assert (change.placement_authority, change.previous_placement_authority, change.by) == (
        NEWPORT,
        "W06000015",
        COUNCIL,
    )
    assert "placement_changed" in change.changes


# 6. Every exploitation indicator alerts, each once.


def test_trafficking_added_to_a_cce_episode_raises_an_alert_naming_it() -> None:
    child = state(reported(hours(0), indicators=("cce",)), risk(hours(3), "medium", ("cce", "trafficking")))
    alerts = [(o.key.split(":", 2)[2:], o.data.indicators) for o in published(child, "exploitation")]  # type: ignore[union-attr]
    assert alerts == [([], ["cce"]), (["trafficking"], ["trafficking"])]


# 7. Only an offer is an offer.


def test_unable_to_contact_is_an_attempt_and_the_window_still_breaches() -> None:
    child = state(handled([reported(hours(0)), returned(hours(10))], "unable_to_contact"))
    episode = child.episodes[0]
    assert (episode.offered_at, episode.attempted_at) == (None, hours(20))
    assert [type(o.data) for o in published(child, "breach")] == [WindowBreached]


def test_a_child_declining_settles_the_window_but_is_not_an_offer() -> None:
    child = state(handled([reported(hours(0)), returned(hours(10))], "child_declined"))
    episode = child.episodes[0]
    assert (episode.offered_at, episode.declined_at, episode.decline_reason) == (None, hours(20), "no")
    assert published(child, "breach") == []


def test_not_offered_recorded_by_the_council_closes_the_window_and_the_task() -> None:
    opening = [reported(hours(0)), returned(hours(10))]
    episode_id = state(*opening).episodes[0].episode_id
    child = state(opening, not_offered(hours(30), episode_id))
    episode = child.episodes[0]
    assert (episode.not_offered_at, episode.not_offered_reason) == (hours(30), "child_in_custody")
    assert published(child, "breach") == []
    assert [o.data.reason for o in published(child, "closed")] == ["not_offered"]  # type: ignore[union-attr]


# 8. Disagreeing, late and repeated reports of one absence.


def test_council_away_and_police_missing_for_one_absence_are_one_episode_of_the_more_serious_kind() -> None:
    child = state(reported(hours(0), org=COUNCIL, ref=None, kind="away"), reported(hours(1), kind="missing"))
    (episode,) = child.episodes
    assert episode.kind == "missing"
    assert episode.started_at == hours(0)


def test_a_late_return_does_not_swallow_the_next_absence() -> None:
    first, second = reported(hours(0), ref="R1"), reported(hours(20), ref="R2")
    child = state(first, second, returned(hours(10)), returned(hours(30)))
    assert [(e.started_at, e.returned_at) for e in child.episodes] == [
        (hours(0), hours(10)),
        (hours(20), hours(30)),
    ]
    without_references = state(
        reported(hours(0), org=COUNCIL, ref=None),
        reported(hours(20), org=COUNCIL, ref=None),
        returned(hours(10)),
    )
    assert len(without_references.episodes) == 2  # the second began after a known return


def test_an_earlier_return_moves_the_deadline_and_the_holder_is_told() -> None:
    opening = [reported(hours(0)), returned(hours(30), org=COUNCIL)]
    task_id = task_of(*opening)
    child = state(opening, assigned(hours(31), task_id), accepted(hours(31), task_id), returned(hours(28)))
    assert child.episodes[0].returned_at == hours(28)
    (update,) = [o.data for o in published(child, "updated")]
    assert isinstance(update, InterviewUpdated)
    assert (update.offer_due_at, update.changes) == (hours(28 + 72), ["deadline_moved"])


def test_a_late_return_that_puts_an_absence_before_the_interview_asks_for_it_once() -> None:
    """The second absence was known to end at 60 h when the interview at 55 h was reported, so it was
    given a task of its own. Then the police report the child back at 30 h: the interview covered that
    absence after all, and the council's report from 50 h is an absence of its own, the one that really
    came after the interview. The task already asked for goes to it: no third task, no false breach."""
    opening = [reported(hours(0), ref="R1"), returned(hours(10))]
    task_id = task_of(*opening)
    child = state(
        opening,
        assigned(hours(11), task_id),
        accepted(hours(12), task_id),
        reported(hours(20), ref="R2"),
        reported(hours(50), org=COUNCIL, ref=None),
        returned(hours(60)),
        offered(hours(52), task_id),
        completed(hours(55), task_id),
        returned(hours(30)),
    )
    _, second, third = child.episodes
    assert [(e.started_at, e.returned_at) for e in child.episodes] == [
        (hours(0), hours(10)),
        (hours(20), hours(30)),
        (hours(50), hours(60)),
    ]
    assert (second.task_id, second.offered_at) == (task_id, hours(52))
    assert not second.breached(LATER)
    assert len(child.tasks) == 2
    assert child.tasks[1].episode_ids == [third.episode_id]
    requested = [o.data for o in published(child, "requested")]
    assert [r.task_id for r in requested if isinstance(r, InterviewRequested)] == [
        t.task_id for t in child.tasks
    ]
    updates = [o.data for o in published(child, "updated") if isinstance(o.data, InterviewUpdated)]
    assert (updates[-1].task_id, updates[-1].episode_id) == (child.tasks[1].task_id, third.episode_id)
    assert [b.data.episode_id for b in published(child, "breach")] == [third.episode_id]


def test_an_absence_the_council_will_not_offer_keeps_no_task_when_the_interview_came_before_its_return() -> (
    None
):
    """An interview held before a return does not cover it, but the council recorded that absence as not
    offered: nothing more is owed, and no task is asked for it."""
    opening = [reported(hours(0), ref="R1"), returned(hours(10))]
    task_id = task_of(*opening)
    second = [reported(hours(20), ref="R2"), returned(hours(40))]
    episode_id = state(opening, second).episodes[1].episode_id
    child = state(
        opening,
        assigned(hours(11), task_id),
        accepted(hours(12), task_id),
        second,
        not_offered(hours(41), episode_id),
        offered(hours(30), task_id),
        completed(hours(35), task_id),
    )
    assert len(child.tasks) == 1
    assert [r.data.task_id for r in published(child, "requested")] == [task_id]
    assert child.episodes[1].not_offered_at == hours(41)


def test_a_late_return_splitting_an_absence_two_interviews_were_held_for_leaves_each_part_covered_once() -> (
    None
):
    """The council reported the child missing again at 5 h, an hour after coming back; the police
    reported at 45 h, back at 49 h: one absence, as known, so it was given a task of its own once the
    first interview had been held at 9 h, and that task's provider held one at 95 h. Then the police
    report the child was back at 9 h: two absences. The first was covered by the interview at 9 h,
    when the child was back (not by the one at 95 h, past its window: no false breach); the second by
    the interview at 95 h (no third task asking for an interview already held)."""
    opening = [reported(hours(0), ref="R0"), returned(hours(4))]
    first = task_of(*opening)
    council = reported(hours(5), org=COUNCIL, ref=None)
    later = [reported(hours(45), ref="R2"), returned(hours(49))]
    so_far = [
        opening,
        assigned(hours(4), first),
        accepted(hours(7), first),
        council,
        later,
        completed(hours(9), first),
    ]
    second = state(*so_far).tasks[1].task_id
    child = state(
        *so_far,
        assigned(hours(49), second),
        accepted(hours(93), second),
        completed(hours(95), second),
        returned(hours(9)),
    )
    assert [(e.started_at, e.returned_at, e.task_id) for e in child.episodes] == [
        (hours(0), hours(4), first),
        (hours(5), hours(9), first),
        (hours(45), hours(49), second),
    ]
    assert [t.task_id for t in child.tasks] == [first, second]
    assert [e.offered_at for e in child.episodes] == [hours(9), hours(9), hours(95)]
    assert not any(e.breached(LATER) for e in child.episodes)
    assert published(child, "breach") == []
    # every reader of the topics learns which interview covers which absence
    updates = [o.data for o in published(child, "updated") if isinstance(o.data, InterviewUpdated)]
    assert {(u.task_id, tuple(u.episode_ids)) for u in updates} >= {
        (first, (child.episodes[0].episode_id, child.episodes[1].episode_id)),
        (second, (child.episodes[2].episode_id,)),
    }
