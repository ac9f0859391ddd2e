"""Order does not matter: events arriving late or out of order end in the state of the sorted order."""

from hypothesis import given, settings
from hypothesis import strategies as st

from services.scheduler.episodes import Fact, fold
from services.scheduler.triggers import due_events
from shared.directory import TimingSettings
from tests.unit.test_window import WINDOW
from tests.unit.timeline import assigned, completed, hours, offered, reported, returned, risk

TIMING = TimingSettings()
TASK_ID = fold([reported(hours(0)), returned(hours(10))], WINDOW).tasks[0].task_id
# A child's history in three episodes; each inner list is what happened around one episode.
EPISODES: list[list[Fact]] = [
    [
        reported(hours(0), risk="medium", placement="W06000022"),
        reported(hours(0.5), risk="low"),  # the council's report of the same episode
        risk(hours(3), "high", ("county_lines",)),
        returned(hours(10)),
        assigned(hours(10.1), TASK_ID),
    ],
    [
        reported(hours(20), kind="away"),  # missing again before the interview
        returned(hours(26)),
        offered(hours(40)),
        completed(hours(50), indicators=("cce",)),
    ],
    [reported(hours(200)), returned(hours(230))],
]
FACTS = [fact for episode in EPISODES for fact in episode]
EXPECTED_STATE = fold(FACTS, WINDOW)
NOW = hours(400)
# Warnings, breaches and long-missing alerts depend on what was known *when*; they are tested in
# virtual time (test_window.py). Here: every alert that an event itself raises.
EVENT_RAISED = ("opened", "high_risk", "exploitation", "exploitation_interview", "repeat", "requested")


def raised_one_at_a_time(order: list[Fact]) -> set[str]:
    """Apply events one by one, as a consumer does, collecting every event-raised alert on the way."""
    raised: set[str] = set()
    for i in range(1, len(order) + 1):
        state = fold(order[:i], WINDOW)
        raised |= {
            item.key for item in due_events(state, NOW, TIMING) if item.key.split(":")[0] in EVENT_RAISED
        }
    return raised


@settings(max_examples=300, deadline=None)
@given(st.permutations(FACTS))
def test_any_arrival_order_gives_the_same_final_state(permuted: list[Fact]) -> None:
    assert fold(permuted, WINDOW) == EXPECTED_STATE
    assert due_events(fold(permuted, WINDOW), NOW, TIMING) == due_events(EXPECTED_STATE, NOW, TIMING)


@settings(max_examples=150, deadline=None)
@given(st.tuples(*(st.permutations(episode) for episode in EPISODES)))
def test_out_of_order_within_episodes_raises_the_same_alerts_as_in_order(
    blocks: tuple[list[Fact], ...],
) -> None:
    """A return before its report, a risk change after the return, an offer before its assignment:
    the alerts raised along the way are exactly those of the sorted order, none twice under two names."""
    permuted = [fact for block in blocks for fact in block]
    assert raised_one_at_a_time(permuted) == raised_one_at_a_time(sorted(FACTS, key=Fact.sort_key))
