"""Bring children up to date: fold their new events from their kept state, publish what is newly due,
set timers.

Called for new events (from Kafka) and for timers that fired, always inside one database transaction,
so the history, the kept state, the read models, the outbox and the timers change together or not at
all. A batch costs three statements whatever the children's histories: lock the children, add the new
events and load what each child's settle needs (`kept/store/`), write what they decided; a settle that
needs more (a region reaching further back, a task its event names) loads it by another statement. A
child whose history was folded before the kept state existed is folded once more from its start first.
"""

import time
from collections.abc import Sequence
from datetime import datetime

import structlog

from services.scheduler.core import metrics
from services.scheduler.domain.history import Entry
from services.scheduler.domain.read_model import episode_row, task_row
from services.scheduler.domain.triggers import Outgoing
from services.scheduler.kept.engine import Settled, settle
from services.scheduler.kept.loaded import Need
from services.scheduler.kept.memory import Archive
from services.scheduler.kept.rows import (
    Json,
    child_from,
    child_json,
    episode_row_json,
    task_row_json,
)
from services.scheduler.kept.store import history as kept_history
from services.scheduler.kept.store import load as kept_load
from services.scheduler.kept.store import write as kept_write
from services.scheduler.report.figures import month_of_moment
from services.scheduler.store import tables
from shared import outbox, topics
from shared.contracts.envelope import Envelope
from shared.directory import Directory, TimingSettings

log = structlog.get_logger()
SOURCE = "/mtp/scheduler"
# Loads after the first one a batch may ask for before a child is folded again from its start instead.
MAX_ROUNDS = 8


async def settle_children(
    conn: tables.Connection,
    child_keys: Sequence[str],
    *,
    now: datetime,
    directory: Directory,
    namespace: str,
    new_entries: Sequence[tuple[str, Entry]] = (),
) -> list[Outgoing]:
    """Apply new events to children and publish what they now call for; return what was published."""
    keys = sorted(set(child_keys) | {child for child, _ in new_entries})
    if not keys:
        return []
    cpu = time.process_time()
    # Each responsible authority may have thresholds of its own (docs/domain.md rule 28).
    timings = {key: directory.timing_for(key.split("/", 1)[0]) for key in keys}
    children = await kept_load.lock_children(conn, keys, now)
    writes = kept_write.Writes()
    # Children folded before the kept state existed are folded once more from the start, with what is new.
    unkept = [key for key in keys if not children[key].kept]
    await kept_history.add_facts(conn, [(child, fact) for child, fact in new_entries if child in unkept], now)
    requests = {key: _request(children[key].state, timings[key]) for key in keys if key not in unkept}
    incoming = [(child, fact) for child, fact in new_entries if child in requests]
    loaded = await kept_load.load(conn, requests, incoming, now) if requests else {}
    settled: dict[str, Settled] = {}
    again: list[str] = []  # folded from the start: the order everything was learnt in changed
    for _ in range(MAX_ROUNDS):
        more: dict[str, kept_load.Request] = {}
        for key, found in loaded.items():
            if key in settled or key in again or (key not in child_keys and not found.new):
                continue  # every event of it a repeat, and no timer woke it: nothing to do
            result = settle(found, now=now, timing=timings[key])
            if isinstance(result, Settled):
                settled[key] = result
            elif result.rebuild:
                again.append(key)
            else:
                more[key] = _more(requests[key], result, found.since)
        if not more:
            break
        arriving = [(child, fact) for child, fact in incoming if child in more]  # stored already: repeats now
        for key, found in (await kept_load.load(conn, more, arriving, now)).items():
            found.new = loaded[key].new
            loaded[key] = found
            requests[key] = more[key]
    else:
        again += [key for key in more if key not in settled]  # asked for more too often (never seen)
    for key in unkept + again:
        await _fold_again(conn, key, now, timings[key], writes)
    for key, result in settled.items():
        _add(writes, key, result, now)
    task_topic = topics.named(namespace, topics.TASKS)
    writes.messages = [outbox.row(task_topic, key, _envelope(key, out, now)) for key, out in writes.outgoing]
    fresh = await kept_write.write(conn, writes, now)
    published = [(key, out) for key, out in writes.outgoing if out.key in fresh]
    _report(published, now)
    metrics.EVENTS_TAKEN_IN.inc(sum(len(found.new) for found in loaded.values()))
    metrics.SETTLE_CPU.inc(time.process_time() - cpu)
    return [out for _, out in published]


def _request(state: Json | None, timing: TimingSettings) -> kept_load.Request:
    child = child_from(state) if state is not None else None
    return kept_load.Request(
        state=state,
        seq=child.seq if child is not None else 0,
        whole=child is None or child.steps == 0,
        repeat_days=timing.repeat_missing.within_days,
        facts=(child.waiting + child.orphans) if child is not None else [],
    )


