"""Intake's HTTP routes: parse, call one function, answer."""

import json
import time
from datetime import datetime, timedelta
from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.intake import examples, metrics
from services.intake.auth import authenticate
from services.intake.deps import Deps
from services.intake.errors import Conflict, Forbidden, Invalid, TooLarge, UnsupportedMedia
from services.intake.policy import may_send, unknown_authorities, withdrawal_refused
from services.intake.store import (
    Accepting,
    ConflictingIds,
    Outcome,
    accept,
    episode_known,
    held_assignment,
    own_reports,
    stored_child,
)
from services.intake.submission import Submission, read_event
from shared import topics
from shared.contracts.common import ChildEvent
from shared.contracts.envelope import Envelope
from shared.contracts.episodes import Cancelled, InterviewNotOffered, MissingReported
from shared.contracts.interviews import InterviewEvent
from shared.contracts.registry import TOPIC_OF_TYPE

log = structlog.get_logger()
router = APIRouter()

SINGLE_TYPES = {"application/cloudevents+json", "application/json"}
BATCH_TYPE = "application/cloudevents-batch+json"


@router.post(
    "/v1/events",
    status_code=202,
    summary="Report an event (one CloudEvent, or a batch)",
    openapi_extra=examples.POST_EVENTS_OPENAPI,
    responses=examples.POST_EVENTS_RESPONSES,
)
async def post_events(request: Request) -> JSONResponse:
    """Accept one CloudEvent or a batch; answer only once it is durably stored."""
    deps: Deps = request.app.state.deps
    caller = authenticate(request, deps.directory)
    request.state.org = caller.org.id
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in SINGLE_TYPES | {BATCH_TYPE}:
        raise UnsupportedMedia()
    body = await _read_limited(request, deps.settings.max_body_bytes)
    try:
        raw = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Invalid(
            "The body is not JSON.", errors=[{"pointer": "/", "detail": str(exc)[:200], "code": "json"}]
        ) from exc
    except RecursionError as exc:  # arrays or objects nested thousands deep
        raise Invalid(
            "The body is nested too deeply.",
            errors=[{"pointer": "/", "detail": "nested too deeply", "code": "json"}],
        ) from exc

    batch = media == BATCH_TYPE
    if batch:
        if not isinstance(raw, list) or not raw:
            raise Invalid("A batch is a non-empty JSON array of CloudEvents.")
        if len(raw) > deps.settings.max_batch:
            raise Invalid(f"A batch holds at most {deps.settings.max_batch} events.")
        items = raw
    else:
        items = [raw]

    now = deps.clock.now()
    skew = timedelta(seconds=deps.settings.clock_skew_seconds)
    wait_until = time.monotonic() + deps.settings.assignment_wait_seconds  # one wait for the whole request
    submissions: list[tuple[Submission, str]] = []
    errors: list[dict[str, Any]] = []
    forbidden: list[int] = []
    reasons: list[str] = []  # why, where the refusal has a reason of its own to give
    for index, item in enumerate(items):
        prefix: tuple[str | int, ...] = (index,) if batch else ()
        read = read_event(item, now, skew, prefix)
        if isinstance(read, list):
            errors.extend(read)
            continue
        data = read.data
        holding: str | None = None  # the child of the assignment an interview report is about
        if isinstance(data, InterviewEvent) and caller.org.kind == "provider":
            holding = await held_assignment(
                deps.pool,
                caller.org.id,
                data.assignment_id,
                wait_seconds=max(wait_until - time.monotonic(), 0.0),
            )
            if holding is None:
                # A retry of a report accepted while the assignment was held (a decline whose answer
                # was lost, say) is answered as a repeat, or as a conflict if its content differs.
                holding = await stored_child(deps.pool, caller.org.id, read.id)
        held = (
            frozenset({data.assignment_id}) if isinstance(data, InterviewEvent) and holding else frozenset()
        )
        if not may_send(caller.org, data, held):
            forbidden.append(index)
            continue
        if isinstance(data, Cancelled):
            own = await own_reports(deps.pool, caller.org.id, data.child_key)
            own |= {
                sub.id
                for sub, key in submissions
                if sub.type == MissingReported.type_name and key == data.child_key
            }
            refusal = withdrawal_refused(caller.org, data, frozenset(own))
            if refusal is not None:
                forbidden.append(index)
                reasons.append(refusal)
                continue
        if isinstance(data, InterviewNotOffered):
            wait = max(wait_until - time.monotonic(), 0.0)
            if not await episode_known(deps.pool, data.child_key, data.episode_id, wait_seconds=wait):
                errors.append(
                    {
                        "pointer": "/" + "/".join(str(part) for part in (*prefix, "data", "episode_id")),
                        "detail": "no episode with this id for this child (use the id from episode.opened)",
                        "code": "unknown_episode",
                    }
                )
                continue
        errors.extend(unknown_authorities(deps.directory, data, prefix))
        # Interview reports travel under the assignment's child, so a child's events stay in order.
        key = data.child_key if isinstance(data, ChildEvent) else holding
        if key is None:  # may_send allows only child events and held assignments
            forbidden.append(index)
            continue
        submissions.append((read, key))
    if errors:
        raise Invalid(errors=errors)
    if forbidden:
        detail = " ".join(reasons) or "This organisation may not send this event."
        if batch:
            detail = (
                f"This organisation may not send the events at index {forbidden}. {' '.join(reasons)}".strip()
            )
        raise Forbidden(detail)

    namespace = deps.settings.topic_namespace
    accepting = [
        _accepting(caller.org.id, caller.key_id, caller.source, sub, key, now, namespace)
        for sub, key in submissions
    ]
    try:
        outcomes = await accept(deps.pool, accepting)
    except ConflictingIds as exc:
        raise Conflict(f"Event ids reused with different content: {', '.join(exc.ids)}") from exc

    for (sub, _), outcome in zip(submissions, outcomes, strict=True):
        metrics.EVENTS.labels(type=sub.type, outcome=outcome.name.lower()).inc()
        log.info(
            "event_accepted" if outcome is Outcome.ACCEPTED else "event_repeated",
            event_id=sub.id,
            event_type=sub.type,
            org=caller.org.id,
        )
    answers = [{"id": sub.id, "status": "accepted"} for sub, _ in submissions]
    if batch:
        status = 202 if Outcome.ACCEPTED in outcomes else 200
        return JSONResponse(answers, status_code=status)
    return JSONResponse(answers[0], status_code=outcomes[0].value)


def _accepting(
    org_id: str, key_id: str, source: str, sub: Submission, key: str, now: datetime, namespace: str
) -> Accepting:
    envelope = Envelope(id=sub.id, source=source, type=sub.type, time=sub.time or now, data=sub.data)
    report = sub.data if isinstance(sub.data, MissingReported) else None
    return Accepting(
        org_id=org_id,
        api_key_id=key_id,
        event_id=sub.id,
        event_type=sub.type,
        fingerprint=sub.fingerprint,
        child_key=key,
        received_at=now,
        message=(topics.named(namespace, TOPIC_OF_TYPE[sub.type]), key, envelope),
        missing_since=report.missing_since if report else None,
    )


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"The body is larger than {limit} bytes.")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"The body is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)
