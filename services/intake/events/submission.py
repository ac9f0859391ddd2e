"""Reading a submitted CloudEvent: the envelope, the typed data, and every field that is wrong."""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from shared.contracts.common import EventData
from shared.contracts.interviews import InterviewCompleted
from shared.contracts.registry import BY_TYPE
from shared.contracts.voice import NrmDecided

Errors = list[dict[str, Any]]


class CloudEventIn(BaseModel):
    """A CloudEvent in structured JSON mode, as sent to `POST /v1/events`."""

    model_config = ConfigDict(extra="allow")  # CloudEvents extension attributes are allowed and ignored

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")
    type: str = Field(min_length=1, max_length=64)
    source: str | None = Field(None, description="Ignored: set from the authenticated organisation.")
    time: AwareDatetime | None = None
    subject: str | None = Field(None, max_length=200)
    datacontenttype: Literal["application/json"] | None = None
    data: dict[str, Any]


@dataclass(frozen=True)
class Submission:
    """A valid event as received: its id, type, time, typed data and a fingerprint of its content."""

    id: str
    type: str
    time: datetime | None
    data: EventData
    fingerprint: str


def read_event(
    raw: Any, now: datetime, skew: timedelta, prefix: tuple[str | int, ...] = ()
) -> Submission | Errors:
    """Validate one structured CloudEvent; return it, or the list of errors naming each field.

    Strictly, as JSON: a number is not a string, `"yes"` is not a boolean, and a time is written out
    as RFC 3339 says (`2026-11-25T08:10:00+00:00`), not a count of seconds, so what the OpenAPI
    document calls invalid is refused."""
    try:
        event = CloudEventIn.model_validate_json(json.dumps(raw), strict=True)
    except ValidationError as exc:
        return _errors(exc, prefix)
    model = BY_TYPE.get(event.type)
    if model is None or event.type not in ACCEPTED_TYPES:
        return [_error((*prefix, "type"), f"unknown event type {event.type!r}", "unknown_type")]
    try:
        data = model.model_validate_json(json.dumps(event.data), strict=True)
    except ValidationError as exc:
        return _errors(exc, (*prefix, "data"), event.data)
    times = _times_not_written_out(raw, ["time"], prefix) + _times_not_written_out(
        event.data, [name for name, value in data if isinstance(value, datetime)], (*prefix, "data")
    )
    if times:
        return times
    unknown = _unknown_fields(event.data, data, (*prefix, "data"))
    if unknown:  # the contracts read past unknown fields; a sender needs to hear of its mistake
        return unknown
    late = now + skew
    errors = _rules(data, prefix)
    errors += [
        _error((*prefix, "data", name), "time is in the future", "future_time")
        for name, value in data
        if isinstance(value, datetime) and value > late
    ]
    if event.time is not None and event.time > late:
        errors.append(_error((*prefix, "time"), "time is in the future", "future_time"))
    if errors:
        return errors
    return Submission(
        id=event.id,
        type=event.type,
        time=event.time,
        data=data,
        fingerprint=_fingerprint(event),
    )


