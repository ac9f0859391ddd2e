"""OpenAPI documentation of `POST /v1/events`: a schema of every event type, the request body with an
example of each, and the answers."""

import copy
import json
import re
from collections.abc import Callable
from typing import Any

from services.intake.events.submission import CloudEventIn
from shared.contracts.registry import BY_TYPE

# The examples' councils: Cardiff's child, placed in Newport.
EXAMPLE_AUTHORITIES = ("W06000015", "W06000022")
AUTHORITY_FIELDS = frozenset({"responsible_authority", "placement_authority"})
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


_REF = "#/components/schemas/{model}"


def _schema_name(event_type: str) -> str:
    """`missing.risk_changed` -> `MissingRiskChanged`: the name of a type's data in the document."""
    return "".join(word.capitalize() for word in re.split(r"[._]", event_type))


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(model=name)}


def _data_schemas(event_type: str, components: dict[str, Any], authorities: list[str]) -> dict[str, Any]:
    """The schema of a type's `data` (its nested models added to `components`): exactly what intake
    accepts, so no field it would refuse is valid here."""
    name = _schema_name(event_type)
    schema = BY_TYPE[event_type].model_json_schema(ref_template=_REF)
    components.update(schema.pop("$defs", {}))
    schema["additionalProperties"] = False  # intake refuses fields the event type does not have
    schema["title"] = name
    for field in AUTHORITY_FIELDS & set(schema["properties"]):
        schema["properties"][field] = {
            **{k: v for k, v in schema["properties"][field].items() if k != "examples"},
            "enum": authorities,
            "description": schema["properties"][field].get("description", "")
            + " One of the local authorities this deployment serves.",
        }
    shapes = SHAPES.get(event_type)
    if shapes is None:
        components[name] = schema
        return _ref(name)
    # Rules across fields (docs/domain.md): one shape per way of being valid, so none that intake
    # refuses is valid here.
    for suffix, (description, properties, required) in shapes(schema["properties"]).items():
        components[name + suffix] = {
            **schema,
            "title": name + suffix,
            "description": description,
            "properties": {**schema["properties"], **properties},
            "required": [*schema["required"], *required],
        }
    union: dict[str, Any] = {"oneOf": [_ref(name + suffix) for suffix in shapes(schema["properties"])]}
    if event_type in DISCRIMINATORS:
        field, mapping = DISCRIMINATORS[event_type]
        union["discriminator"] = {
            "propertyName": field,
            "mapping": {value: _REF.format(model=name + suffix) for value, suffix in mapping.items()},
        }
    return union


Shape = tuple[str, dict[str, Any], tuple[str, ...]]  # description, properties changed, also required


