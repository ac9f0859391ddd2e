"""Intake reads events strictly, as the OpenAPI document describes them: what the document calls
invalid (a number for a string or a time, "yes" for a boolean, a time not written as RFC 3339) is
refused, naming the field; what it calls valid is read."""

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.intake.events.submission import read_event

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "ev-1",
    "type": "interview.completed",
    "time": "2026-11-30T11:00:00Z",
    "data": {"assignment_id": "a-1", "completed_at": "2026-11-30T10:00:00+00:00", "outcome": "completed"},
}


def read(change: dict[str, Any], envelope: bool = False) -> list[str] | str:
    event = copy.deepcopy(EVENT)
    (event if envelope else event["data"]).update(change)
    answer = read_event(event, NOW, timedelta(minutes=5))
    return [f"{e['pointer']} {e['code']}" for e in answer] if isinstance(answer, list) else "read"


@pytest.mark.parametrize(
    ("change", "refused"),
    [
        ({"completed_at": 1764496800}, "/data/completed_at datetime_type"),
        ({"completed_at": "1764496800"}, "/data/completed_at datetime_format"),
        ({"completed_at": "2026-11-30 10:00:00+00:00"}, "/data/completed_at datetime_format"),
        ({"completed_at": "2026-11-30T10:00+00:00"}, "/data/completed_at datetime_format"),
        ({"safeguarding_concern": "yes"}, "/data/safeguarding_concern bool_type"),
        ({"safeguarding_concern": 1}, "/data/safeguarding_concern bool_type"),
        ({"assignment_id": 7}, "/data/assignment_id string_type"),
    ],
)
def test_what_the_document_calls_invalid_is_refused(change: dict[str, Any], refused: str) -> None:
    assert read(change) == [refused]


def test_the_envelope_is_read_strictly_too() -> None:
    assert read({"id": 5}, envelope=True) == ["/id string_type"]
    assert read({"time": 1764496800}, envelope=True) == ["/time datetime_type"]
    assert read({"time": "2026-11-30T11:00+00:00"}, envelope=True) == ["/time datetime_format"]


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"completed_at": "2026-11-30T10:00:00.123456Z"},
        {"completed_at": "2026-11-30t10:00:00+05:30"},
        {"safeguarding_concern": True, "exploitation_indicators": ["cce"]},
    ],
)
def test_what_the_document_calls_valid_is_read(change: dict[str, Any]) -> None:
    assert read(change) == "read"
