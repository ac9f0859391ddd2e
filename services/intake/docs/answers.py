"""The answers the OpenAPI document describes for every API operation: the problem a refusal is, each
operation's refusals, the answers any of them can give, and the links from an answer to the next
operation."""

import copy
from typing import Any

# Schemas are named once in the document (`components`) and referred to by name.
REF = "#/components/schemas/{model}"


def ref(name: str) -> dict[str, str]:
    """A reference to the schema the document names `name`."""
    return {"$ref": REF.format(model=name)}


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
PROBLEM_CONTENT = {"application/problem+json": {"schema": ref("Problem")}}


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
        "content": PROBLEM_CONTENT,
    },
    "500": {
        "description": "A fault of ours: the same problem document, never a stack trace. Safe to send "
        "again with the same ids.",
        "content": PROBLEM_CONTENT,
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
        "content": PROBLEM_CONTENT,
    },
}


def add_common_answers(document: dict[str, Any]) -> None:
    """Document on every API operation the answers any of them can give."""
    for path, operations in document["paths"].items():
        if path.startswith("/v1/"):
            for operation in operations.values():
                operation["responses"].update(copy.deepcopy(COMMON_ANSWERS))  # each its own, to annotate