def _given(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An optional field's schema without its `null`: the field must be given."""
    given = next(branch for branch in schema.get("anyOf", [schema]) if branch.get("type") != "null")
    return {**given, "title": schema.get("title"), "description": description}


def _missing_reported(properties: dict[str, Any]) -> dict[str, Shape]:
    return {
        "": (
            "A child is missing or away, reported to the police: the force and its reference.",
            {
                "reported_to_police": {"type": "boolean", "const": True, "default": True},
                "police_force": _given(properties["police_force"], "Directory id of the police force."),
                "police_reference": _given(properties["police_reference"], "The force's reference."),
            },
            ("police_force", "police_reference"),
        ),
        "NotReportedToPolice": (
            "A child is away and the council has not reported it to the police: a reason code says why.",
            {
                "reported_to_police": {"type": "boolean", "const": False},
                "not_reported_reason": _given(properties["not_reported_reason"], "Why not, as a code."),
            },
            ("reported_to_police", "not_reported_reason"),
        ),
    }


def _interview_completed(properties: dict[str, Any]) -> dict[str, Shape]:
    return {
        "": (
            "The interview happened (`completed`), or could not (`unable_to_contact`): the task ends.",
            {
                "outcome": {"type": "string", "enum": ["completed", "unable_to_contact"], "title": "Outcome"},
                "decline_reason": {"type": "null", "description": "Only with `child_declined`."},
            },
            (),
        ),
        "ChildDeclined": (
            "The child declined the interview offered: a reason code says why.",
            {
                "outcome": {"type": "string", "const": "child_declined", "title": "Outcome"},
                "decline_reason": _given(properties["decline_reason"], "Why the child declined, as a code."),
            },
            ("decline_reason",),
        ),
    }


SHAPES: dict[str, Callable[[dict[str, Any]], dict[str, Shape]]] = {
    "missing.reported": _missing_reported,
    "interview.completed": _interview_completed,
}
# Shapes told apart by a string field: (field, value -> shape's suffix).
DISCRIMINATORS: dict[str, tuple[str, dict[str, str]]] = {
    "interview.completed": (
        "outcome",
        {"completed": "", "unable_to_contact": "", "child_declined": "ChildDeclined"},
    ),
}


def event_components(authorities: list[str]) -> dict[str, Any]:
    """The schemas of `POST /v1/events`: each event type a CloudEvent of its own (`type` a constant,
    `data` its body), and `CloudEvent`, any one of them, told apart by `type`. Authority codes are
    those of the directory's local authorities (intake refuses any other)."""
    components: dict[str, Any] = {}
    envelope = CloudEventIn.model_json_schema(ref_template=_REF)["properties"]
    mapping: dict[str, str] = {}
    for event_type in sorted(EXAMPLE_DATA):
        model = BY_TYPE[event_type]
        name = f"{_schema_name(event_type)}Event"
        components[name] = {
            "type": "object",
            "title": name,
            "description": f"`{event_type}`: {(model.__doc__ or '').strip().splitlines()[0]}",
            "required": ["specversion", "id", "type", "data"],
            "properties": {
                **envelope,
                "type": {"type": "string", "const": event_type, "title": "Type"},
                "data": _data_schemas(event_type, components, authorities),
            },
        }
        mapping[event_type] = _REF.format(model=name)
    components["Problem"] = PROBLEM_SCHEMA
    components["EventAccepted"] = ACCEPTED_SCHEMA
    components["CloudEvent"] = {
        "title": "CloudEvent",
        "description": "One event, a CloudEvent in structured JSON mode; `type` says which, and so what "
        "`data` holds. Extension attributes are allowed and ignored; `source` is set by intake.",
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "type", "mapping": mapping},
    }
    return components


def request_body(authorities: list[str], max_batch: int = 500) -> dict[str, Any]:
    """`POST /v1/events`'s request body: one CloudEvent or a batch (a JSON array), with an example of
    every type (in the authorities of this deployment).

    One media type is described: client generators make one call of it (openapi-python-client makes
    code that does not import when a required body has several). Intake takes the CloudEvents media
    types too, as the operation's description says."""
    batches = {
        "batch: child declined": {
            "summary": "the child declined the interview offered (a reason code, no free text)",
            "value": [
                {**_example("interview.offered")["value"], "id": "example-interview-offered-0002"},
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
        "batch: report and return": {
            "summary": "a report and a return in one request",
            "value": [_example("missing.reported")["value"], _example("missing.returned")["value"]],
        },
    }
    examples = {name: _example(name) for name in EXAMPLE_DATA} | batches
    batch = {"type": "array", "items": _ref("CloudEvent"), "minItems": 1, "maxItems": max_batch}
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"oneOf": [_ref("CloudEvent"), batch]},
                "examples": {name: _localised(example, authorities) for name, example in examples.items()},
            },
        },
    }


POST_EVENTS_DESCRIPTION = (
    "One CloudEvent (a JSON object), or a batch (a JSON array, as many as `maxItems` says): a batch is "
    "all or nothing. "
    "Sent as `application/json`, or with the CloudEvents media types, `application/cloudevents+json` for "
    "one and `application/cloudevents-batch+json` for a batch. Answered once durably stored."
)


def _localised(example: Any, authorities: list[str]) -> Any:
    """An example with the example councils' codes replaced by this deployment's, where it has not got
    them (so every example is one intake accepts)."""
    if not authorities or set(EXAMPLE_AUTHORITIES) <= set(authorities):
        return example
    text = json.dumps(example)
    for index, code in enumerate(EXAMPLE_AUTHORITIES):
        text = text.replace(code, authorities[min(index, len(authorities) - 1)])
    return json.loads(text)