# RFC 3339's date-time (what `format: date-time` means in the OpenAPI document).
RFC3339 = re.compile(
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def _times_not_written_out(raw: dict[str, Any], names: list[str], prefix: tuple[str | int, ...]) -> Errors:
    """Each of the named times given as something other than an RFC 3339 date-time string."""
    return [
        _error(
            (*prefix, name),
            "a time is written as RFC 3339, e.g. 2026-11-25T08:10:00+00:00",
            "datetime_format",
        )
        for name in names
        if raw.get(name) is not None and not (isinstance(raw[name], str) and RFC3339.match(raw[name]))
    ]


def _unknown_fields(raw: Any, model: BaseModel, prefix: tuple[str | int, ...]) -> Errors:
    """Each field the event's data, or an object within it (the findings, an answer's actions), has that
    the contract does not: the contracts read past them, a sender needs to hear of its mistake."""
    if not isinstance(raw, dict):
        return []
    errors = [
        _error((*prefix, name), "Extra inputs are not permitted", "extra_forbidden")
        for name in sorted(set(raw) - set(type(model).model_fields))
    ]
    for name in type(model).model_fields:
        value, given = getattr(model, name), raw.get(name)
        if isinstance(value, BaseModel):
            errors += _unknown_fields(given, value, (*prefix, name))
        elif isinstance(value, list) and isinstance(given, list):
            for index, (item, raw_item) in enumerate(zip(value, given, strict=False)):
                if isinstance(item, BaseModel):
                    errors += _unknown_fields(raw_item, item, (*prefix, name, index))
    return errors


def _rules(data: EventData, prefix: tuple[str | int, ...]) -> Errors:
    """Rules for new reports that the contracts cannot state without refusing events already on the
    topics: a child's decline carries a reason code, and only a decline does; only an interview that
    was held has findings (docs/domain.md rule 30); only a decision not to refer has a reason (rule 34)."""
    if isinstance(data, NrmDecided):
        pointer = (*prefix, "data", "reason")
        if data.decision == "not_referred" and data.reason is None:
            return [_error(pointer, "a reason code is required when the child was not referred", "missing")]
        if data.decision != "not_referred" and data.reason is not None:
            return [_error(pointer, "only a decision of not_referred has a reason", "unexpected")]
        return []
    if not isinstance(data, InterviewCompleted):
        return []
    errors: Errors = []
    pointer = (*prefix, "data", "decline_reason")
    if data.outcome == "child_declined" and data.decline_reason is None:
        errors.append(_error(pointer, "a reason code is required when the child declined", "missing"))
    if data.outcome != "child_declined" and data.decline_reason is not None:
        errors.append(_error(pointer, "only an outcome of child_declined has a decline_reason", "unexpected"))
    if data.outcome != "completed" and data.findings is not None:
        errors.append(
            _error(
                (*prefix, "data", "findings"),
                "findings are recorded only for an interview that was held (outcome completed)",
                "unexpected",
            )
        )
    return errors


# What outside systems may send; the other contract types are produced inside the system.
ACCEPTED_TYPES = frozenset(
    {
        "missing.reported",
        "missing.risk_changed",
        "missing.returned",
        "missing.cancelled",
        "interview.not_offered",
        "interview.accepted",
        "interview.declined",
        "interview.offered",
        "interview.completed",
        "findings.responded",
        "nrm.decided",
    }
)


def _fingerprint(event: CloudEventIn) -> str:
    """Hash the content that makes an event what it is (not `source`, which intake sets)."""
    content = {
        "type": event.type,
        "time": event.time.isoformat() if event.time else None,
        "subject": event.subject,
        "data": event.data,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _errors(exc: ValidationError, prefix: tuple[str | int, ...], raw: Any = None) -> Errors:
    return [
        _error((*prefix, *_in_document(err["loc"], raw)), err["msg"], err["type"])
        for err in exc.errors(include_url=False, include_input=False)
    ]


def _in_document(loc: tuple[str | int, ...], raw: Any) -> tuple[str | int, ...]:
    """The error's place as a pointer into what was sent: without the tag pydantic adds for a member
    of a union told apart by a field (`actions/0/referral_made/referral_kind` is `actions/0/referral_kind`)."""
    found: list[str | int] = []
    here = raw
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(here, dict) and part not in here and not last and part in here.values():
            continue  # the tag: the value of the field that told the union apart
        found.append(part)
        if isinstance(here, dict):
            here = here.get(part)
        elif isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here):
            here = here[part]
        else:
            here = None
    return tuple(found)


def _error(loc: tuple[str | int, ...], message: str, code: str) -> dict[str, Any]:
    pointer = "/" + "/".join(str(part) for part in loc)
    return {"pointer": pointer, "detail": message, "code": code}
