"""The invariant of the episode and task model, property-tested over generated histories.

A history is a few absences of one child, each reported by the police (with a reference) and/or the
council (without, sometimes of the other kind), with risk changes, one or two returns at different
times, withdrawals, "not offered" records, and the provider's acceptances, offers and outcomes. The
order intake learnt of them (their `childseq`) differs from the order they happened: reports arrive
late, returns before their reports, an interview after the next absence. The scheduler then receives
them in any order at all.

For every arrival order and every prefix of it:
(a) the final state is the same as for the order the events were learnt in;
(b) everything the scheduler would have published along the way is still true of the final state:
    every episode and task it named exists with the same id, every alert and change it announced is
    still announced with the same content, no absence is offered twice, and every window that closed
    unmet in the final state has its warnings and breach.
"""

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scheduler.domain.child import ChildState, fold
from services.scheduler.domain.history import Entry
from services.scheduler.domain.triggers import Outgoing, due_events
from services.scheduler.report import replay
from services.scheduler.report.figures import EpisodeRecord
from services.scheduler.report.voice import FindingsRecord
from services.scheduler.voice import heard as voice
from shared.contracts.assignments import AssignmentFact
from shared.contracts.envelope import Envelope
from shared.contracts.interviews import InterviewCompleted, InterviewEvent
from shared.contracts.tasks import InterviewRequested, InterviewUpdated
from shared.contracts.voice import ActionDone, Findings, FindingsResponded
from tests.unit.generated import histories
from tests.unit.timeline import TIMING, hours

# Published once and never taken back: what an event raised, and what a task was asked or told.
STICKY = (
    "opened",
    "changed",
    "high_risk",
    "exploitation",
    "repeat",
    "requested",
    "closed",
    "exploitation_interview",
)
WINDOW = ("reminder", "warning", "breach")
CHILD = "W06000015/C-1"
FAR = timedelta(days=400)


def published_along(arrival: list[Entry]) -> dict[str, Outgoing]:
    """What the scheduler publishes as the events arrive one by one (each at the latest moment any of
    them tells of), and at the end once every window has passed: each key once, as first published."""
    out: dict[str, Outgoing] = {}
    moment = hours(0)
    for n in range(1, len(arrival) + 1):
        moment = max(moment, arrival[n - 1].happened_at, arrival[n - 1].time)
        for item in due_events(fold(arrival[:n], TIMING), moment, TIMING):
            out.setdefault(item.key, item)
    return out


def ids_named(item: Outgoing) -> tuple[str, str | None]:
    return item.data.episode_id, getattr(item.data, "task_id", None)


def check_invariant(final: ChildState, published: dict[str, Outgoing], end: datetime) -> None:
    """(b): what was published along the way is still true of the final state."""
    episodes = {e.episode_id: e for e in final.episodes}
    tasks = {t.task_id: t for t in final.tasks}
    due = {item.key: item for item in due_events(final, end, TIMING)}
    for key, item in published.items():
        episode_id, task_id = ids_named(item)
        assert episode_id in episodes, f"{key} names an episode that no longer exists"
        assert task_id is None or task_id in tasks, f"{key} names a task that no longer exists"
        if item.kind in STICKY:
            assert key in due, f"{key} was published and is no longer true"
            assert due[key].data == item.data, f"{key} was published with other content"
        if item.kind == "updated":
            _, task, revision = key.split(":")
            assert tasks[task].packets[int(revision)].offer_due_at == item.data.offer_due_at  # type: ignore[attr-defined]
    # No absence is offered twice: when a task it was ever put in, other than the one that covers it in
    # the end, held an interview after the child came back from it (as the final timeline has it), the
    # task that covers it held one too, after the return and no later than that one. A task can be asked
    # for on what was known then and revised or closed once a later report shows an interview already
    # held had covered the absence; the absence may not end waiting for a second, later interview. (A
    # task that kept other absences of its own may hold its interview for them afterwards.)
    covered: dict[str, list[str]] = {}
    for item in published.values():
        if isinstance(item.data, InterviewRequested | InterviewUpdated):
            for episode_id in item.data.episode_ids or [item.data.episode_id]:
                if item.data.task_id not in covered.setdefault(episode_id, []):
                    covered[episode_id].append(item.data.task_id)
    for episode_id, task_ids in covered.items():
        episode = episodes[episode_id]
        if not episode.live or episode.returned_at is None:  # withdrawn, left care, or not back: owed nothing
            continue
        for task_id in task_ids:
            other = tasks[task_id]
            if episode_id in other.episode_ids:
                continue
            held = other.task.held_at
            if held is None or held < episode.returned_at:
                continue
            (covering,) = [t for t in final.tasks if episode_id in t.episode_ids] or [None]
            covered_at = covering.task.held_at if covering is not None else None
            assert covered_at is not None, "an absence was offered twice"
            assert episode.returned_at <= covered_at <= held, "an absence was offered twice"
    for episode in final.episodes:
        covering = [t for t in final.tasks if episode.episode_id in t.episode_ids]
        if episode.returned_at is not None and episode.live:
            assert len(covering) <= 1, "an absence is covered by two tasks"
            if not covering:
                assert episode.not_offered_at is not None, "a returned child has no interview task"
            elif episode.breached(end):
                assert f"breach:{episode.episode_id}" in published, "a window closed unmet without a breach"
                for stage in ("warning", "breach"):
                    assert due[f"{stage}:{episode.episode_id}"].data.episode_id == episode.episode_id


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), data=st.data())
def test_every_arrival_order_and_every_prefix_keep_what_was_published_true(
    history: tuple[list[Entry], list[Entry]], data: st.DataObject
) -> None:
    intake, notifier = history
    everything = intake + notifier
    arrival = data.draw(st.permutations(everything))
    final = fold(arrival, TIMING)
    assert final == fold(everything, TIMING)  # (a)
    end = max((f.happened_at for f in everything), default=hours(0)) + FAR
    published = published_along(arrival)
    published.update({item.key: item for item in due_events(final, end, TIMING) if item.key not in published})
    check_invariant(final, published, end)


