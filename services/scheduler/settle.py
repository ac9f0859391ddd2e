"""Bring children up to date: fold each child's history, publish what is newly due, set timers.

Called for new events (from Kafka) and for timers that fired, always inside one database
transaction, so the history, the read models, the outbox and the timers change together or not at all.
"""

from collections.abc import Sequence
from datetime import datetime

import structlog

from services.scheduler import metrics, store
from services.scheduler.child import ChildState, fold
from services.scheduler.history import Entry
from services.scheduler.triggers import Outgoing, due_events, wakeups
from shared import outbox, topics
from shared.contracts.envelope import Envelope
from shared.directory import Directory

log = structlog.get_logger()
SOURCE = "/mtp/scheduler"


async def settle_children(
    conn: store.Connection,
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
    await store.lock_children(conn, keys, now)
    loaded = await store.add_and_load_entries(conn, keys, new_entries, now)
    # Children whose events were all repeats need no work unless a timer woke them.
    targets = [key for key in keys if key in loaded.changed or key in child_keys]
    # Each responsible authority may have thresholds of its own (docs/domain.md rule 28).
    timings = {key: directory.timing_for(key.split("/", 1)[0]) for key in targets}
    states: dict[str, ChildState] = {key: fold(loaded.entries.get(key, []), timings[key]) for key in targets}

    # What was published before is not made again (the statement below would not publish it twice).
    candidates = [
        (key, out)
        for key, state in states.items()
        for out in due_events(state, now, timings[key])
        if out.key not in loaded.published.get(key, ())
    ]
    task_topic = topics.named(namespace, topics.TASKS)
    messages = [outbox.row(task_topic, key, _envelope(key, out, now)) for key, out in candidates]
    timers = [(key, moment) for key, state in states.items() for moment in wakeups(state, now, timings[key])]
    fresh = await store.write_settled(conn, candidates, messages, timers, states, now)
    published = [(key, out) for key, out in candidates if out.key in fresh]
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
    for state in states.values():
        if state.unapplied:
            log.info(
                "events_waiting",
                count=len(state.unapplied),
                open_episodes=int(state.open_episode is not None),
            )
    return [out for _, out in published]


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
