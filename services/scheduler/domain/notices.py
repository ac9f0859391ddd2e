"""The notices a child's state calls for, each raised once: an episode opened or changed, and the
high-risk, exploitation and repeat-missing alerts (docs/domain.md rules 15-17, 22 and 26).

The fold (child.py) notes them after every step; they are published in the order learnt.
"""

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from services.scheduler.domain.episodes import RISK_ORDER, Episode, Snapshot
from services.scheduler.domain.history import Entry
from shared.contracts.common import ExploitationIndicator
from shared.directory import TimingSettings


@dataclass(frozen=True)
class Raised:
    """Something an event called for, noted when it first did: an episode opened or changed, an alert."""

    key: str
    kind: str  # opened, changed, high_risk, exploitation, repeat
    at: datetime
    step: int  # how many events the system had learnt when it was noted: the order to publish in
    episode: Episode  # as it stood then
    indicators: tuple[ExploitationIndicator, ...] = ()
    count: int = 0
    period_days: int = 0
    by: str | None = None
    changes: tuple[str, ...] = ()
    previous_placement: str | None = None


def publishing_order(raised: Raised) -> tuple[int, bool, datetime, str]:
    """In the order learnt; within a step, an episode's opening before anything said about it."""
    return (raised.step, raised.kind != "opened", raised.at, raised.key)


def raise_notes(
    raised: dict[str, Raised],
    fact: Entry,
    step: int,
    before: dict[str, Episode],
    episodes: Iterable[Episode],
    live_starts: Sequence[datetime],
    timing: TimingSettings,
) -> None:
    """Note what the `episodes`, as they stand once `fact` is known, call for that was not noted yet.
    `live_starts` holds, in order, when every live episode of the child began that any of them could
    count as a repeat (those that began in the repeat period before each)."""

    # Each step's episodes are made afresh (episodes_of), so a note can keep the episode as it stood;
    # only the final step's are given their windows afterwards, which no notice reads.
    def note(key: str, kind: str, at: datetime, episode: Episode, **extra: Any) -> None:
        if key not in raised:
            raised[key] = Raised(key, kind, at, step, episode, **extra)

    for episode in episodes:
        eid = episode.episode_id
        note(f"opened:{eid}", "opened", episode.started_at, episode)
        previous = before.get(eid)
        now = episode.snapshot()
        # An episode learnt of already ended (its return known first, or split off by a late return
        # with every report of it withdrawn) is announced as opened, then as ended. (Not for events
        # from before numbering, all learnt in one step: they were announced as they came.)
        if previous is not None:
            old = previous.snapshot()
        elif fact.seq is not None and now.end_reason is not None:
            old = replace(now, ended_at=None, end_reason=None)
        else:
            old = now
        if old != now:
            changes = _changes(old, now)
            moved = old.placement_authority if "placement_changed" in changes else None
            note(
                f"changed:{eid}:{fact.key}",
                "changed",
                fact.time,
                episode,
                by=fact.org,
                changes=tuple(changes),
                previous_placement=moved,
            )
        if episode.high_risk_at is not None:
            note(f"high_risk:{eid}", "high_risk", episode.high_risk_at, episode)
        _raise_exploitation(raised, note, episode)
        if episode.live:
            count = _repeat_count(live_starts, episode, timing)
            if count >= timing.repeat_missing.count:
                note(
                    f"repeat:{eid}",
                    "repeat",
                    episode.started_at,
                    episode,
                    count=count,
                    period_days=timing.repeat_missing.within_days,
                )


def _raise_exploitation(raised: dict[str, Raised], note: Callable[..., None], episode: Episode) -> None:
    """One alert for the indicators known when the episode first had any, then one per new indicator."""
    if not episode.indicators:
        return
    eid = episode.episode_id
    first = raised.get(f"exploitation:{eid}")
    if first is None:
        moment = min(episode.indicators.values())
        at_first = tuple(sorted(i for i, t in episode.indicators.items() if t <= moment))
        note(f"exploitation:{eid}", "exploitation", moment, episode, indicators=at_first)
        first = raised[f"exploitation:{eid}"]
    for indicator, seen in sorted(episode.indicators.items()):
        if indicator not in first.indicators:
            note(f"exploitation:{eid}:{indicator}", "exploitation", seen, episode, indicators=(indicator,))


def _repeat_count(live_starts: Sequence[datetime], episode: Episode, timing: TimingSettings) -> int:
    since = episode.started_at - timedelta(days=timing.repeat_missing.within_days)
    return bisect.bisect_right(live_starts, episode.started_at) - bisect.bisect_right(live_starts, since)


def _changes(old: Snapshot, new: Snapshot) -> list[str]:
    """What changed between two snapshots of one episode, as codes (EpisodeChange)."""
    found: list[str] = []
    if new.reports - old.reports:
        found.append("report_added")
    if old.reports - new.reports:
        found.append("split")
    if old.standing - new.standing and new.standing:
        found.append("report_withdrawn")
    if new.kind != old.kind:
        found.append("kind_changed")
    if new.started_at != old.started_at:
        found.append("start_moved")
    if RISK_ORDER.index(new.risk_level) > RISK_ORDER.index(old.risk_level):
        found.append("risk_raised")
    if new.indicators - old.indicators:
        found.append("indicators_added")
    if new.preferred_language != old.preferred_language:
        found.append("language_stated")
    if new.placement_authority != old.placement_authority:
        found.append("placement_changed")
    if new.end_reason != old.end_reason or new.ended_at != old.ended_at:
        if new.end_reason == "returned":
            found.append("returned" if old.end_reason != "returned" else "return_moved")
        elif new.end_reason in ("cancelled", "left_care", "kind_changed"):
            found.append(new.end_reason)
    return found
