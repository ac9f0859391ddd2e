"""What the scheduler publishes: interview requests and updates, window warnings and breaches, changes
to episodes, and the safeguarding alerts (docs/domain.md rules 5-9, 14-18 and 22-27), from a child's state at
a given time.

Each outgoing event has a deterministic key, so it is published once however often the state is
re-derived; time-based ones (warnings, breach, long missing) exist only once `now` has passed their
moment, and `wakeups` says when the answer could next change.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property, partial
from typing import Literal

from services.scheduler.domain.child import ChildState, Packet, TaskState
from services.scheduler.domain.episodes import Episode
from services.scheduler.domain.history import stable_id
from services.scheduler.domain.notices import Raised
from services.scheduler.domain.tasks import CLOSED_WITHOUT_INTERVIEW
from shared.contracts.common import ExploitationIndicator
from shared.contracts.tasks import (
    EpisodeChanged,
    EpisodeOpened,
    ExploitationAlert,
    HighRiskAlert,
    InterviewClosed,
    InterviewRequested,
    InterviewUpdated,
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
# Within one moment: an episode before what is said about it, a task's request before its updates.
_RANK = {
    "opened": 0,
    "changed": 1,
    "high_risk": 2,
    "exploitation": 2,
    "repeat": 2,
    "long": 2,
    "requested": 3,
    "updated": 4,
    "closed": 5,
    "exploitation_interview": 6,
    "reminder": 7,
    "warning": 7,
    "breach": 7,
}


@dataclass(frozen=True)
class Outgoing:
    """An event to publish once: `key` identifies it, `at` is when it became due. Its content is made
    only when asked for (most of what a state calls for was published before, and is not made again)."""

    key: str
    at: datetime
    build: Callable[[], TaskEvent] = field(repr=False, compare=False)
    late: bool = False

    @cached_property
    def data(self) -> TaskEvent:
        """The event's content; a time-based one published late says so."""
        data = self.build()
        if self.late and isinstance(data, WindowWarning | WindowBreached | LongMissingAlert):
            return data.model_copy(update={"late": True})
        return data

    @property
    def event_id(self) -> str:
        return stable_id("out", self.key)

    @property
    def kind(self) -> str:
        return self.key.split(":", 1)[0]

    def late_at(self, now: datetime) -> bool:
        """Whether publishing this at `now` is late."""
        return now - self.at > LATE_AFTER


def due_events(state: ChildState, now: datetime, timing: TimingSettings) -> list[Outgoing]:
    """Every event the state calls for by `now`, in the order they became due."""
    # What events raised goes first, in the order the system learnt of them (each change to an episode
    # after the one before it); then the tasks, in the order they were opened (each one's request
    # before what is said of it later); then what time brings, in the order it became due.
    raised = [_from_raised(raised) for raised in state.raised]
    tasks = [item for task in state.tasks for item in _task_events(state, task)]
    timed: list[Outgoing] = []
    for episode in state.episodes:
        timed += _long_missing(episode, now, timing)
    for task in state.tasks:
        for episode_id in task.episode_ids:
            timed += _window(state.episode(episode_id), task, now, timing)
    timed.sort(key=lambda item: (item.at, _RANK[item.kind], item.key))
    return [_flag_late(item, now) for item in raised + tasks + timed if item.at <= now]


def _flag_late(item: Outgoing, now: datetime) -> Outgoing:
    # The key, and so the event id, stays the same: only the content says it is late.
    if item.kind in ("long", "reminder", "warning", "breach") and item.late_at(now):
        return Outgoing(item.key, item.at, item.build, late=True)
    return item


def wakeups(state: ChildState, now: datetime, timing: TimingSettings) -> list[datetime]:
    """Future moments at which `due_events` could say more: the timers to set."""
    # Something reported as happening a moment ahead (within intake's allowance for clock skew).
    moments: set[datetime] = {raised.at for raised in state.raised if raised.at > now}
    for task in state.tasks:
        moments.update(task_wakeups(state, task, now))
    for episode in state.episodes:
        moments.update(episode_wakeups(episode, state, now, timing))
    return sorted(moments)


def task_wakeups(state: ChildState, task: TaskState, now: datetime) -> list[datetime]:
    """Future moments at which something said of a task falls due (stamped a moment ahead)."""
    return [item.at for item in _task_events(state, task) if item.at > now]


