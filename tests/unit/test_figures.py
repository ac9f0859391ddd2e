"""The figures of docs/domain.md rule 21 from episode records: which episodes count, and how the window is judged."""

from datetime import UTC, date, datetime, timedelta

from services.scheduler.report.figures import (
    EpisodeRecord,
    Figures,
    Period,
    TaskRecord,
    by_month,
    by_quarter,
    compute,
)

CARDIFF, NEWPORT = "W06000015", "W06000022"
T0 = datetime(2026, 10, 1, 12, tzinfo=UTC)
WINDOW = timedelta(hours=72)
OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))


def episode(n: int, **changes: object) -> EpisodeRecord:
    values: dict[str, object] = {
        "episode_id": f"e{n}",
        "child_key": f"{CARDIFF}/c{n}",
        "responsible_authority": CARDIFF,
        "placement_authority": CARDIFF,
        "started_at": T0,
        "cancelled": False,
        "returned_at": T0 + timedelta(hours=5),
        "offered_at": None,
        "interviewed_at": None,
        "breach_alert": False,
        "repeat_alert": False,
        "exploitation_alerts": 0,
        **changes,
    }
    return EpisodeRecord(**values)  # type: ignore[arg-type]


def figures(
    episodes: list[EpisodeRecord],
    tasks: tuple[TaskRecord, ...] = (),
    as_of: datetime = T0 + timedelta(days=30),
) -> Figures:
    return compute(episodes, tasks, authority=CARDIFF, period=OCTOBER, window=WINDOW, as_of=as_of)


def test_an_offer_at_the_last_moment_of_the_window_is_in_time_and_a_moment_later_is_a_breach() -> None:
    returned = T0 + timedelta(hours=5)
    result = figures(
        [
            episode(1, offered_at=returned + WINDOW),
            episode(2, offered_at=returned + WINDOW + timedelta(seconds=1), breach_alert=True),
            episode(3, breach_alert=True),
        ]
    )
    assert (result.windows_closed, result.offered_within_window, result.breaches) == (3, 1, 2)
    assert result.breach_alerts == 2
    assert round(result.pct_offered or 0, 1) == 33.3


def test_interviews_count_only_when_held_within_the_episodes_own_window() -> None:
    returned = T0 + timedelta(hours=5)
    result = figures(
        [
            episode(1, offered_at=returned, interviewed_at=returned + timedelta(hours=70)),
            episode(2, offered_at=returned, interviewed_at=returned + timedelta(hours=73)),
        ]
    )
    assert result.completed_within_window == 1
    assert result.pct_completed == 50.0


def test_an_open_window_counts_once_its_offer_is_made_and_not_before() -> None:
    result = figures(
        [
            episode(1),
            episode(2, offered_at=T0 + timedelta(hours=6)),
            episode(3, offered_at=T0 + timedelta(hours=30)),
        ],
        as_of=T0 + timedelta(hours=20),
    )
    assert (result.returned, result.windows_open, result.windows_closed, result.breaches) == (3, 3, 0, 0)
    assert (result.offers_decided, result.offered_within_window, result.pct_offered) == (1, 1, 100.0)
    assert (result.interviews_decided, result.pct_completed) == (0, None)


def test_only_the_authoritys_own_episodes_begun_in_the_period_and_not_cancelled_count() -> None:
    result = figures(
        [
            episode(1, placement_authority=NEWPORT, exploitation_alerts=2, repeat_alert=True),
            episode(2, child_key=f"{CARDIFF}/c1"),
            episode(3, responsible_authority=NEWPORT),
            episode(4, started_at=T0 - timedelta(days=2)),
            episode(5, cancelled=True, returned_at=None),
            episode(6, returned_at=None),
        ]
    )
    assert (result.episodes, result.children, result.in_area, result.out_of_area) == (3, 2, 2, 1)
    assert (result.returned, result.repeat_missing_alerts, result.exploitation_alerts) == (2, 1, 2)


def test_tasks_count_by_their_first_episode_and_acceptance_is_a_share_of_them() -> None:
    tasks = [
        TaskRecord("t1", CARDIFF, T0, accepted=True),
        TaskRecord("t2", CARDIFF, T0, accepted=False),
        TaskRecord("t3", CARDIFF, T0 - timedelta(days=3), accepted=True),
    ]
    result = figures([], tuple(tasks))
    assert (result.tasks, result.accepted, result.pct_accepted) == (2, 1, 50.0)


def test_months_split_the_period_and_clip_its_ends() -> None:
    period = Period(date(2026, 9, 15), date(2026, 11, 3))
    assert [m.label for m in period.months()] == [
        "2026-09-15..2026-09-30",
        "2026-10",
        "2026-11-01..2026-11-03",
    ]
    months = by_month(
        [episode(1)], [], authority=CARDIFF, period=period, window=WINDOW, as_of=T0 + timedelta(days=9)
    )
    assert [m.episodes for m in months] == [0, 1, 0]


def test_months_and_quarters_are_counted_in_uk_time() -> None:
    """Half past midnight on 1 October in British Summer Time is still 30 September in UTC: the episode
    belongs to October, as the council counts it; in winter UK time and UTC agree."""
    autumn = Period(date(2026, 7, 1), date(2026, 12, 31))
    assert [q.label for q in autumn.quarters()] == ["2026-Q3", "2026-Q4"]
    early_october = datetime(2026, 9, 30, 23, 30, tzinfo=UTC)
    late_october = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    records = [episode(1, started_at=early_october), episode(2, started_at=late_october)]
    months = by_month(
        records, [], authority=CARDIFF, period=autumn, window=WINDOW, as_of=T0 + timedelta(days=90)
    )
    assert [(m.period, m.episodes) for m in months if m.episodes] == [("2026-10", 2)]
    quarters = by_quarter(
        records, [], authority=CARDIFF, period=autumn, window=WINDOW, as_of=T0 + timedelta(days=90)
    )
    assert [(q.period, q.episodes) for q in quarters] == [("2026-Q3", 0), ("2026-Q4", 2)]


def test_declines_attempts_and_not_offered_are_counted_apart_and_never_as_offered() -> None:
    returned = T0 + timedelta(hours=5)
    result = figures(
        [
            episode(1, offered_at=returned + timedelta(hours=2)),
            episode(2, declined_at=returned + timedelta(hours=3)),  # settles the window, not an offer
            episode(3, attempted_at=returned + timedelta(hours=3), breach_alert=True),  # an attempt: breaches
            episode(4, not_offered_at=returned + timedelta(hours=1), not_offered_reason="child_in_custody"),
            episode(5, not_offered_at=returned + timedelta(hours=1), not_offered_reason="child_in_custody"),
            episode(6, not_offered_at=returned + timedelta(hours=1), not_offered_reason="child_moved_abroad"),
        ]
    )
    assert (result.offered_within_window, result.declined, result.unable_to_contact, result.not_offered) == (
        1,
        1,
        1,
        3,
    )
    assert result.not_offered_by_reason == {"child_in_custody": 2, "child_moved_abroad": 1}
    assert (result.offers_decided, result.breaches) == (6, 1)
    assert round(result.pct_offered or 0, 1) == 16.7
