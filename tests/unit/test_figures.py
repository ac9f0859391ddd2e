"""The figures of DOMAIN rule 21 from episode records: which episodes count, and how the window is judged."""

from datetime import UTC, date, datetime, timedelta

from services.scheduler.figures import EpisodeRecord, Figures, Period, TaskRecord, by_month, compute

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
