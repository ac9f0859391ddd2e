"""What provider reports do to an assignment, and when a place in a provider's capacity is freed."""

import pytest

from services.notifier.domain.lifecycle import Step, after_report, open_loads
from services.notifier.domain.routing import Need, choose_provider
from tests.unit.test_routing import CARDIFF, POLICE, provider


@pytest.mark.parametrize(
    ("status", "event", "step"),
    [
        ("offered", "interview.accepted", Step("accepted", accepted_now=True, moves_on=False)),
        ("offered", "interview.declined", Step("declined", accepted_now=False, moves_on=True)),
        ("offered", "interview.offered", Step("accepted", accepted_now=True, moves_on=False)),
        ("offered", "interview.completed", Step("completed", accepted_now=True, moves_on=False)),
        ("accepted", "interview.offered", Step("accepted", accepted_now=False, moves_on=False)),
        ("accepted", "interview.completed", Step("completed", accepted_now=False, moves_on=False)),
        ("accepted", "interview.accepted", None),  # a repeat changes nothing
        ("accepted", "interview.declined", Step("declined", accepted_now=False, moves_on=True)),
        ("expired", "interview.accepted", None),  # too late: the task moved on
        ("declined", "interview.offered", None),
        ("withdrawn", "interview.completed", None),
        ("completed", "interview.completed", None),
    ],
)
def test_reports_move_an_assignment_only_from_a_state_they_fit(
    status: str, event: str, step: Step | None
) -> None:
    assert after_report(status, event) == step


def test_completion_frees_a_place_in_the_providers_capacity() -> None:
    small = provider("small", capacity=2)
    need = Need(CARDIFF, CARDIFF, "en")
    busy = [("small", "accepted"), ("small", "offered")]
    full = choose_provider(
        [small], need, police_ids=POLICE, open_assignments=open_loads(busy), already_asked=frozenset()
    )
    assert full.chosen is None
    assert full.excluded == {"small": "at_capacity"}

    after = [("small", "completed"), ("small", "offered"), ("other", "declined"), ("other", "expired")]
    assert open_loads(after) == {"small": 1}
    freed = choose_provider(
        [small], need, police_ids=POLICE, open_assignments=open_loads(after), already_asked=frozenset()
    )
    assert freed.chosen == "small"
