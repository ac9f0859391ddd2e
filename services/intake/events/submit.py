"""Taking in what an organisation sends (`POST /v1/events`): read each event, check that this
organisation may send it, and store the request's events, their outbox rows and the audit trail in
one transaction (a batch is all or nothing). The answer is decided only once they are stored."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from services.intake.core import metrics
from services.intake.core.auth import Caller
from services.intake.core.deps import Deps
from services.intake.core.errors import Answered, Conflict, Forbidden, Invalid, NotFound
from services.intake.events.policy import ALREADY_ANSWERED, LEFT_CARE, Conflicting, Refusal, Unknown, decide
from services.intake.events.submission import Submission, read_event
from services.intake.store import events as event_store
from services.intake.store import facts as store_facts
from shared import topics
from shared.contracts.envelope import Envelope
from shared.contracts.episodes import Cancelled, MissingReported
from shared.contracts.interviews import InterviewCompleted
from shared.contracts.registry import TOPIC_OF_TYPE
from shared.contracts.voice import FindingsResponded, NrmDecided, findings_id_of, respond_by

log = structlog.get_logger()


@dataclass(frozen=True)
class Answer:
    """What intake answers: the status and, per event, its id and `accepted`."""

    status: int
    body: list[dict[str, str]] | dict[str, str]


async def submit(deps: Deps, caller: Caller, items: list[Any], *, batch: bool) -> Answer:
    """Read, check and store the events of one request; raise a Problem if any is refused."""
    now = deps.clock.now()
    skew = timedelta(seconds=deps.settings.clock_skew_seconds)
    wait_until = time.monotonic() + deps.settings.assignment_wait_seconds  # one wait for the whole request
    submissions: list[tuple[Submission, str]] = []
    errors: list[dict[str, Any]] = []
    forbidden: list[int] = []
    reasons: list[str] = []  # why, where the refusal has a reason of its own to give
    unknown: list[tuple[int, str]] = []  # events naming what the child does not have, and what
    conflicts: list[str] = []  # events contradicting what intake holds, and how
    for index, item in enumerate(items):
        prefix: tuple[str | int, ...] = (index,) if batch else ()
        read = read_event(item, now, skew, prefix)
        if isinstance(read, list):
            errors.extend(read)
            continue
        checked = await _check(
            deps, caller, read, prefix, submissions, max(wait_until - time.monotonic(), 0.0)
        )
        if isinstance(checked, str):
            submissions.append((read, checked))
        elif isinstance(checked, Refusal):
            forbidden.append(index)
            reasons += [checked.reason] if checked.reason else []
        elif isinstance(checked, Unknown):
            unknown.append((index, checked.reason))
        elif isinstance(checked, Conflicting):
            conflicts.append(checked.reason)
        else:
            errors.extend(checked)
    if errors:
        raise Invalid(errors=errors)
    if forbidden:
        detail = " ".join(reasons) or "This organisation may not send this event."
        if batch:
            detail = (
                f"This organisation may not send the events at index {forbidden}. {' '.join(reasons)}".strip()
            )
        raise Forbidden(detail, errors=_items(forbidden, "forbidden") if batch else None)
    if unknown:
        detail = " ".join(sorted({reason for _, reason in unknown}))
        if not batch:
            raise NotFound(detail)
        indexes = [i for i, _ in unknown]
        raise NotFound(f"The events at index {indexes}: {detail}", errors=_items(indexes, "unknown_episode"))
    if conflicts:
        raise Answered(" ".join(sorted(set(conflicts))))
    accepting = [_accepting(deps, caller, sub, key, now) for sub, key in submissions]
    try:
        outcomes = await event_store.accept(deps.pool, accepting)
    except event_store.ConflictingIds as exc:
        raise Conflict(f"Event ids reused with different content: {', '.join(exc.ids)}") from exc
    except event_store.AlreadyAnswered as exc:  # two first answers raced: the second lost
        raise Answered(ALREADY_ANSWERED) from exc
    for (sub, _), outcome in zip(submissions, outcomes, strict=True):
        metrics.EVENTS.labels(type=sub.type, outcome=outcome.name.lower()).inc()
        log.info(
            "event_accepted" if outcome is event_store.Outcome.ACCEPTED else "event_repeated",
            event_id=sub.id,
            event_type=sub.type,
            org=caller.org.id,
        )
    answers = [{"id": sub.id, "status": "accepted"} for sub, _ in submissions]
    if batch:
        return Answer(202 if event_store.Outcome.ACCEPTED in outcomes else 200, answers)
    return Answer(outcomes[0].value, answers[0])


def _items(indexes: list[int], code: str) -> list[dict[str, Any]]:
    """The batch items a refusal is about, each named by its pointer."""
    return [{"pointer": f"/{index}", "detail": "refused", "code": code} for index in indexes]


async def _check(
    deps: Deps,
    caller: Caller,
    sub: Submission,
    prefix: tuple[str | int, ...],
    earlier: list[tuple[Submission, str]],
    wait_seconds: float,
) -> str | Refusal | Unknown | Conflicting | list[dict[str, Any]]:
    """What intake knows that this event's checks need, then the policy's decision on it."""
    facts = await store_facts.gather(deps.pool, caller.org, sub.id, sub.data, wait_seconds=wait_seconds)
    reported = (
        {s.id for s, key in earlier if s.type == MissingReported.type_name and key == sub.data.child_key}
        if isinstance(sub.data, Cancelled)
        else set()
    )
    return decide(caller.org, sub.data, facts, deps.directory, prefix, frozenset(reported))


def _accepting(deps: Deps, caller: Caller, sub: Submission, key: str, now: datetime) -> event_store.Accepting:
    namespace = deps.settings.topic_namespace
    envelope = Envelope(id=sub.id, source=caller.source, type=sub.type, time=sub.time or now, data=sub.data)
    report = sub.data if isinstance(sub.data, MissingReported) else None
    return event_store.Accepting(
        org_id=caller.org.id,
        api_key_id=caller.key_id,
        event_id=sub.id,
        event_type=sub.type,
        fingerprint=sub.fingerprint,
        child_key=key,
        received_at=now,
        message=(topics.named(namespace, TOPIC_OF_TYPE[sub.type]), key, envelope),
        missing_since=report.missing_since if report else None,
        withdraws=_withdraws(sub.data),
        findings=_findings(sub.data, key, deps),
        answer=_answer(sub.data),
        decision=_decision(sub.data),
    )


def _findings(data: object, key: str, deps: Deps) -> event_store.Recorded | None:
    """What intake keeps of an interview's findings (docs/domain.md rule 30), to show the child's council,
    with the day its answer is due (rule 31)."""
    if not isinstance(data, InterviewCompleted) or data.findings is None:
        return None
    timing = deps.directory.timing_for(key.partition("/")[0])
    return event_store.Recorded(
        findings_id=findings_id_of(data.assignment_id),
        assignment_id=data.assignment_id,
        completed_at=data.completed_at,
        respond_by=respond_by(data.completed_at, timing.findings_response_days),
        findings=data.findings.model_dump(mode="json"),
    )


def _answer(data: object) -> event_store.Answered | None:
    """What intake keeps of a council's answer to findings (docs/domain.md rule 31)."""
    if not isinstance(data, FindingsResponded):
        return None
    return event_store.Answered(
        findings_id=data.findings_id,
        responded_at=data.responded_at,
        corrects=data.corrects,
        child_told=data.child_told,
        actions=[action.model_dump(mode="json") for action in data.actions],
    )


def _decision(data: object) -> event_store.Decided | None:
    """What intake keeps of a council's NRM decision (docs/domain.md rule 34)."""
    if not isinstance(data, NrmDecided):
        return None
    return event_store.Decided(data.episode_id, data.decision, data.reason, data.decided_at)


def _withdraws(data: object) -> str | None:
    """What a cancellation "reported in error" withdraws: its report id, or '*' (the sender's reports
    of the absence open now)."""
    if isinstance(data, Cancelled) and data.reason != LEFT_CARE:
        return data.report_id or "*"
    return None
