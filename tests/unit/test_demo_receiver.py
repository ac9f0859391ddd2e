"""The demo webhook receiver: signed webhooks to an organisation, or to someone else there, are kept."""

from datetime import UTC, datetime
from pathlib import Path

import httpx
from standardwebhooks.webhooks import Webhook

from shared.directory import load_directory
from tests.directory_factory import DirectoryFactory, secret_for
from tools.receiver import create_receiver


async def test_a_councils_senior_manager_has_a_path_of_their_own(tmp_path: Path) -> None:
    app = create_receiver(load_directory(DirectoryFactory(tmp_path).write()))
    body = b'{"type":"window.breached","subject":"ep-1","data":{}}'
    at = datetime.now(UTC)
    signed = Webhook(secret_for("cardiff")).sign("msg_1", at, body.decode())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signed,
    }
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as client:
        assert (
            await client.post("/cardiff/senior-manager", content=body, headers=headers)
        ).status_code == 204
        assert (await client.post("/cardiff", content=body, headers=headers)).status_code == 204
        forged = {**headers, "webhook-signature": "v1,AAAA"}
        assert (await client.post("/cardiff/senior-manager", content=body, headers=forged)).status_code == 401
        kept = (await client.get("/")).json()
    assert [(k["org"], k["recipient"]) for k in kept] == [("cardiff", "senior-manager"), ("cardiff", None)]
