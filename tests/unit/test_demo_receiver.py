"""The demo webhook receiver: signed webhooks to an organisation, or to someone else there, are kept."""

import stat
from datetime import UTC, datetime
from pathlib import Path

import httpx
from standardwebhooks.webhooks import Webhook

from shared.directory_file import load_directory
from tests.directory_factory import DirectoryFactory, key_for, secret_for
from tools.demo import write_demo_directory
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
        # what it kept names children: only an operations key, from this machine, lists it
        assert (await client.get("/")).status_code == 404
        assert (await client.get("/", headers=as_org("cardiff"))).status_code == 404
        kept = (await client.get("/", headers=as_org("ops"))).json()
    assert [(k["org"], k["recipient"]) for k in kept] == [("cardiff", "senior-manager"), ("cardiff", None)]
    elsewhere = httpx.ASGITransport(app=app, client=("192.0.2.7", 5000))
    async with httpx.AsyncClient(transport=elsewhere, base_url="http://r") as client:
        assert (await client.get("/", headers=as_org("ops"))).status_code == 404


def as_org(org: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key_for(org)}"}


def test_the_demo_directory_and_its_keys_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    directory, _ = write_demo_directory(tmp_path / "demo", "http://127.0.0.1:8099")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o600
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in (tmp_path / "demo").iterdir())
