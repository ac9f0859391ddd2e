"""The kept state is the fold: a child settled event by event from what the scheduler keeps of it (the
last fold's episodes, tasks and notices, in the form PostgreSQL keeps them, loaded only as far as each
event can reach) is in the same state, and has published the same events with the same content, as
the child's whole history replayed from scratch (`child.fold`), at every prefix of every arrival order:
histories of a few absences and of sixty and more, reports learnt late and out of order, withdrawals
with and without the report they take back, children leaving care. A history folded again from its
start (as an upgrade does) comes to the same state and publishes what is due, no more.
"""

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scheduler.domain.child import ChildState, Folding
from services.scheduler.domain.history import Entry, applicable
from services.scheduler.domain.read_model import episode_row, task_row
from services.scheduler.domain.triggers import Outgoing, due_events
from services.scheduler.kept.memory import Archive
from tests.unit.generated import histories
from tests.unit.timeline import CARDIFF, TIMING, hours

CHILD = f"{CARDIFF}/C-1"
FAR = timedelta(days=400)
# Written with the row, not part of the child's state.
WRITTEN = ("updated_at", "recount_at")


def reference(arrival: list[Entry]) -> Iterator[ChildState]:
    """The fold from scratch of each prefix of the arrival order (stepped once per event learnt)."""
    folding = Folding(TIMING)
    for n in range(1, len(arrival) + 1):
        ready, waiting = applicable(arrival[:n])
        learnt = sorted((f for f in ready if f.from_intake), key=lambda f: f.known)
        for fact in learnt[len(folding.learnt) :]:
            folding.step([fact])
        yield folding.state([f for f in ready if not f.from_intake], waiting)


def rows(state: ChildState, now: datetime) -> dict[str, dict[str, Any]]:
    """The read models' rows for a state, as written at `now`."""
    found = {e.episode_id: episode_row(CHILD, state, e, now) for e in state.episodes}
    found |= {t.task_id: task_row(CHILD, state, t, now) for t in state.tasks}
    return {key: _unwritten(row) for key, row in found.items()}


def _unwritten(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name not in WRITTEN}


def check_along(arrival: list[Entry]) -> None:
    """Settle the kept state event by event beside the fold from scratch, comparing at every prefix.
    A repeat of an event already taken in changes nothing (the inbox): the fold gets the first only."""
    arrival = list({f.key: f for f in reversed(arrival)}.values())[::-1]
    archive = Archive(CHILD)
    kept: dict[str, Outgoing] = {}
    fold_published: dict[str, Outgoing] = {}
    moment = hours(0)
    final: ChildState | None = None
    for n, state in enumerate(reference(arrival)):
        fact = arrival[n]
        moment = max(moment, fact.happened_at, fact.time)
        for item in archive.settle([fact], now=moment, timing=TIMING):
            assert item.key not in kept, f"{item.key} published twice"
            kept[item.key] = item
        for item in due_events(state, moment, TIMING):
            fold_published.setdefault(item.key, item)
        _same(kept, fold_published, archive, state, moment, f"after {n + 1} of {len(arrival)}")
        final = state
    assert final is not None
    # Time passes: every window closes, every absence reaches its last step.
    end = moment + FAR
    for item in archive.settle([], now=end, timing=TIMING):
        assert item.key not in kept, f"{item.key} published twice"
        kept[item.key] = item
    for item in due_events(final, end, TIMING):
        fold_published.setdefault(item.key, item)
    _same(kept, fold_published, archive, final, end, "at the end")


def _same(
    kept: dict[str, Outgoing],
    fold_published: dict[str, Outgoing],
    archive: Archive,
    state: ChildState,
    now: datetime,
    when: str,
) -> None:
    assert set(kept) == set(fold_published), (
        f"{when}: published only by the kept state {sorted(set(kept) - set(fold_published))}, "
        f"only by the fold {sorted(set(fold_published) - set(kept))}"
    )
    for key, item in kept.items():
        assert item.data == fold_published[key].data, f"{when}: {key} published with other content"
    expected = rows(state, now)
    found = {key: _unwritten(row) for key, row in archive.read.items()}
    assert set(found) == set(expected), f"{when}: rows {sorted(set(found) ^ set(expected))} differ"
    for key, row in expected.items():
        differing = {
            name: (found[key][name], value) for name, value in row.items() if found[key][name] != value
        }
        assert not differing, f"{when}: {key} differs (kept, fold): {differing}"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(variety=True), data=st.data())
def test_a_child_settled_from_its_kept_state_is_the_fold_at_every_prefix_of_every_arrival_order(
    history: tuple[list[Entry], list[Entry]], data: st.DataObject
) -> None:
    intake, notifier = history
    check_along(data.draw(st.permutations(intake + notifier)))


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(
    history=histories(absences=st.integers(60, 70), lateness=(0, 0, 0, 0, 1, 5, 40, 150, 2000), variety=True),
    data=st.data(),
)
def test_so_is_a_child_who_went_missing_sixty_times_and_more(
    history: tuple[list[Entry], list[Entry]], data: st.DataObject
) -> None:
    intake, notifier = history
    arrival = intake + notifier
    # Mostly as learnt, with some events arriving late and some early.
    for _ in range(data.draw(st.integers(0, 12))):
        i = data.draw(st.integers(0, len(arrival) - 1))
        j = data.draw(st.integers(0, len(arrival) - 1))
        arrival[i], arrival[j] = arrival[j], arrival[i]
    check_along(arrival)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(absences=st.integers(1, 12), variety=True))
def test_a_history_folded_again_from_its_start_is_the_fold_and_publishes_only_what_is_due(
    history: tuple[list[Entry], list[Entry]],
) -> None:
    intake, notifier = history
    notifier = list({f.key: f for f in reversed(notifier)}.values())[::-1]  # the inbox keeps the first
    everything = intake + notifier
    end = max(max(f.happened_at, f.time) for f in everything) + timedelta(hours=30)
    archive = Archive(CHILD, facts={f.key: f for f in everything})
    published = archive.rebuild(now=end, timing=TIMING)
    folding = Folding(TIMING)
    for fact in sorted(intake, key=lambda f: f.known):
        folding.step([fact])
    final = folding.state(notifier)
    due = due_events(final, end, TIMING)
    assert [item.key for item in published] == [item.key for item in due]
    assert [item.data for item in published] == [item.data for item in due]
    _same(
        {item.key: item for item in published},
        {item.key: item for item in due},
        archive,
        final,
        end,
        "rebuilt",
    )