def stored_records(child: str, final: ChildState, emitted: Iterable[Outgoing]) -> list[EpisodeRecord]:
    """The figures' records as the scheduler's read models and its record of what it published give
    them (report_store.py)."""
    alerts: dict[str, list[str]] = {}
    for item in emitted:
        episode_id = item.data.episode_id
        if item.kind == "exploitation_interview":
            episode_id = final.task(item.data.task_id).episode_ids[0]  # type: ignore[attr-defined, union-attr]
        alerts.setdefault(episode_id, []).append(item.data.type_name)
    found = []
    for e in final.episodes:
        task = final.task(e.task_id)
        interviewed = task.completed_at if task and e.returned_at and task.outcome == "completed" else None
        mine = alerts.get(e.episode_id, [])
        found.append(
            EpisodeRecord(
                e.episode_id,
                child,
                e.responsible_authority,
                e.placement_authority,
                e.started_at,
                e.end_reason == "cancelled",
                e.returned_at,
                e.offered_at,
                interviewed,
                "window.breached" in mine,
                "alert.repeat_missing" in mine,
                mine.count("alert.exploitation"),
                e.declined_at,
                e.attempted_at,
                e.not_offered_at,
                e.not_offered_reason,
            )
        )
    return sorted(found, key=lambda r: r.episode_id)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), data=st.data())
def test_the_figures_replayed_from_what_was_published_agree_with_the_stored_ones(
    history: tuple[list[Entry], list[Entry]], data: st.DataObject
) -> None:
    """What any subscriber rebuilds from the topics (report --source topics) is what the scheduler
    stored, however late and out of order the reports came."""
    intake, notifier = history
    arrival = data.draw(st.permutations(intake + notifier))
    end = max((f.happened_at for f in arrival), default=hours(0)) + FAR
    published = published_along(arrival)
    final = fold(arrival, TIMING)
    published.update({item.key: item for item in due_events(final, end, TIMING) if item.key not in published})
    # The topics: what the scheduler published (in the order it did), and the facts themselves.
    envelopes = [
        Envelope(id=f.key, source=f.key.split("|")[0], type=f.type, time=f.time, data=f.data)
        for f in sorted(intake, key=lambda f: f.known)
    ]
    envelopes += [
        Envelope(id=n.key, source="/mtp/notifier", type=n.type, time=n.time, data=n.data) for n in notifier
    ]
    envelopes += [
        Envelope(id=item.key, source="/mtp/scheduler", type=item.data.type_name, time=end, data=item.data)
        for item in published.values()
    ]
    replayed = replay.records(envelopes).episodes
    stored = stored_records("W06000015/C-1", final, published.values())
    replayed.sort(key=lambda r: r.episode_id)
    differences = [
        (a.episode_id, name, getattr(a, name), getattr(b, name))
        for a, b in zip(replayed, stored, strict=True)
        for name in a.__dataclass_fields__
        if getattr(a, name) != getattr(b, name)
    ]
    assert [r.episode_id for r in replayed] == [r.episode_id for r in stored]
    assert not differences, f"replayed and stored differ (episode, field, replayed, stored): {differences}"


def with_findings(entry: Entry) -> Entry:
    """The same event, and if it is a held interview, with what the child said."""
    data = entry.data
    if not isinstance(data, InterviewCompleted) or data.outcome != "completed":
        return entry
    said = Findings(reasons=["boredom"], placement_view="move", child_words="nobody listens")
    return replace(entry, data=data.model_copy(update={"findings": said}))


