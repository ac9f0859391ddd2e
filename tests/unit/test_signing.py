"""Webhook signatures match the Standard Webhooks reference vector, and a receiver can verify them."""

import base64
import hashlib
import hmac
from datetime import UTC, datetime

from services.notifier.webhooks.worker import sign

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = datetime.fromtimestamp(1614265330, UTC)
BODY = b'{"test": 2432232314}'


def test_signature_matches_the_reference_vector() -> None:
    headers = sign([SECRET], MESSAGE_ID, TIMESTAMP, BODY)
    assert headers["webhook-signature"] == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert headers["webhook-id"] == MESSAGE_ID
    assert headers["webhook-timestamp"] == "1614265330"


def test_signature_verifies_with_only_the_standard_library() -> None:
    headers = sign([SECRET], MESSAGE_ID, TIMESTAMP, BODY)
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + BODY
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    assert headers["webhook-signature"].split(",", 1)[1] == expected
