"""The figures' records rebuilt from the published facts alone, as any outside subscriber could.

This is deliberately a second derivation, not the scheduler's fold: episodes are known from
`episode.opened` and, as they change, from `episode.changed` (the latest says how each one stands);
tasks and the episodes they cover from `interview.requested` and `interview.updated`, tasks closed
without an interview from `interview.closed`; who holds which task from `mtp.assignments.v1`; offers,
declines, attempts and interviews from `mtp.interviews.v1`; "not offered" records from
`mtp.episodes.v1`; alerts from the alerts themselves. What children said comes from the findings on
`interview.completed`, the councils' answers and NRM decisions from `mtp.episodes.v1`, arrests from the
returns that say so (docs/domain.md rule 35). Whether an offer came in a window, and which
window it settles, is worked out again here from the rules (docs/domain.md), so the agreement of the two checks
both. (For episodes announced before episodes were numbered, which were never announced as changed,
the end is taken from the first return reported after the episode began, as it was then.)
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from services.scheduler.report.figures import EpisodeRecord, Records, TaskRecord
from services.scheduler.report.voice import FindingsRecord
from shared.contracts.assignments import AssignmentAccepted, AssignmentAssigned
from shared.contracts.envelope import Envelope
from shared.contracts.episodes import InterviewNotOffered, Returned
from shared.contracts.interviews import InterviewCompleted, InterviewOffered
from shared.contracts.tasks import (
    EpisodeChanged,
    EpisodeOpened,
    ExploitationAlert,
    InterviewClosed,
    InterviewRequested,
    InterviewUpdated,
    RepeatMissingAlert,
    WindowBreached,
)
from shared.contracts.voice import FindingsResponded, NrmDecided, findings_id_of

ARRESTED = "arrested"


@dataclass
class _Episode:
    opened: EpisodeOpened
    latest: EpisodeChanged | None = None
    task_id: str | None = None
    not_offered: tuple[datetime, str] | None = None

    @property
    def returned_at(self) -> datetime | None:
        return self.latest.returned_at if self.latest is not None else None


@dataclass
class _Task:
    requested: InterviewRequested
    offers: list[datetime] = field(default_factory=list)  # reported offers, and interviews held
    completions: list[tuple[datetime, str]] = field(default_factory=list)  # in the order reported
    accepted: bool = False
    closed: InterviewClosed | None = None
    covers: tuple[str, ...] = ()  # the episodes its latest word lists
    said: int = 0  # when that word was published, in order


@dataclass
class _Log:
    episodes: dict[str, _Episode] = field(default_factory=dict)
    tasks: dict[str, _Task] = field(default_factory=dict)
    returns: dict[str, list[datetime]] = field(default_factory=dict)  # by child
    task_of_assignment: dict[str, str] = field(default_factory=dict)
    accepted_tasks: set[str] = field(default_factory=set)
    reports: list[InterviewOffered | InterviewCompleted] = field(default_factory=list)
    breached: set[str] = field(default_factory=set)
    repeat: set[str] = field(default_factory=set)
    exploitation: dict[str, int] = field(default_factory=dict)
    heard: dict[str, tuple[str, InterviewCompleted]] = field(default_factory=dict)  # by findings id
    answers: dict[str, dict[str, tuple[datetime, bool]]] = field(default_factory=dict)  # by findings, event
    arrests: dict[str, list[datetime]] = field(default_factory=dict)  # by child
    nrm: dict[str, str] = field(default_factory=dict)  # the first decision, by episode


def records(envelopes: Iterable[Envelope]) -> Records:
    """Every episode, task and set of findings the topics tell of, with what the figures need."""
    facts = _collect(envelopes)
    _covering_tasks(facts)
    _returns_before_numbering(facts)
    _attach_reports(facts)
    return Records(_episode_records(facts), _task_records(facts), _findings_records(facts))


def _collect(envelopes: Iterable[Envelope]) -> _Log:
    facts = _Log()
    not_offered: list[tuple[InterviewNotOffered, datetime]] = []
    for said, envelope in enumerate(envelopes):  # each child's events in the order they were published
        data = envelope.data
        if isinstance(data, EpisodeOpened):
            facts.episodes.setdefault(data.episode_id, _Episode(data))
        elif isinstance(data, EpisodeChanged) and data.episode_id in facts.episodes:
            facts.episodes[data.episode_id].latest = data
        elif isinstance(data, InterviewRequested):
            facts.tasks.setdefault(data.task_id, _Task(data))
            _cover(facts, data.task_id, data.episode_ids or [data.episode_id], said)
        elif isinstance(data, InterviewUpdated):
            _cover(facts, data.task_id, data.episode_ids, said)
        elif isinstance(data, InterviewClosed) and data.task_id in facts.tasks:
            facts.tasks[data.task_id].closed = data
        elif isinstance(data, InterviewNotOffered):
            not_offered.append((data, envelope.time))
        elif isinstance(data, Returned):
            facts.returns.setdefault(data.child_key, []).append(data.returned_at)
            if data.how_returned == ARRESTED:
                facts.arrests.setdefault(data.child_key, []).append(data.returned_at)
        elif isinstance(data, AssignmentAssigned):
            facts.task_of_assignment[data.assignment_id] = data.task_id
        elif isinstance(data, AssignmentAccepted):
            facts.task_of_assignment.setdefault(data.assignment_id, data.task_id)
            facts.accepted_tasks.add(data.task_id)
        elif isinstance(data, InterviewOffered | InterviewCompleted):
            facts.reports.append(data)
            if isinstance(data, InterviewCompleted) and data.findings is not None:
                facts.heard.setdefault(findings_id_of(data.assignment_id), (envelope.key or "", data))
        elif isinstance(data, FindingsResponded):
            answer = (data.responded_at, data.child_told)
            facts.answers.setdefault(data.findings_id, {}).setdefault(envelope.event_key, answer)
        elif isinstance(data, NrmDecided):
            facts.nrm.setdefault(data.episode_id, data.decision)
        elif isinstance(data, WindowBreached):
            facts.breached.add(data.episode_id)
        elif isinstance(data, RepeatMissingAlert):
            facts.repeat.add(data.episode_id)
        elif isinstance(data, ExploitationAlert):
            facts.exploitation[data.episode_id] = facts.exploitation.get(data.episode_id, 0) + 1
    for record, at in not_offered:  # the first record of each episode stands
        episode = facts.episodes.get(record.episode_id)
        if episode is not None and episode.not_offered is None:
            episode.not_offered = (at, record.reason)
    return facts


def _cover(facts: _Log, task_id: str, episode_ids: Iterable[str], said: int) -> None:
    """The latest word on which task covers an episode stands (see _covering_tasks)."""
    listed = tuple(episode_ids)
    for episode_id in listed:
        if episode_id in facts.episodes:
            facts.episodes[episode_id].task_id = task_id
    task = facts.tasks.get(task_id)
    if task is not None:
        task.covers, task.said = listed, said


def _covering_tasks(facts: _Log) -> None:
    """Which task covers each episode, once every word is in: one whose latest word lists it, and not
    one that closed because an interview already held covered its absences (that task's last word
    still lists them: it closed instead of saying more), the latest said of those."""
    for episode_id, episode in facts.episodes.items():
        listing = [task for task in facts.tasks.values() if episode_id in task.covers]
        kept = [t for t in listing if t.closed is None or t.closed.reason != "covered_by_interview"]
        chosen = max(kept or listing, key=lambda t: t.said, default=None)
        if chosen is not None:
            episode.task_id = chosen.requested.task_id


def _returns_before_numbering(facts: _Log) -> None:
    """Episodes never announced as changed end at the first return after they began, if it came before
    the child's next episode began (how episodes ended before they were announced as changed)."""
    for child, episodes in _by_child(facts).items():
        episodes.sort(key=lambda e: e.opened.started_at)
        returns = sorted(facts.returns.get(child, []))
        for n, episode in enumerate(episodes):
            if episode.latest is not None:
                continue
            following = episodes[n + 1].opened.started_at if n + 1 < len(episodes) else None
            back = next((r for r in returns if r > episode.opened.started_at), None)
            if back is not None and (following is None or back <= following):
                episode.latest = _returned(episode.opened, back)


