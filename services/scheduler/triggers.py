"""What the scheduler tells the notifier: interview requests, window warnings and breaches, and the
safeguarding triggers (DOMAIN rules 5-9 and 14-18), derived from a child's state at a given time.

Each outgoing event has a deterministic key, so it is published once however often the state is
re-derived; time-based ones (warnings, breach, long missing) exist only once `now` has passed their
moment, and `wakeups` says when the answer could next change.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from services.scheduler.episodes import ChildState, Episode, Task, stable_id
from shared.contracts.common import ExploitationIndicator
from shared.contracts.tasks import (
    EpisodeOpened,
    ExploitationAlert,
    HighRiskAlert,
    InterviewRequested,
    LongMissingAlert,
    RepeatMissingAlert,
    TaskEvent,
    WindowBreached,
    WindowWarning,
)
from shared.directory import TimingSettings

# A time-based event published later than this after its moment says so (`late`): the scheduler was
# down, or the news that made it due arrived after the moment had passed.
LATE_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class Outgoing:
    """An event to publish once: `key` identifies it, `at` is when it became due."""

    key: str
    at: datetime
    data: TaskEvent

    @property
    def event_id(self) -> str:
        return stable_id("out", self.key)

    def late_at(self, now: datetime) -> bool:
        """Whether publishing this at `now` is late."""
        return now - self.at > LATE_AFTER


def due_events(state: ChildState, now: datetime, timing: TimingSettings) -> list[Outgoing]:
    """Every event the state calls for by `now`, in the order they became due."""
    found: list[Outgoing] = []
    live = [e for e in state.episodes if not (e.end_reason or "").startswith("cancelled")]
    for episode in state.episodes:
        found.append(Outgoing(f"opened:{episode.episode_id}", episode.started_at, _opened(episode)))
        if episode.high_risk_at is not None:
            found.append(
                Outgoing(f"high_risk:{episode.episode_id}", episode.high_risk_at, _high_risk(episode))
            )
        if episode.exploitation_at is not None:
            found.append(
                Outgoing(
                    f"exploitation:{episode.episode_id}",
                    episode.exploitation_at,
                    _exploitation(episode, sorted(episode.indicators), "police", episode.exploitation_at),
                )
            )
    for episode in live:
        repeat = _repeat_count(live, episode, timing)
        if repeat >= timing.repeat_missing.count:
            found.append(
                Outgoing(f"repeat:{episode.episode_id}", episode.started_at, _repeat(episode, repeat, timing))
            )
        for hours in timing.long_missing_thresholds:
            moment = episode.started_at + timedelta(hours=hours)
            if moment <= now and (episode.ended_at is None or episode.ended_at > moment):
                found.append(
                    Outgoing(f"long:{episode.episode_id}:{hours:g}", moment, _long(episode, hours, moment))
                )
    for task in state.tasks:
        first = state.episode(task.episode_ids[0])
        found.append(Outgoing(f"requested:{task.task_id}", task.returned_at, _requested(first, task)))
        if task.interview_indicators:
            moment = task.completed_at or task.returned_at
            found.append(
                Outgoing(
                    f"exploitation_interview:{task.task_id}",
                    moment,
                    _exploitation(first, sorted(task.interview_indicators), "interview", moment),
                )
            )
        for episode_id in task.episode_ids:
            found.extend(_window(state.episode(episode_id), task, now, timing))
    due = sorted((item for item in found if item.at <= now), key=lambda item: (item.at, item.key))
    return [_flag_late(item, now) for item in due]


def _flag_late(item: Outgoing, now: datetime) -> Outgoing:
    # The key, and so the event id, stays the same: only the content says it is late.
    if isinstance(item.data, WindowWarning | WindowBreached | LongMissingAlert) and item.late_at(now):
        return Outgoing(item.key, item.at, item.data.model_copy(update={"late": True}))
    return item


def wakeups(state: ChildState, now: datetime, timing: TimingSettings) -> list[datetime]:
    """Future moments at which `due_events` could say more: the timers to set."""
    moments: set[datetime] = set()
    for episode in state.episodes:
        if (episode.end_reason or "").startswith("cancelled"):
            continue
        if episode.ended_at is None:
            for hours in timing.long_missing_thresholds:
                moments.add(episode.started_at + timedelta(hours=hours))
        returned = episode.returned_at
        if returned is not None and episode.task_id is not None:
            for hours in _window_hours(timing):
                moments.add(returned + timedelta(hours=hours))
    return sorted(moment for moment in moments if moment > now)


def _window_hours(timing: TimingSettings) -> tuple[float, float, float]:
    return (timing.acceptance_reminder_hours, timing.offer_warning_hours, timing.interview_window_hours)


def _window(episode: Episode, task: Task, now: datetime, timing: TimingSettings) -> list[Outgoing]:
    returned = episode.returned_at
    if returned is None:
        return []
    reminder_hours, warning_hours, window_hours = _window_hours(timing)
    due = returned + timedelta(hours=window_hours)
    out = []
    reminder = returned + timedelta(hours=reminder_hours)
    if (
        not task.held_at(reminder)
        and _not_by(episode.offered_at, reminder)
        and _not_by(task.completed_at, reminder)
    ):
        out.append(
            Outgoing(
                f"reminder:{episode.episode_id}",
                reminder,
                _warning(episode, task, due, "no_provider_accepted"),
            )
        )
    warning = returned + timedelta(hours=warning_hours)
    if _not_by(episode.offered_at, warning) and _not_by(task.completed_at, warning):
        out.append(
            Outgoing(f"warning:{episode.episode_id}", warning, _warning(episode, task, due, "no_offer_made"))
        )
    if _not_by(episode.offered_at, due) and _not_by(task.completed_at, due):
        out.append(Outgoing(f"breach:{episode.episode_id}", due, _breached(episode, task, due, now)))
    return [item for item in out if item.at <= now]


def _not_by(moment: datetime | None, deadline: datetime) -> bool:
    """Nothing had happened by the deadline (something later is late, not on time)."""
    return moment is None or moment > deadline


def _repeat_count(episodes: list[Episode], episode: Episode, timing: TimingSettings) -> int:
    since = episode.started_at - timedelta(days=timing.repeat_missing.within_days)
    return sum(1 for other in episodes if since < other.started_at <= episode.started_at)


def _base(episode: Episode) -> dict[str, str]:
    return {
        "child_ref": episode.child_ref,
        "responsible_authority": episode.responsible_authority,
        "placement_authority": episode.placement_authority,
        "episode_id": episode.episode_id,
    }


def _opened(episode: Episode) -> EpisodeOpened:
    return EpisodeOpened(
        **_base(episode), kind=episode.kind, started_at=episode.started_at, risk_level=episode.risk_level
    )


def _high_risk(episode: Episode) -> HighRiskAlert:
    assert episode.high_risk_at is not None
    return HighRiskAlert(**_base(episode), raised_at=episode.high_risk_at)


def _exploitation(
    episode: Episode,
    indicators: list[ExploitationIndicator],
    source: Literal["police", "interview"],
    at: datetime,
) -> ExploitationAlert:
    return ExploitationAlert(**_base(episode), indicators=indicators, source=source, raised_at=at)


def _repeat(episode: Episode, count: int, timing: TimingSettings) -> RepeatMissingAlert:
    return RepeatMissingAlert(
        **_base(episode),
        episodes_in_period=count,
        period_days=timing.repeat_missing.within_days,
        raised_at=episode.started_at,
    )


def _long(episode: Episode, hours: float, at: datetime) -> LongMissingAlert:
    return LongMissingAlert(**_base(episode), hours_missing=hours, raised_at=at)


def _requested(episode: Episode, task: Task) -> InterviewRequested:
    return InterviewRequested(
        **_base(episode),
        task_id=task.task_id,
        returned_at=task.returned_at,
        offer_due_at=task.offer_due_at,
        risk_level=episode.risk_level,
        exploitation_indicators=sorted(episode.indicators),
        preferred_language=episode.preferred_language,
    )


def _warning(
    episode: Episode, task: Task, due: datetime, stage: Literal["no_provider_accepted", "no_offer_made"]
) -> WindowWarning:
    assert episode.returned_at is not None
    return WindowWarning(
        **_base(episode), task_id=task.task_id, returned_at=episode.returned_at, offer_due_at=due, stage=stage
    )


def _breached(episode: Episode, task: Task, due: datetime, now: datetime) -> WindowBreached:
    assert episode.returned_at is not None
    return WindowBreached(
        **_base(episode),
        task_id=task.task_id,
        returned_at=episode.returned_at,
        offer_due_at=due,
        breached_at=due,
    )