def _more(request: kept_load.Request, need: Need, since: datetime | None) -> kept_load.Request:
    """The request extended by what a settle asked for (its region, loaded from `since`, only widened)."""
    wider = need.wider or request.forced
    reach = need.reach if need.wider else request.reach
    if need.wider and since is None:
        reach = None  # the whole history is loaded already: a region only ever widens
    elif need.wider and reach is not None and since is not None:
        reach = min(reach, since)
    caps = dict(request.caps)
    if need.wider and need.step is not None:
        caps[need.step] = need.reach
    return kept_load.Request(
        caps=caps,
        seq=request.seq,
        whole=request.whole or (need.wider and reach is None),
        reach=reach,
        forced=wider,
        repeat_days=request.repeat_days,
        episodes=request.episodes | need.episodes,
        tasks=request.tasks | need.tasks,
        all_tasks=request.all_tasks or need.all_tasks,
        facts=request.facts,
        state=request.state,
    )


def _add(writes: kept_write.Writes, key: str, result: Settled, now: datetime) -> None:
    """What one child's settle writes."""
    state = result.state
    writes.children.append((key, child_json(result.child)))
    writes.outgoing += [(key, out) for out in result.outgoing]
    writes.timers += [(key, moment) for moment in result.timers]
    writes.gone += sorted(result.gone)
    writes.notes += [
        (fact, note.applied_to) for fact, note in result.notes.items() if note.applied_to is not None
    ]
    for row in result.episodes.values():
        writes.episodes.append(
            {**episode_row(key, state, row.episode, now), "state": episode_row_json(row), "live": row.live}
        )
        writes.months.add((row.episode.responsible_authority, month_of_moment(row.episode.started_at)))
    by_id = {task.task_id: task for task in state.tasks}
    for tid, kept in result.tasks.items():
        writes.tasks.append(
            {**task_row(key, state, by_id[tid], now), "state": task_row_json(kept), "live": kept.live}
        )
        writes.held += [(key, report, tid) for report in sorted(kept.task.held_for)]
        if kept.task.episode_ids:  # a task counts in the month its first episode began
            first = state.episode(kept.task.episode_ids[0])
            writes.months.add((first.responsible_authority, month_of_moment(first.started_at)))
    if result.unapplied:
        log.info("events_waiting", count=len(result.unapplied))


async def _fold_again(
    conn: tables.Connection, key: str, now: datetime, timing: TimingSettings, writes: kept_write.Writes
) -> None:
    """Fold a child's whole history again from its start (nothing published before is published
    again; every id stays) and keep what it comes to."""
    found = await kept_history.history(conn, key)
    await kept_history.describe_facts(conn, found.facts)
    archive = Archive(key, facts={fact.key: fact for fact in found.facts}, emitted=found.emitted)
    outgoing = archive.rebuild(now=now, timing=timing)
    assert archive.child is not None
    writes.children.append((key, archive.child))
    writes.outgoing += [(key, out) for out in outgoing]
    writes.timers += [(key, moment) for moment in sorted(archive.timers)]
    writes.notes += [
        (fact, note.applied_to) for fact, note in archive.notes.items() if note.applied_to is not None
    ]
    writes.gone += sorted(found.episodes - set(archive.episodes))
    for eid, row in archive.episodes.items():
        writes.episodes.append({**archive.read[eid], "state": row, "live": row["live"]})
        started = datetime.fromisoformat(row["episode"]["started_at"])
        writes.months.add((row["episode"]["responsible_authority"], month_of_moment(started)))
    for tid, row in archive.tasks.items():
        writes.tasks.append({**archive.read[tid], "state": row, "live": row["live"]})
    writes.held += [(key, report, tid) for report, tasks in archive.held.items() for tid in sorted(tasks)]
    log.info("history_folded_again", events=len(archive.facts), episodes=len(archive.episodes))


def _report(published: list[tuple[str, Outgoing]], now: datetime) -> None:
    for _, out in published:
        lateness = (now - out.at).total_seconds()
        metrics.EVENTS_PUBLISHED.labels(type=out.data.type_name, late=str(out.late_at(now)).lower()).inc()
        log.info(
            "task_event_emitted",
            event_type=out.data.type_name,
            event_id=out.event_id,
            episode_id=out.data.episode_id,
            due_at=out.at.isoformat(),
            late=out.late_at(now),
            late_s=round(lateness, 3),
        )


def _envelope(child_key: str, out: Outgoing, now: datetime) -> Envelope:
    return Envelope(
        id=out.event_id,
        source=SOURCE,
        type=out.data.type_name,
        time=now,
        data=out.data,
        subject=out.data.episode_id,
        key=child_key,
    )
