"""OpenAPI documentation of `POST /v1/events`: a schema of every event type, the request body with the
examples of event_examples.py, and its answers."""

import re
from collections.abc import Callable
from typing import Any

from services.intake.docs.answers import PROBLEM_CONTENT, PROBLEM_SCHEMA, REF, ref
from services.intake.docs.event_examples import EXAMPLE_DATA, request_examples
from services.intake.events.submission import CloudEventIn
from shared.contracts.registry import BY_TYPE

AUTHORITY_FIELDS = frozenset({"responsible_authority", "placement_authority"})


def _schema_name(event_type: str) -> str:
    """`missing.risk_changed` -> `MissingRiskChanged`: the name of a type's data in the document."""
    return "".join(word.capitalize() for word in re.split(r"[._]", event_type))


def _data_schemas(event_type: str, components: dict[str, Any], authorities: list[str]) -> dict[str, Any]:
    """The schema of a type's `data` (its nested models added to `components`): exactly what intake
    accepts, so no field it would refuse is valid here."""
    name = _schema_name(event_type)
    schema = BY_TYPE[event_type].model_json_schema(ref_template=REF)
    for nested, nested_schema in schema.pop("$defs", {}).items():
        # intake refuses fields a nested object (the findings) does not have, as it does the event's
        components[nested] = {**nested_schema, "additionalProperties": False}
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
        return ref(name)
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
    union: dict[str, Any] = {"oneOf": [ref(name + suffix) for suffix in shapes(schema["properties"])]}
    if event_type in DISCRIMINATORS:
        field, mapping = DISCRIMINATORS[event_type]
        union["discriminator"] = {
            "propertyName": field,
            "mapping": {value: REF.format(model=name + suffix) for value, suffix in mapping.items()},
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
    no_findings = {"type": "null", "description": "Only with `completed` (docs/domain.md rule 30)."}
    return {
        "": (
            "The interview happened (`completed`): the task ends. What the child said may come with it "
            "(`findings`, read by the responsible authority only).",
            {
                "outcome": {"type": "string", "const": "completed", "title": "Outcome"},
                "decline_reason": {"type": "null", "description": "Only with `child_declined`."},
            },
            (),
        ),
        "UnableToContact": (
            "The interview could not happen (`unable_to_contact`): the task ends.",
            {
                "outcome": {"type": "string", "const": "unable_to_contact", "title": "Outcome"},
                "decline_reason": {"type": "null", "description": "Only with `child_declined`."},
                "findings": no_findings,
            },
            (),
        ),
        "ChildDeclined": (
            "The child declined the interview offered: a reason code says why.",
            {
                "outcome": {"type": "string", "const": "child_declined", "title": "Outcome"},
                "decline_reason": _given(properties["decline_reason"], "Why the child declined, as a code."),
                "findings": no_findings,
            },
            ("decline_reason",),
        ),
    }


def _nrm_decided(properties: dict[str, Any]) -> dict[str, Shape]:
    return {
        "": (
            "The child was referred to the National Referral Mechanism, now or before.",
            {
                "decision": {"type": "string", "enum": ["referred", "already_referred"], "title": "Decision"},
                "reason": {"type": "null", "description": "Only with `not_referred`."},
            },
            (),
        ),
        "NotReferred": (
            "The child was not referred: a reason code says why.",
            {
                "decision": {"type": "string", "const": "not_referred", "title": "Decision"},
                "reason": _given(properties["reason"], "Why not, as a code."),
            },
            ("reason",),
        ),
    }


SHAPES: dict[str, Callable[[dict[str, Any]], dict[str, Shape]]] = {
    "missing.reported": _missing_reported,
    "interview.completed": _interview_completed,
    "nrm.decided": _nrm_decided,
}
# Shapes told apart by a string field: (field, value -> shape's suffix).
DISCRIMINATORS: dict[str, tuple[str, dict[str, str]]] = {
    "interview.completed": (
        "outcome",
        {"completed": "", "unable_to_contact": "UnableToContact", "child_declined": "ChildDeclined"},
    ),
    "nrm.decided": ("decision", {"referred": "", "already_referred": "", "not_referred": "NotReferred"}),
}


def event_components(authorities: list[str]) -> dict[str, Any]:
    """The schemas of `POST /v1/events`: each event type a CloudEvent of its own (`type` a constant,
    `data` its body), and `CloudEvent`, any one of them, told apart by `type`. Authority codes are
    those of the directory's local authorities (intake refuses any other)."""
    components: dict[str, Any] = {}
    envelope = CloudEventIn.model_json_schema(ref_template=REF)["properties"]
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
        mapping[event_type] = REF.format(model=name)
    components["Problem"] = PROBLEM_SCHEMA
    components["EventAccepted"] = ACCEPTED_SCHEMA
    components["CloudEvent"] = {
        "title": "CloudEvent",
        "description": "One event, a CloudEvent in structured JSON mode; `type` says which, and so what "
        "`data` holds. Extension attributes are allowed and ignored; `source` is set by intake.",
        "oneOf": [{"$ref": schema_ref} for schema_ref in mapping.values()],
        "discriminator": {"propertyName": "type", "mapping": mapping},
    }
    return components


def request_body(authorities: list[str], max_batch: int = 500) -> dict[str, Any]:
    """`POST /v1/events`'s request body: one CloudEvent or a batch (a JSON array), with an example of
    every type (in the authorities of this deployment).

    One media type is described: client generators make one call of it (openapi-python-client makes
    code that does not import when a required body has several). Intake takes the CloudEvents media
    types too, as the operation's description says."""
    batch = {"type": "array", "items": ref("CloudEvent"), "minItems": 1, "maxItems": max_batch}
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {"oneOf": [ref("CloudEvent"), batch]},
                "examples": request_examples(authorities),
            },
        },
    }