def episode_wakeups(
    episode: Episode, state: ChildState, now: datetime, timing: TimingSettings
) -> list[datetime]:
    """Future moments at which time alone could make something due about an episode: the next steps
    of a long absence, its window's reminder, warning and breach."""
    if not episode.live:
        return []
    moments = []
    if episode.ended_at is None:
        moments += [episode.started_at + timedelta(hours=hours) for hours in timing.long_missing_thresholds]
    returned = episode.returned_at
    if returned is not None and episode.task_id is not None and episode.window_settled_at is None:
        moments += [returned + timedelta(hours=hours) for hours in _window_hours(timing)]
    return [moment for moment in moments if moment > now]


def _window_hours(timing: TimingSettings) -> tuple[float, float, float]:
    return (timing.acceptance_reminder_hours, timing.offer_warning_hours, timing.interview_window_hours)


def _base(episode: Episode, placement: str | None = None) -> dict[str, str]:
    return {
        "child_ref": episode.child_ref,
        "responsible_authority": episode.responsible_authority,
        "placement_authority": placement or episode.placement_authority,
        "episode_id": episode.episode_id,
    }


def _from_raised(raised: Raised) -> Outgoing:
    return Outgoing(raised.key, raised.at, partial(_raised_event, raised))


def _raised_event(raised: Raised) -> TaskEvent:
    episode, at = raised.episode, raised.at
    data: TaskEvent
    if raised.kind == "opened":
        data = EpisodeOpened(
            **_base(episode), kind=episode.kind, started_at=episode.started_at, risk_level=episode.risk_level
        )
    elif raised.kind == "changed":
        data = EpisodeChanged(
            **_base(episode),
            by=raised.by,
            changes=list(raised.changes),
            at=at,
            previous_placement_authority=raised.previous_placement,
            kind=episode.kind,
            started_at=episode.started_at,
            ended_at=episode.ended_at,
            end_reason=episode.end_reason,
            returned_at=episode.returned_at,
            risk_level=episode.risk_level,
            exploitation_indicators=sorted(episode.indicators),
            preferred_language=episode.preferred_language,
        )
    elif raised.kind == "high_risk":
        data = HighRiskAlert(**_base(episode), raised_at=at)
    elif raised.kind == "exploitation":
        data = _exploitation(episode, list(raised.indicators), "police", at)
    else:
        data = RepeatMissingAlert(
            **_base(episode), episodes_in_period=raised.count, period_days=raised.period_days, raised_at=at
        )
    return data


def _long_missing(episode: Episode, now: datetime, timing: TimingSettings) -> list[Outgoing]:
    found: list[Outgoing] = []
    if not episode.live:
        return found
    for hours in timing.long_missing_thresholds:
        moment = episode.started_at + timedelta(hours=hours)
        if moment <= now and (episode.ended_at is None or episode.ended_at > moment):
            data = partial(_long, episode, hours, moment)
            found.append(Outgoing(f"long:{episode.episode_id}:{hours:g}", moment, data))
    return found


def _long(episode: Episode, hours: float, moment: datetime) -> LongMissingAlert:
    return LongMissingAlert(**_base(episode), hours_missing=hours, raised_at=moment)


def _task_events(state: ChildState, task: TaskState) -> list[Outgoing]:
    if not task.packets:
        return []
    first = task.packets[0]
    requested_at = first.returned_at
    found = [Outgoing(f"requested:{task.task_id}", requested_at, partial(_requested, state, task, first))]
    if len(task.packets) > 1:
        latest = task.packets[-1]
        found.append(
            Outgoing(
                f"updated:{task.task_id}:{len(task.packets) - 1}",
                max(requested_at, latest.returned_at),
                partial(_updated, state, task, first, latest),
            )
        )
    ended_at = task.task.ended_at
    if task.task.ended in CLOSED_WITHOUT_INTERVIEW and ended_at is not None:
        closed = partial(_closed, state, task, task.packets[-1])
        found.append(Outgoing(f"closed:{task.task_id}", max(requested_at, ended_at), closed))
    if task.interview_indicators:
        moment = min(task.interview_indicators.values())
        episode = state.episode(first.episode_id)
        found.append(
            Outgoing(
                f"exploitation_interview:{task.task_id}",
                moment,
                partial(_exploitation, episode, sorted(task.interview_indicators), "interview", moment),
            )
        )
    return found