def answers_to(entries: list[Entry]) -> list[Entry]:
    """A council's answer to each held interview's findings, one late and one a correction."""
    held = [e for e in entries if isinstance(e.data, InterviewCompleted) and e.data.outcome == "completed"]
    return [
        Entry(
            f"/orgs/cardiff|answer-{n}",
            "findings.responded",
            e.time + timedelta(days=8 * (n % 2)),
            FindingsResponded(
                child_ref="C-1",
                responsible_authority="W06000015",
                findings_id=f"findings-{e.data.assignment_id}",  # type: ignore[attr-defined]
                responded_at=e.time + timedelta(days=8 * (n % 2)),
                actions=[ActionDone(code="support_offered")],
                child_told=bool(n % 2),
                corrects=n > 0,
            ),
        )
        for n, e in enumerate(held)
    ]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), data=st.data())
def test_what_the_child_said_and_the_councils_answers_move_no_window(
    history: tuple[list[Entry], list[Entry]], data: st.DataObject
) -> None:
    """docs/domain.md rule 36: with findings on every held interview and the council's answers (late,
    corrected) mixed in, in any order, the fold and everything published along the way are the same as
    without them."""
    intake, notifier = history
    everything = intake + notifier
    # Each event beside itself without the voice (None: an answer, which has no plain twin).
    pairs: list[tuple[Entry, Entry | None]] = [(with_findings(e), e) for e in everything]
    pairs += [(answer, None) for answer in answers_to(everything)]
    arrival = data.draw(st.permutations(pairs))
    taken = [
        replace(e, data=folded) for e, _ in arrival if (folded := voice.for_the_fold(e.data)) is not None
    ]
    plain = [p for _, p in arrival if p is not None]
    assert fold(taken, TIMING) == fold(plain, TIMING)
    assert published_along(taken) == published_along(plain)
    assert "nobody listens" not in repr(fold(taken, TIMING))  # the fold keeps none of the child's words


def topic_of(entry: Entry) -> str:
    """Which topic an event travels on: each is read in order, the topics interleaved in any way."""
    if isinstance(entry.data, InterviewEvent):
        return "interviews"
    if isinstance(entry.data, AssignmentFact):
        return "assignments"
    return "episodes"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), data=st.data())
def test_what_the_child_said_is_replayed_the_same_however_the_topics_interleave(
    history: tuple[list[Entry], list[Entry]], data: st.DataObject
) -> None:
    """docs/domain.md rule 35: the replay's record of what children said is the findings of each held
    interview, placed by the episode it followed, with every answer the council gave, however the
    topics' events interleave when read (each topic in its own order, as the scheduler reads them)."""
    intake, notifier = history
    said = [with_findings(e) for e in intake]
    answers = answers_to(said)
    final = fold(intake + notifier, TIMING)
    end = max((f.happened_at for f in intake + notifier), default=hours(0)) + FAR
    published = [item.data for item in due_events(final, end, TIMING)]
    queues: dict[str, list[Envelope]] = {"tasks": []}
    for entry in [*sorted(said, key=lambda f: f.known), *answers, *notifier]:
        envelope = Envelope(
            id=entry.key, source=entry.key.split("|")[0], type=entry.type, time=entry.time, data=entry.data,
            key=CHILD,
        )  # fmt: skip
        queues.setdefault(topic_of(entry), []).append(envelope)
    queues["tasks"] = [
        Envelope(id=f"s-{n}", source="/mtp/scheduler", type=d.type_name, time=end, data=d, key=CHILD)
        for n, d in enumerate(published)
    ]
    read: list[Envelope] = []
    while any(queues.values()):
        topic = data.draw(st.sampled_from(sorted(t for t, q in queues.items() if q)))
        read.append(queues[topic].pop(0))

    heard = {}
    for entry in sorted(said, key=lambda f: f.known):  # the first findings of an interview stand
        if isinstance(entry.data, InterviewCompleted) and entry.data.findings is not None:
            heard.setdefault(f"findings-{entry.data.assignment_id}", entry.data)
    begun = sorted(final.episodes, key=lambda e: (e.started_at, e.episode_id))
    expected = []
    for findings_id, held in heard.items():
        followed = [e for e in begun if e.started_at <= held.completed_at]
        expected.append(
            FindingsRecord(
                findings_id=findings_id,
                child_key=CHILD,
                responsible_authority="W06000015",
                placement_authority=followed[-1].placement_authority if followed else "W06000015",
                completed_at=held.completed_at,
                reasons=("boredom",),
                placement_view="move",
                answers=tuple(
                    sorted(
                        (a.data.responded_at, a.data.child_told)  # type: ignore[attr-defined]
                        for a in answers
                        if a.data.findings_id == findings_id  # type: ignore[attr-defined]
                    )
                ),
            )
        )
    replayed = replay.records(read).findings
    assert sorted(replayed, key=lambda f: f.findings_id) == sorted(expected, key=lambda f: f.findings_id)