POST_EVENTS_DESCRIPTION = (
    "One CloudEvent (a JSON object), or a batch (a JSON array, as many as `maxItems` says): a batch is "
    "all or nothing. "
    "Sent as `application/json`, or with the CloudEvents media types, `application/cloudevents+json` for "
    "one and `application/cloudevents-batch+json` for a batch. Answered once durably stored."
)


# The body of an accepted event, named once in the document (`components`) as the problem's is.
ACCEPTED_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "EventAccepted",
    "description": "One event, stored: its id as sent.",
    "required": ["id", "status"],
    "properties": {"id": {"type": "string"}, "status": {"type": "string", "enum": ["accepted"]}},
}
_accepted = {
    "application/json": {
        "schema": {"oneOf": [ref("EventAccepted"), {"type": "array", "items": ref("EventAccepted")}]},
    }
}

POST_EVENTS_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Stored durably; will be published.", "content": _accepted},
    200: {"description": "The same event was already accepted; same answer.", "content": _accepted},
    401: {"description": "No or unknown API key.", "content": PROBLEM_CONTENT},
    403: {
        "description": "This organisation may not send this event: for a provider, it does not hold the "
        "assignment (one intake has not heard of yet is waited for a few seconds first); a cancellation of "
        "a report that is not the sender's own, or `left_care` from anyone but the responsible authority; "
        "`interview.not_offered` from anyone but the responsible authority. `detail` says which.",
        "content": PROBLEM_CONTENT,
    },
    404: {
        "description": "An `interview.not_offered` names an episode the child does not have (or not yet: "
        "one intake has not heard of is waited for a few seconds first). `detail` says which.",
        "content": PROBLEM_CONTENT,
    },
    409: {"description": "The id was already used with different content.", "content": PROBLEM_CONTENT},
    413: {"description": "The body is over 1 MiB.", "content": PROBLEM_CONTENT},
    415: {"description": "Unsupported content type.", "content": PROBLEM_CONTENT},
    422: {"description": "Invalid; each wrong field is named.", "content": PROBLEM_CONTENT},
}
