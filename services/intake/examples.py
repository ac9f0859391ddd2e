"""OpenAPI documentation of `POST /v1/events`: the body schema and an example of every event type."""

from typing import Any

from services.intake.submission import CloudEventIn
from shared.contracts.registry import BY_TYPE

_CHILD = {"child_ref": "C-7f3a9e", "responsible_authority": "W06000015"}

EXAMPLE_DATA: dict[str, dict[str, Any]] = {
    "missing.reported": {
        **_CHILD,
        "placement_authority": "W06000022",
        "kind": "missing",
        "missing_since": "2026-11-24T21:30:00+00:00",
        "risk_level": "medium",
        "exploitation_indicators": ["county_lines"],
        "preferred_language": "cy",
        "police_force": "south-wales-police",
        "police_reference": "SWP-2026-118842",
    },
    "missing.risk_changed": {**_CHILD, "risk_level": "high", "exploitation_indicators": ["cce"]},
    "missing.returned": {**_CHILD, "returned_at": "2026-11-25T08:10:00+00:00"},
    "missing.cancelled": {**_CHILD, "reason": "reported_in_error", "report_id": "swp-118842-1"},
    "interview.not_offered": {
        **_CHILD,
        "episode_id": "0d6c7b8e-3f0a-5c51-9e1e-2b7d8a4f6c10",
        "reason": "child_moved_abroad",
    },
    "interview.accepted": {"assignment_id": "4b1c7c0e-7a55-5f0e-9d55-0f1d1d2c9e10"},
    "interview.declined": {"assignment_id": "4b1c7c0e-7a55-5f0e-9d55-0f1d1d2c9e10", "reason": "no_capacity"},
    "interview.offered": {
        "assignment_id": "4b1c7c0e-7a55-5f0e-9d55-0f1d1d2c9e10",
        "offered_at": "2026-11-25T15:00:00+00:00",
    },
    "interview.completed": {
        "assignment_id": "4b1c7c0e-7a55-5f0e-9d55-0f1d1d2c9e10",
        "completed_at": "2026-11-26T11:00:00+00:00",
        "outcome": "completed",
        "exploitation_indicators": ["cce"],
        "safeguarding_concern": True,
    },
}


def _example(event_type: str) -> dict[str, Any]:
    return {
        "summary": event_type,
        "value": {
            "specversion": "1.0",
            "id": f"example-{event_type.replace('.', '-')}-0001",
            "type": event_type,
            "time": "2026-11-25T09:00:00+00:00",
            "data": EXAMPLE_DATA[event_type],
        },
    }


_event_schema: dict[str, Any] = CloudEventIn.model_json_schema(ref_template="#/components/schemas/{model}")
_data_schemas = {
    name: BY_TYPE[name].model_json_schema(ref_template="#/components/schemas/{model}")
    for name in EXAMPLE_DATA
}
for _schema in _data_schemas.values():
    _schema["additionalProperties"] = False  # intake refuses fields the event type does not have
_event_schema["properties"]["type"]["enum"] = sorted(EXAMPLE_DATA)
_event_schema["properties"]["data"] = {
    "description": "The event's data; its fields depend on `type` (see the examples).",
    "oneOf": [{k: v for k, v in schema.items() if k != "$defs"} for schema in _data_schemas.values()],
}
_single = {"schema": _event_schema, "examples": {name: _example(name) for name in EXAMPLE_DATA}}

POST_EVENTS_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/cloudevents+json": _single,
            "application/json": _single,
            "application/cloudevents-batch+json": {
                "schema": {"type": "array", "items": _event_schema, "minItems": 1, "maxItems": 500},
                "examples": {
                    "child_declined": {
                        "summary": "the child declined the interview offered (a reason code, no free text)",
                        "value": [
                            {
                                **_example("interview.offered")["value"],
                                "id": "example-interview-offered-0002",
                            },
                            {
                                **_example("interview.completed")["value"],
                                "id": "example-interview-completed-0002",
                                "data": {
                                    "assignment_id": "4b1c7c0e-7a55-5f0e-9d55-0f1d1d2c9e10",
                                    "completed_at": "2026-11-26T11:00:00+00:00",
                                    "outcome": "child_declined",
                                    "decline_reason": "does_not_want_to_talk",
                                    "exploitation_indicators": [],
                                    "safeguarding_concern": False,
                                },
                            },
                        ],
                    },
                    "report_and_return": {
                        "summary": "a report and a return in one request",
                        "value": [
                            _example("missing.reported")["value"],
                            _example("missing.returned")["value"],
                        ],
                    },
                },
            },
        },
    }
}

_problem = {
    "application/problem+json": {
        "schema": {
            "type": "object",
            "required": ["type", "title", "status"],
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "pointer": {"type": "string"},
                            "detail": {"type": "string"},
                            "code": {"type": "string"},
                        },
                    },
                },
            },
        }
    }
}
_one_accepted = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {"id": {"type": "string"}, "status": {"type": "string", "enum": ["accepted"]}},
}
_accepted = {
    "application/json": {"schema": {"oneOf": [_one_accepted, {"type": "array", "items": _one_accepted}]}}
}

POST_EVENTS_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Stored durably; will be published.", "content": _accepted},
    200: {"description": "The same event was already accepted; same answer.", "content": _accepted},
    401: {"description": "No or unknown API key.", "content": _problem},
    403: {
        "description": "This organisation may not send this event: for a provider, it does not hold the "
        "assignment (one intake has not heard of yet is waited for a few seconds first); a cancellation of "
        "a report that is not the sender's own, or `left_care` from anyone but the responsible authority; "
        "`interview.not_offered` from anyone but the responsible authority. `detail` says which.",
        "content": _problem,
    },
    409: {"description": "The id was already used with different content.", "content": _problem},
    413: {"description": "The body is over 1 MiB.", "content": _problem},
    415: {"description": "Unsupported content type.", "content": _problem},
    422: {"description": "Invalid; each wrong field is named.", "content": _problem},
}
PROBLEM_CONTENT = _problem
