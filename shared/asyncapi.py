"""The AsyncAPI 3.0 document of the topics, generated from the event contracts.

`mtp asyncapi` writes it to docs/asyncapi.yaml (a test fails when the checked-in file no longer
matches the code, so the published description of the topics cannot drift from what is sent); intake
serves it at /docs/asyncapi with the brokers its settings name as `servers`.
"""

from typing import Any

import yaml

from shared import topics
from shared.contracts.registry import TOPIC_TYPES

# Who sends and who reads each topic (the README's "How it fits together"), and each reader's group.
FLOWS: dict[str, tuple[str, tuple[str, ...]]] = {
    topics.EPISODES: ("intake", ("scheduler",)),
    topics.INTERVIEWS: ("intake", ("scheduler", "notifier")),
    topics.TASKS: ("scheduler", ("notifier", "intake")),
    topics.ASSIGNMENTS: ("notifier", ("scheduler", "intake")),
    topics.FIGURES: ("scheduler", ("intake",)),
    topics.DELIVERIES: ("notifier", ("intake",)),
    topics.REDELIVERIES: ("intake", ("notifier",)),
}
GROUPS = {"scheduler": "mtp-scheduler", "notifier": "mtp-notifier", "intake": "mtp-intake-read-model"}

_CE_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "CloudEvents 1.0 attributes in binary content mode; the value is the JSON `data`.",
    "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time"],
    "properties": {
        "ce_specversion": {"type": "string", "const": "1.0"},
        "ce_id": {"type": "string", "description": "Unique per ce_source; consumers ignore repeats."},
        "ce_source": {
            "type": "string",
            "description": "/orgs/<org id> for reports; /mtp/<service> otherwise.",
        },
        "ce_type": {"type": "string", "description": "The event type, e.g. missing.reported."},
        "ce_time": {"type": "string", "format": "date-time"},
        "ce_subject": {
            "type": "string",
            "description": "The episode or assignment concerned, when there is one.",
        },
        "ce_childseq": {
            "type": "string",
            "pattern": "^[1-9][0-9]*$",
            "description": "Events that came through intake: the event's number among everything intake "
            "accepted about the same child's timeline (1, 2, 3, ...), the order the system learnt of them. "
            "A consumer that needs that order waits for a missing number rather than apply a later one "
            "first. A council's findings.responded and nrm.decided are not numbered: they change no "
            "episode or window.",
        },
        "content-type": {"type": "string", "const": "application/json"},
    },
}
_DLQ_HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "The original headers, plus why and where the message could not be handled.",
    "required": ["mtp_dlq_reason", "mtp_dlq_topic", "mtp_dlq_partition", "mtp_dlq_offset"],
    "properties": {
        "mtp_dlq_reason": {"type": "string", "description": "e.g. value_not_json, invalid_data:<fields>"},
        "mtp_dlq_topic": {"type": "string"},
        "mtp_dlq_partition": {"type": "string"},
        "mtp_dlq_offset": {"type": "string"},
    },
}
_KEY = {
    "type": "string",
    "description": "<responsible_authority>/<child_ref>: one child's events stay in order on one partition.",
}
# Topics keyed otherwise than by the child.
_KEYS = {
    topics.FIGURES: {
        "type": "string",
        "description": "<authority>: one authority's figures stay in order on one partition.",
    },
    **{
        topic: {
            "type": "string",
            "description": "<org id>: the receiving organisation's deliveries stay in order on one partition.",
        }
        for topic in (topics.DELIVERIES, topics.REDELIVERIES)
    },
}


def servers(bootstrap: str, security_protocol: str) -> dict[str, Any]:
    """The `servers` of a deployment: each broker named, with TLS when the clients use it."""
    protocol = "kafka-secure" if security_protocol in ("SSL", "SASL_SSL") else "kafka"
    return {
        f"broker{n}": {
            "host": host.strip(),
            "protocol": protocol,
            "description": "A bootstrap broker" + (" (TLS)." if protocol == "kafka-secure" else "."),
        }
        for n, host in enumerate(bootstrap.split(","), start=1)
        if host.strip()
    }


def build(servers: dict[str, Any] | None = None) -> dict[str, Any]:
    """The AsyncAPI document as a mapping (with `servers` when given: they are the deployment's)."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    for topic, models in TOPIC_TYPES.items():
        channel = topic.removeprefix("mtp.").removesuffix(".v1")
        refs = {}
        for model in models:
            name = model.type_name.replace(".", "_")
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[name] = schema
            messages[name] = {
                "name": model.type_name,
                "title": model.type_name,
                "summary": (model.__doc__ or "").strip().splitlines()[0],
                "contentType": "application/json",
                "headers": {"$ref": "#/components/schemas/CloudEventHeaders"},
                "bindings": {"kafka": {"key": _KEYS.get(topic, _KEY)}},
                "payload": {"$ref": f"#/components/schemas/{name}"},
            }
            refs[name] = {"$ref": f"#/components/messages/{name}"}
        channels[channel] = {"address": topic, "messages": refs}
        channels[f"{channel}_dlq"] = {
            "address": topics.dlq(topic),
            "description": f"Messages from {topic} that a consumer could not read, unchanged, with the reason.",
            "messages": {"dead_letter": {"$ref": "#/components/messages/dead_letter"}},
        }
        producer, consumers = FLOWS[topic]
        operations[f"{producer}_sends_{channel}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel}"},
            "summary": f"{producer} publishes through its transactional outbox.",
        }
        for consumer in consumers:
            operations[f"{consumer}_receives_{channel}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{channel}"},
                "summary": f"consumer group {GROUPS[consumer]}; offsets committed after the database "
                "transaction.",
            }
    messages["dead_letter"] = {
        "name": "dead_letter",
        "title": "Dead letter",
        "summary": "The unreadable message as it was received.",
        "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
        "payload": {"type": "string", "format": "binary"},
    }
    schemas["CloudEventHeaders"] = _CE_HEADERS
    schemas["DeadLetterHeaders"] = _DLQ_HEADERS
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Missing the Point — topics",
            "version": "1",
            "description": (
                "Kafka topics of the Missing the Point system. CloudEvents in binary mode; any Kafka "
                "client may subscribe. Delivery is at least once: use ce_source + ce_id to ignore repeats."
            ),
        },
        "defaultContentType": "application/json",
        **({"servers": servers} if servers else {}),
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render(servers: dict[str, Any] | None = None) -> str:
    """The AsyncAPI document as YAML text."""
    header = "# Generated from shared/contracts by `mtp asyncapi`. Do not edit by hand.\n"
    return header + yaml.safe_dump(build(servers), sort_keys=False, allow_unicode=True, width=110)