def _returned(opened: EpisodeOpened, at: datetime) -> EpisodeChanged:
    return EpisodeChanged(
        child_ref=opened.child_ref,
        responsible_authority=opened.responsible_authority,
        placement_authority=opened.placement_authority,
        episode_id=opened.episode_id,
        by=None,
        changes=["returned"],
        at=at,
        kind=opened.kind,
        started_at=opened.started_at,
        ended_at=at,
        end_reason="returned",
        returned_at=at,
        risk_level=opened.risk_level,
    )


def _attach_reports(facts: _Log) -> None:
    for task in facts.tasks.values():
        task.accepted = task.requested.task_id in facts.accepted_tasks
    for report in facts.reports:
        found = facts.tasks.get(facts.task_of_assignment.get(report.assignment_id, ""))
        if found is None:
            continue
        task = found
        if isinstance(report, InterviewOffered):
            task.offers.append(report.offered_at)
        else:
            if report.outcome == "completed":  # an interview that took place was offered
                task.offers.append(report.completed_at)
            task.completions.append((report.completed_at, report.outcome))


def _episode_records(facts: _Log) -> list[EpisodeRecord]:
    found = []
    arrested = _arrested_episodes(facts)
    for episode in facts.episodes.values():
        opened, latest = episode.opened, episode.latest
        task = facts.tasks.get(episode.task_id) if episode.task_id else None
        returned = episode.returned_at
        offered = declined = attempted = interviewed = None
        not_offered = episode.not_offered
        if task is not None and returned is not None:
            offered = min((at for at in task.offers if at >= returned), default=None)
            declined = min(
                (at for at, o in task.completions if o == "child_declined" and at >= returned), default=None
            )
            attempted = min(
                (at for at, o in task.completions if o == "unable_to_contact" and at >= returned),
                default=None,
            )
            if task.completions:
                at, outcome = task.completions[-1]
                interviewed = at if outcome == "completed" else None
            if task.closed is not None and not_offered is None:
                not_offered = (task.closed.closed_at, task.closed.reason)
        found.append(
            EpisodeRecord(
                episode_id=opened.episode_id,
                child_key=opened.child_key,
                responsible_authority=opened.responsible_authority,
                placement_authority=latest.placement_authority if latest else opened.placement_authority,
                started_at=latest.started_at if latest else opened.started_at,
                cancelled=latest is not None and latest.end_reason == "cancelled",
                returned_at=returned,
                offered_at=offered,
                interviewed_at=interviewed,
                breach_alert=opened.episode_id in facts.breached,
                repeat_alert=opened.episode_id in facts.repeat,
                exploitation_alerts=facts.exploitation.get(opened.episode_id, 0),
                declined_at=declined,
                attempted_at=attempted,
                not_offered_at=not_offered[0] if not_offered else None,
                not_offered_reason=not_offered[1] if not_offered else None,
                arrested=opened.episode_id in arrested,
                nrm_decision=facts.nrm.get(opened.episode_id),
            )
        )
    return found


