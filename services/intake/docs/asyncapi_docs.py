"""The topics' AsyncAPI document, served beside the API's: as YAML at /docs/asyncapi.yaml, and as a page
at /docs/asyncapi that intake renders itself (no script, nothing from another host), with the brokers
MTP_ASYNCAPI_SERVERS names as its `servers`."""

from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from services.intake.core.settings import IntakeSettings
from shared.asyncapi import build, render, servers

TEMPLATES = Environment(
    loader=PackageLoader("services.intake.docs", "templates"),
    autoescape=select_autoescape(),
    auto_reload=False,
)


# The page runs no script and loads nothing: a policy that lets it do neither, nor be framed.
PAGE_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


def _type(schema: dict[str, Any]) -> str:
    """A field's type in a few words: `string`, `one of a, b`, `list of string`, `ReferralPacket`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "enum" in schema:
        return "one of " + ", ".join(str(value) for value in schema["enum"])
    if "const" in schema:
        return f"always {schema['const']}"
    if "anyOf" in schema:
        kinds = [_type(branch) for branch in schema["anyOf"] if branch.get("type") != "null"]
        optional = any(branch.get("type") == "null" for branch in schema["anyOf"])
        return " or ".join(kinds) + (" (or null)" if optional else "")
    if schema.get("type") == "array":
        return "list of " + _type(schema.get("items", {}))
    kind = str(schema.get("type", "any"))
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def _fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "type": _type(field),
            "required": name in required,
            "description": field.get("description", ""),
        }
        for name, field in schema.get("properties", {}).items()
    ]


def page(document: dict[str, Any]) -> dict[str, Any]:
    """What the page shows: servers, then each topic with who sends and reads it and its messages."""
    components = document["components"]
    receivers: dict[str, list[str]] = {}
    senders: dict[str, list[str]] = {}
    for operation in document["operations"].values():
        channel = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        (senders if operation["action"] == "send" else receivers).setdefault(channel, []).append(
            operation["summary"]
        )
    channels = []
    for name, channel in document["channels"].items():
        messages = []
        for ref in channel["messages"].values():
            message = components["messages"][ref["$ref"].rsplit("/", 1)[-1]]
            payload = message["payload"]
            schema = (
                components["schemas"][payload["$ref"].rsplit("/", 1)[-1]] if "$ref" in payload else payload
            )
            key = message.get("bindings", {}).get("kafka", {}).get("key", {})
            messages.append(
                {
                    "name": message["name"],
                    "summary": message.get("summary", ""),
                    "key": key.get("description", ""),
                    "fields": _fields(schema),
                }
            )
        channels.append(
            {
                "id": name,
                "address": channel["address"],
                "description": channel.get("description", ""),
                "senders": senders.get(name, []),
                "receivers": receivers.get(name, []),
                "messages": messages,
                "dead_letters": name.endswith("_dlq"),
            }
        )
    return {
        "info": document["info"],
        "servers": document.get("servers", {}),
        "channels": channels,
        "headers": _fields(components["schemas"]["CloudEventHeaders"]),
    }


def add_asyncapi_docs(app: FastAPI, settings: IntakeSettings) -> None:
    """Serve /docs/asyncapi (the page) and /docs/asyncapi.yaml (the document), naming as servers the
    brokers MTP_ASYNCAPI_SERVERS lists (none by default: these pages are public)."""
    brokers = servers(settings.asyncapi_servers, settings.kafka_security_protocol)
    text = render(brokers)
    html = TEMPLATES.get_template("asyncapi.html").render(page(build(brokers)))

    @app.get("/docs/asyncapi.yaml", include_in_schema=False)
    async def asyncapi_yaml() -> Response:
        return Response(text, media_type="application/yaml")

    @app.get("/docs/asyncapi", include_in_schema=False)
    async def asyncapi_page() -> HTMLResponse:
        return HTMLResponse(html, headers=PAGE_HEADERS)