# Answers' bodies, named once in the document (`components`) so client generators make one type each.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "An RFC 9457 problem: `type` says which (see the errors table); `errors` names each "
    "wrong field.",
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
_problem = {"application/problem+json": {"schema": _ref("Problem")}}
ACCEPTED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "EventAccepted",
    "description": "One event, stored: its id as sent.",
    "required": ["id", "status"],
    "properties": {"id": {"type": "string"}, "status": {"type": "string", "enum": ["accepted"]}},
}
_accepted = {
    "application/json": {
        "schema": {"oneOf": [_ref("EventAccepted"), {"type": "array", "items": _ref("EventAccepted")}]},
    }
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
    404: {
        "description": "An `interview.not_offered` names an episode the child does not have (or not yet: "
        "one intake has not heard of is waited for a few seconds first). `detail` says which.",
        "content": _problem,
    },
    409: {"description": "The id was already used with different content.", "content": _problem},
    413: {"description": "The body is over 1 MiB.", "content": _problem},
    415: {"description": "Unsupported content type.", "content": _problem},
    422: {"description": "Invalid; each wrong field is named.", "content": _problem},
}
PROBLEM_CONTENT = _problem


def problem_answers(described: dict[int, str], *statuses: int) -> dict[int | str, dict[str, Any]]:
    """An operation's refusals for its `responses`: each status with what it means there."""
    return {status: {"description": described[status], "content": PROBLEM_CONTENT} for status in statuses}


# Links between operations (OpenAPI `links`): where one answer leads, for readers and for tools that
# follow them (schemathesis's stateful tests do).
_CHILD_OF_EVENT = {
    "operationId": "getChild",
    "parameters": {
        "authority": "$request.body#/data/responsible_authority",
        "child_ref": "$request.body#/data/child_ref",
    },
    "description": "The record of the child the event is about (a report or a council's event).",
}
LINKS: dict[tuple[str, str, str], dict[str, Any]] = {
    ("/v1/events", "post", "202"): {"ChildOfEvent": _CHILD_OF_EVENT},
    ("/v1/events", "post", "200"): {"ChildOfEvent": _CHILD_OF_EVENT},
    ("/v1/deliveries", "get", "200"): {
        "FirstDelivery": {
            "operationId": "getDelivery",
            "parameters": {"webhook_id": "$response.body#/items/0/webhook_id"},
            "description": "The first delivery of the page, with its attempts.",
        }
    },
    ("/v1/deliveries/{webhook_id}", "get", "200"): {
        "Redeliver": {
            "operationId": "redeliverDelivery",
            "parameters": {"webhook_id": "$response.body#/webhook_id"},
            "description": "Ask for this delivery again.",
        }
    },
    ("/v1/deliveries/{webhook_id}/redeliver", "post", "202"): {
        "Delivery": {
            "operationId": "getDelivery",
            "parameters": {"webhook_id": "$response.body#/webhook_id"},
            "description": "The delivery asked for, its new round's attempts as they come.",
        }
    },
}

# Answers every operation can give, whatever it is: the headers that go with them described.
COMMON_ANSWERS: dict[str, dict[str, Any]] = {
    "401": {
        "description": "No or unknown API key.",
        "headers": {
            "WWW-Authenticate": {
                "description": 'How to authenticate: `Bearer realm="missing-the-point"`.',
                "schema": {"type": "string"},
            }
        },
        "content": _problem,
    },
    "500": {
        "description": "A fault of ours: the same problem document, never a stack trace. Safe to send "
        "again with the same ids.",
        "content": _problem,
    },
    "503": {
        "description": "Intake cannot reach its database for a moment: send again after `Retry-After` "
        "seconds, with the same ids.",
        "headers": {
            "Retry-After": {
                "description": "Seconds to wait before sending again.",
                "schema": {"type": "integer"},
            }
        },
        "content": _problem,
    },
}


def add_common_answers(document: dict[str, Any]) -> None:
    """Document on every API operation the answers any of them can give."""
    for path, operations in document["paths"].items():
        if path.startswith("/v1/"):
            for operation in operations.values():
                operation["responses"].update(copy.deepcopy(COMMON_ANSWERS))  # each its own, to annotate
