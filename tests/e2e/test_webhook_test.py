"""An operator sends an organisation a test webhook with `mtp webhooks test`: it goes through the running
notifier like any webhook, signed with that organisation's secret, and the command prints the answer."""

import asyncio
import json
import subprocess
import sys

from standardwebhooks import Webhook

from tests.directory_factory import secret_for
from tests.e2e.stack import Stack
from tests.receiver import Receiver


def mtp(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**stack.env, "MTP_DATABASE_URL": stack.logins["notifier"]}
    return subprocess.run(  # our own command line
        [sys.executable, "-m", "tools.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_a_test_webhook_reaches_the_organisation_signed_and_the_answer_is_shown(
    stack: Stack, receiver: Receiver
) -> None:
    done = await asyncio.to_thread(mtp, stack, "webhooks", "test", "nyas-cymru")
    assert done.returncode == 0, done.stderr
    assert "delivered: status 204" in done.stdout
    got = receiver.delivered("nyas-cymru", "webhook.test")
    assert len(got) == 1
    verified = Webhook(secret_for("nyas-cymru")).verify(got[0].body, got[0].headers)
    assert verified["data"]["org_id"] == "nyas-cymru"
    assert "child_ref" not in json.dumps(verified)

    # A receiver that fails: the command says how, and that the notifier keeps trying.
    receiver.status_for["cardiff"] = 503
    failing = await asyncio.to_thread(mtp, stack, "webhooks", "test", "cardiff")
    assert failing.returncode == 1
    assert "not delivered (pending): status 503" in failing.stderr
    assert "the notifier retries it" in failing.stderr
    unknown = await asyncio.to_thread(mtp, stack, "webhooks", "test", "no-such-org")
    assert unknown.returncode == 2
    assert unknown.stderr.startswith("no-such-org is not in the directory (with a webhook URL:")