def _closed(state: ChildState, task: TaskState, latest: Packet) -> InterviewClosed:
    assert task.task.ended_at is not None
    return InterviewClosed(
        **_base(state.episode(latest.episode_id), latest.placement_authority),
        task_id=task.task_id,
        reason=task.task.ended,
        closed_at=task.task.ended_at,
    )


def _requested(state: ChildState, task: TaskState, packet: Packet) -> InterviewRequested:
    return InterviewRequested(
        **_base(state.episode(packet.episode_id), packet.placement_authority),
        task_id=task.task_id,
        returned_at=packet.returned_at,
        offer_due_at=packet.offer_due_at,
        risk_level=packet.risk_level,
        exploitation_indicators=list(packet.indicators),
        preferred_language=packet.preferred_language,
        episode_ids=list(packet.episode_ids),
    )


def _updated(state: ChildState, task: TaskState, first: Packet, latest: Packet) -> InterviewUpdated:
    changes = []
    if set(latest.episode_ids) - set(first.episode_ids):
        changes.append("episode_added")
    if latest.offer_due_at != first.offer_due_at:
        changes.append("deadline_moved")
    if latest.risk_level != first.risk_level:
        changes.append("risk_raised")
    if set(latest.indicators) - set(first.indicators):
        changes.append("indicators_added")
    if latest.placement_authority != first.placement_authority:
        changes.append("host_changed")
    if latest.preferred_language != first.preferred_language:
        changes.append("language_stated")
    return InterviewUpdated(
        **_base(state.episode(latest.episode_id), latest.placement_authority),
        task_id=task.task_id,
        episode_ids=list(latest.episode_ids),
        returned_at=latest.returned_at,
        offer_due_at=latest.offer_due_at,
        risk_level=latest.risk_level,
        exploitation_indicators=list(latest.indicators),
        preferred_language=latest.preferred_language,
        changes=changes,
    )


def _window(episode: Episode, task: TaskState, now: datetime, timing: TimingSettings) -> list[Outgoing]:
    returned = episode.returned_at
    if returned is None or not episode.live:
        return []
    reminder_hours, warning_hours, window_hours = _window_hours(timing)
    due = returned + timedelta(hours=window_hours)
    settled = episode.window_settled_at
    out = []
    reminder = returned + timedelta(hours=reminder_hours)
    if not task.held_at(reminder) and _not_by(settled, reminder):
        out.append(
            Outgoing(
                f"reminder:{episode.episode_id}",
                reminder,
                partial(_warning, episode, task, due, "no_provider_accepted"),
            )
        )
    warning = returned + timedelta(hours=warning_hours)
    if _not_by(settled, warning):
        out.append(
            Outgoing(
                f"warning:{episode.episode_id}",
                warning,
                partial(_warning, episode, task, due, "no_offer_made"),
            )
        )
    if _not_by(settled, due):
        out.append(Outgoing(f"breach:{episode.episode_id}", due, partial(_breached, episode, task, due)))
    return [item for item in out if item.at <= now]


def _not_by(moment: datetime | None, deadline: datetime) -> bool:
    """Nothing had happened by the deadline (something later is late, not on time)."""
    return moment is None or moment > deadline


def _exploitation(
    episode: Episode,
    indicators: list[ExploitationIndicator],
    source: Literal["police", "interview"],
    at: datetime,
) -> ExploitationAlert:
    return ExploitationAlert(**_base(episode), indicators=indicators, source=source, raised_at=at)


def _warning(
    episode: Episode, task: TaskState, due: datetime, stage: Literal["no_provider_accepted", "no_offer_made"]
) -> WindowWarning:
    assert episode.returned_at is not None
    return WindowWarning(
        **_base(episode), task_id=task.task_id, returned_at=episode.returned_at, offer_due_at=due, stage=stage
    )


def _breached(episode: Episode, task: TaskState, due: datetime) -> WindowBreached:
    assert episode.returned_at is not None
    return WindowBreached(
        **_base(episode),
        task_id=task.task_id,
        returned_at=episode.returned_at,
        offer_due_at=due,
        breached_at=due,
    )
