"""Intake's HTTP routes: parse, call one function, answer."""

import json

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from services.intake.core.auth import authenticate
from services.intake.core.deps import Deps
from services.intake.core.errors import Invalid, TooLarge, UnsupportedMedia
from services.intake.docs import event_docs
from services.intake.events.submit import submit

log = structlog.get_logger()
router = APIRouter()

SINGLE_TYPES = {"application/cloudevents+json", "application/json"}
BATCH_TYPE = "application/cloudevents-batch+json"


@router.post(
    "/v1/events",
    operation_id="postEvents",
    tags=["events"],
    status_code=202,
    summary="Report an event (one CloudEvent, or a batch)",
    description=event_docs.POST_EVENTS_DESCRIPTION,
    openapi_extra={"requestBody": event_docs.request_body([])},  # the directory's, in app._document
    responses=event_docs.POST_EVENTS_RESPONSES,
)
async def post_events(request: Request) -> JSONResponse:
    """Accept one CloudEvent or a batch; answer only once it is durably stored."""
    deps: Deps = request.app.state.deps
    caller = authenticate(request, deps.directory)
    request.state.org, request.state.key_id = caller.org.id, caller.key_id
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in SINGLE_TYPES | {BATCH_TYPE}:
        raise UnsupportedMedia()
    body = await read_limited(request, deps.settings.max_body_bytes)
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
    except ValueError as exc:  # a number too long to read (Python's limit on integer digits)
        raise Invalid(
            "The body holds a number too long to read.",
            errors=[{"pointer": "/", "detail": "a number has too many digits", "code": "json"}],
        ) from exc

    # A batch: the CloudEvents batch media type, or a JSON array sent as application/json.
    batch = media == BATCH_TYPE or (media == "application/json" and isinstance(raw, list))
    if batch:
        if not isinstance(raw, list) or not raw:
            raise Invalid("A batch is a non-empty JSON array of CloudEvents.")
        if len(raw) > deps.settings.max_batch:
            raise Invalid(f"A batch holds at most {deps.settings.max_batch} events.")
    answer = await submit(deps, caller, raw if batch else [raw], batch=batch)
    return JSONResponse(answer.body, status_code=answer.status)


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, read as it streams in and refused (413) as soon as it passes `limit` bytes."""
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
