"""The receiver in docs/integration.md works as printed: a signed webhook is taken once, a repeat is
recognised by its webhook-id, and a wrong signature is refused."""

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks import Webhook

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integration.md"
SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="


async def test_the_guides_receiver_takes_a_signed_webhook_once_and_refuses_a_forged_one() -> None:
    code = re.search(r"```python\n(.*?)```", GUIDE.read_text(), re.DOTALL)
    assert code
    names: dict[str, Any] = {}
    exec(compile(code.group(1).replace('"whsec_..."', repr(SECRET)), "integration.md", "exec"), names)  # noqa: S102  # our own guide
    transport = httpx.ASGITransport(app=names["app"])
    client = httpx.AsyncClient(transport=transport, base_url="http://receiver")
    body = '{"type": "webhook.test", "data": {"org_id": "nyas-cymru"}}'
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(SECRET).sign("msg_1", now, body),
        "content-type": "application/cloudevents+json",
    }
    async with client:
        first = await client.post("/hooks/missing-the-point", content=body, headers=headers)
        again = await client.post("/hooks/missing-the-point", content=body, headers=headers)
        forged = {**headers, "webhook-id": "msg_2"}
        refused = await client.post("/hooks/missing-the-point", content=body, headers=forged)
    assert first.json() == {"status": "received"}
    assert again.json() == {"status": "repeat"}
    assert refused.status_code == 401
