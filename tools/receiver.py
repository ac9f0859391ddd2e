"""A demo webhook receiver: verifies each webhook's signature against the directory and logs it.

`mtp receiver` runs it for the demo directory; it stands in for providers' and councils' systems.
It logs the event type and ids only, never the child's details.
"""

import ipaddress
from collections import deque
from typing import Any

import structlog
from fastapi import FastAPI, Request, Response
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from shared.directory import Directory

log = structlog.get_logger()


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def create_receiver(directory: Directory, keep: int = 200) -> FastAPI:
    """An app that accepts POST /{org_id} for every organisation with a webhook secret, and
    POST /{org_id}/{recipient} for someone else there (a council's senior manager)."""
    app = FastAPI(title="Demo webhook receiver", openapi_url=None)
    received: deque[dict[str, Any]] = deque(maxlen=keep)

    @app.post("/{org_id}")
    @app.post("/{org_id}/{recipient}")
    async def receive(org_id: str, request: Request, recipient: str | None = None) -> Response:
        org = directory.get(org_id)
        if org is None or not org.signing_secrets:
            return Response(status_code=404)
        body = await request.body()
        try:  # the newest secret is the one a receiver would hold; any listed one verifies
            event = Webhook(org.signing_secrets[0]).verify(body, dict(request.headers))
        except WebhookVerificationError:
            log.warning("webhook_signature_invalid", org=org_id, webhook_id=request.headers.get("webhook-id"))
            return Response(status_code=401)
        entry = {
            "org": org_id,
            "recipient": recipient,
            "webhook_id": request.headers.get("webhook-id"),
            "type": event.get("type"),
            "subject": event.get("subject"),
            "verified": True,
        }
        received.append({**entry, "event": event})
        log.info("webhook_received", **entry)
        return Response(status_code=204)

    @app.get("/", response_model=None)
    async def recent(request: Request) -> list[dict[str, Any]] | Response:
        """What it received (children's details included): only to a caller on this machine that
        shows an operations key of the directory."""
        client = request.client.host if request.client else ""
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        found = directory.authenticate(key.strip()) if scheme.lower() == "bearer" else None
        if not _loopback(client) or found is None or found[0].kind != "ops":
            return Response(status_code=404)
        return list(received)

    return app