def _by_child(facts: _Log) -> dict[str, list[_Episode]]:
    found: dict[str, list[_Episode]] = {}
    for episode in facts.episodes.values():
        found.setdefault(episode.opened.child_key, []).append(episode)
    return found


def _episode_at(episodes: list[_Episode], moment: datetime) -> _Episode | None:
    """Of a child's episodes, the latest begun by `moment` (as the scheduler finds it)."""
    begun = [e for e in episodes if _started(e) <= moment]
    return max(begun, key=lambda e: (_started(e), e.opened.episode_id), default=None)


def _started(episode: _Episode) -> datetime:
    return episode.latest.started_at if episode.latest else episode.opened.started_at


def _arrested_episodes(facts: _Log) -> set[str]:
    """The episodes a return at which the child was arrested ended (its child's latest begun by then)."""
    found = set()
    by_child = _by_child(facts)
    for child, moments in facts.arrests.items():
        for moment in moments:
            episode = _episode_at(by_child.get(child, []), moment)
            if episode is not None:
                found.add(episode.opened.episode_id)
    return found


def _findings_records(facts: _Log) -> list[FindingsRecord]:
    found = []
    by_child = _by_child(facts)
    for findings_id, (key, held) in facts.heard.items():
        task = facts.tasks.get(facts.task_of_assignment.get(held.assignment_id, ""))
        child = key or (task.requested.child_key if task else "")
        if not child:
            continue  # no word of whose interview it was
        responsible = child.partition("/")[0]
        episode = _episode_at(by_child.get(child, []), held.completed_at)
        placed = _placement(episode) if episode else responsible
        assert held.findings is not None
        found.append(
            FindingsRecord(
                findings_id=findings_id,
                child_key=child,
                responsible_authority=responsible,
                placement_authority=placed,
                completed_at=held.completed_at,
                reasons=tuple(held.findings.reasons),
                placement_view=held.findings.placement_view,
                answers=tuple(sorted(facts.answers.get(findings_id, {}).values())),
            )
        )
    return found


def _placement(episode: _Episode) -> str:
    return episode.latest.placement_authority if episode.latest else episode.opened.placement_authority


def _task_records(facts: _Log) -> list[TaskRecord]:
    found = []
    for task in facts.tasks.values():
        covered = task.requested.episode_ids or [task.requested.episode_id]
        first = facts.episodes.get(covered[0])
        if first is None:
            continue
        started = first.latest.started_at if first.latest else first.opened.started_at
        found.append(
            TaskRecord(
                task_id=task.requested.task_id,
                responsible_authority=task.requested.responsible_authority,
                started_at=started,
                accepted=task.accepted,
            )
        )
    return found
