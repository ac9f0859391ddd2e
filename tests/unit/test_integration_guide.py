"""docs/integration.md works as printed: its standard-library signature check verifies the reference
vector at the vector's own moment and a webhook signed the way the notifier signs, and refuses a
replay or another body; its receiver takes a signed webhook once, recognises a repeat by its
webhook-id, and refuses a wrong signature."""

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks import Webhook

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integration.md"
SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="


def run_block(after: str) -> dict[str, Any]:
    """Run the first Python block after a heading of the guide; what it defined."""
    text = GUIDE.read_text()
    found = re.search(r"```python\n(.*?)```", text[text.index(after) :], re.DOTALL)
    assert found, f"no Python block after {after!r}"
    names: dict[str, Any] = {}
    code = found.group(1).replace('"whsec_..."', repr(SECRET))
    exec(compile(code, "integration.md", "exec"), names)  # noqa: S102  # our own guide
    return names


def test_the_standard_library_check_verifies_the_reference_vector_and_the_notifiers_signatures() -> None:
    verify = run_block("### Verifying a signature")["verify"]  # its own asserts check the vector
    body = b'{"type": "assignment.offered"}'
    moment = int(time.time())
    signature = Webhook(SECRET).sign("msg_1", datetime.fromtimestamp(moment, UTC), body.decode())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(moment),
        "webhook-signature": f"v1,c29tZXRoaW5nIGVsc2U= {signature}",  # a rotated secret beside it
    }
    assert verify(SECRET, headers, body)
    assert not verify(SECRET, headers, body + b" ")
    assert not verify(SECRET, headers, body, now=moment + 301)


async def test_the_receiver_takes_a_signed_webhook_once_and_refuses_a_forged_one() -> None:
    app = run_block("A receiver in Python with FastAPI")["app"]
    body = '{"type": "webhook.test", "data": {"org_id": "nyas-cymru"}}'
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRET).sign("msg_1", now, body),
        "content-type": "application/cloudevents+json",
    }
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://receiver"
    ) as client:
        first = await client.post("/hooks/missing-the-point", content=body, headers=headers)
        again = await client.post("/hooks/missing-the-point", content=body, headers=headers)
        forged = {**headers, "webhook-id": "msg_2"}
        refused = await client.post("/hooks/missing-the-point", content=body, headers=forged)
    assert first.json() == {"status": "received"}
    assert again.json() == {"status": "repeat"}
    assert refused.status_code == 401
