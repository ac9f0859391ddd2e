"""Taking in what an organisation sends (`POST /v1/events`): read each event, check that this
organisation may send it, and store the request's events, their outbox rows and the audit trail in
one transaction (a batch is all or nothing). The answer is decided only once they are stored."""

import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from services.intake import metrics, store
from services.intake.auth import Caller
from services.intake.deps import Deps
from services.intake.errors import Conflict, Forbidden, Invalid, NotFound
from services.intake.events.policy import LEFT_CARE, may_send, unknown_authorities, withdrawal_refused
from services.intake.events.submission import Submission, read_event
from shared import topics
from shared.contracts.common import ChildEvent
from shared.contracts.envelope import Envelope
from shared.contracts.episodes import Cancelled, InterviewNotOffered, MissingReported
from shared.contracts.interviews import InterviewEvent
from shared.contracts.registry import TOPIC_OF_TYPE

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
    accepting = [_accepting(caller, sub, key, now, deps.settings.topic_namespace) for sub, key in submissions]
    try:
        outcomes = await store.accept(deps.pool, accepting)
    except store.ConflictingIds as exc:
        raise Conflict(f"Event ids reused with different content: {', '.join(exc.ids)}") from exc
    for (sub, _), outcome in zip(submissions, outcomes, strict=True):
        metrics.EVENTS.labels(type=sub.type, outcome=outcome.name.lower()).inc()
        log.info(
            "event_accepted" if outcome is store.Outcome.ACCEPTED else "event_repeated",
            event_id=sub.id,
            event_type=sub.type,
            org=caller.org.id,
        )
    answers = [{"id": sub.id, "status": "accepted"} for sub, _ in submissions]
    if batch:
        return Answer(202 if store.Outcome.ACCEPTED in outcomes else 200, answers)
    return Answer(outcomes[0].value, answers[0])


def _items(indexes: list[int], code: str) -> list[dict[str, Any]]:
    """The batch items a refusal is about, each named by its pointer."""
    return [{"pointer": f"/{index}", "detail": "refused", "code": code} for index in indexes]


@dataclass(frozen=True)
class Refusal:
    """The organisation may not send this event (and, where it helps, why)."""

    reason: str = ""


@dataclass(frozen=True)
class Unknown:
    """The event names something of the child's that does not exist."""

    reason: str


async def _check(
    deps: Deps,
    caller: Caller,
    sub: Submission,
    prefix: tuple[str | int, ...],
    earlier: list[tuple[Submission, str]],
    wait_seconds: float,
) -> str | Refusal | Unknown | list[dict[str, Any]]:
    """The child key the event travels under if this organisation may send it; a Refusal if it may
    not; Unknown if it names an episode the child does not have; the errors if it names an authority
    there is not."""
    data = sub.data
    holding: str | None = None  # the child of the assignment an interview report is about
    if isinstance(data, InterviewEvent) and caller.org.kind == "provider":
        holding = await store.held_assignment(
            deps.pool, caller.org.id, data.assignment_id, wait_seconds=wait_seconds
        )
        if holding is None:
            # A retry of a report accepted while the assignment was held (a decline whose answer was
            # lost, say) is answered as a repeat, or as a conflict if its content differs.
            holding = await store.stored_child(deps.pool, caller.org.id, sub.id)
    held = frozenset({data.assignment_id}) if isinstance(data, InterviewEvent) and holding else frozenset()
    if not may_send(caller.org, data, held):
        return Refusal()
    if isinstance(data, Cancelled):
        own = await store.own_reports(deps.pool, caller.org.id, data.child_key)
        own |= {s.id for s, key in earlier if s.type == MissingReported.type_name and key == data.child_key}
        refusal = withdrawal_refused(caller.org, data, frozenset(own))
        if refusal is not None:
            return Refusal(refusal)
    if isinstance(data, InterviewNotOffered) and not await store.episode_known(
        deps.pool, data.child_key, data.episode_id, wait_seconds=wait_seconds
    ):
        return Unknown("No episode of this child has the episode_id given (use the id from episode.opened).")
    unknown = unknown_authorities(deps.directory, data, prefix)
    if unknown:
        return unknown
    # Interview reports travel under the assignment's child, so a child's events stay in order.
    key = data.child_key if isinstance(data, ChildEvent) else holding
    return key if key is not None else Refusal()  # may_send allows only those two


def _accepting(caller: Caller, sub: Submission, key: str, now: datetime, namespace: str) -> store.Accepting:
    envelope = Envelope(id=sub.id, source=caller.source, type=sub.type, time=sub.time or now, data=sub.data)
    report = sub.data if isinstance(sub.data, MissingReported) else None
    return store.Accepting(
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
    )


def _withdraws(data: object) -> str | None:
    """What a cancellation "reported in error" withdraws: its report id, or '*' (the sender's reports
    of the absence open now)."""
    if isinstance(data, Cancelled) and data.reason != LEFT_CARE:
        return data.report_id or "*"
    return None
