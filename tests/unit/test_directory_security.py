"""A directory that would let anyone in is refused at start-up, and one in use can be replaced live."""

import asyncio
import base64
import os
import signal
from pathlib import Path

import pytest
import yaml
from standardwebhooks.webhooks import Webhook

from services.notifier.webhooks.worker import sign
from shared.directory import example_api_key, example_webhook_secret, hash_api_key
from shared.directory_file import DirectoryError, load_directory, open_directory
from shared.live_directory import LiveDirectory
from tests.directory_factory import DirectoryFactory, key_for, secret_for
from tests.kafka_reader import poll

EXAMPLE = Path("deploy/directory.example.yaml")


def _council(**secret: object) -> dict[str, object]:
    return {
        "id": "cardiff",
        "kind": "local_authority",
        "name": "Cardiff",
        "authority_code": "W06000015",
        "notify_url": "https://cardiff.example/hooks",
        **secret,
    }


def _write(tmp_path: Path, *organisations: dict[str, object]) -> Path:
    path = tmp_path / "directory.yaml"
    path.write_text(yaml.safe_dump({"organisations": list(organisations)}))
    return path


def test_a_service_without_a_directory_refuses_to_start_and_says_which_setting() -> None:
    with pytest.raises(DirectoryError, match="MTP_DIRECTORY is not set"):
        open_directory(None)


def test_the_published_example_directory_is_refused_unless_a_trial_says_so() -> None:
    with pytest.raises(DirectoryError) as caught:
        open_directory(EXAMPLE)
    message = str(caught.value)
    assert "south-wales-police: api key 'south-wales-police-example' is the published example key" in message
    assert "cardiff: its webhook secret is a published example secret" in message
    assert "MTP_ALLOW_EXAMPLE_DIRECTORY" in message
    assert example_webhook_secret("cardiff") not in message  # no secret is ever shown
    trial = open_directory(EXAMPLE, allow_examples=True)
    assert trial.authenticate(example_api_key("cardiff")) is not None


def test_the_example_directory_uses_exactly_the_published_keys_and_secrets() -> None:
    directory = load_directory(EXAMPLE)
    for org in directory.organisations:
        assert [key.sha256 for key in org.api_keys] == [hash_api_key(example_api_key(org.id))]
        assert org.signing_secrets in ([], [example_webhook_secret(org.id)])


def test_a_copied_example_key_is_refused_even_under_another_name(tmp_path: Path) -> None:
    police = {
        "id": "gwent-police",
        "kind": "police",
        "name": "Gwent",
        "api_keys": [{"id": "gwent-1", "sha256": hash_api_key(example_api_key("gwent-police"))}],
    }
    with pytest.raises(DirectoryError, match="gwent-police: api key 'gwent-1'"):
        open_directory(_write(tmp_path, police))


def test_a_short_secret_is_refused() -> None:
    short = "whsec_" + base64.b64encode(b"sixteen-bytes-!!").decode()
    with pytest.raises(ValueError, match="16 bytes; at least 24"):
        load_directory_from({"organisations": [_council(webhook_secret=short)]})


def test_two_organisations_sharing_one_key_are_refused(tmp_path: Path) -> None:
    same = hash_api_key("one-key-for-two")
    path = _write(
        tmp_path,
        {"id": "a", "kind": "police", "name": "A", "api_keys": [{"id": "a-1", "sha256": same}]},
        {"id": "b", "kind": "police", "name": "B", "api_keys": [{"id": "b-1", "sha256": same}]},
    )
    with pytest.raises(DirectoryError, match="api key 'b-1' has the same hash as 'a-1'"):
        load_directory(path)


def test_secrets_come_from_a_file_or_an_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mounted = tmp_path / "cardiff-webhook-secret"
    mounted.write_text(secret_for("cardiff") + "\n")
    from_file = load_directory(_write(tmp_path, _council(webhook_secret_file=str(mounted))))
    assert from_file.organisations[0].signing_secrets == [secret_for("cardiff")]

    monkeypatch.setenv("CARDIFF_WEBHOOK_SECRET", secret_for("cardiff"))
    from_env = load_directory(_write(tmp_path, _council(webhook_secret_env="CARDIFF_WEBHOOK_SECRET")))
    assert from_env.organisations[0].signing_secrets == [secret_for("cardiff")]

    with pytest.raises(DirectoryError, match="the environment variable NOT_SET_ANYWHERE is not set"):
        load_directory(_write(tmp_path, _council(webhook_secret_env="NOT_SET_ANYWHERE")))
    with pytest.raises(DirectoryError, match="cannot read it"):
        load_directory(_write(tmp_path, _council(webhook_secret_file=str(tmp_path / "missing"))))
    with pytest.raises(DirectoryError, match="give one of webhook_secret, webhook_secret_env"):
        load_directory(
            _write(
                tmp_path,
                _council(webhook_secret=secret_for("cardiff"), webhook_secret_env="CARDIFF_WEBHOOK_SECRET"),
            )
        )


def test_while_rotating_every_webhook_verifies_with_the_old_secret_and_with_the_new(tmp_path: Path) -> None:
    new, old = secret_for("cardiff-2027"), secret_for("cardiff")
    org = load_directory(_write(tmp_path, _council(webhook_secret=[new, old]))).organisations[0]
    assert org.signing_secrets == [new, old]
    body = b'{"type": "window.breached"}'
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    headers = sign(org.signing_secrets, "msg_1", now, body)
    assert headers["webhook-signature"].count("v1,") == 2
    for receiver_secret in (old, new):
        Webhook(receiver_secret).verify(body, headers)  # raises if it does not verify
    with pytest.raises(Exception, match="No matching signature"):
        Webhook(secret_for("someone-else")).verify(body, headers)
    with pytest.raises(DirectoryError, match="at most 2 webhook secrets"):
        load_directory(_write(tmp_path, _council(webhook_secret=[new, old, secret_for("x")])))


def test_a_reload_revokes_a_removed_key_and_a_bad_file_keeps_the_directory_in_use(tmp_path: Path) -> None:
    factory = DirectoryFactory(tmp_path)
    path = factory.write()
    live = LiveDirectory(path)
    assert live.current.authenticate(key_for("cardiff")) is not None
    text = yaml.safe_load(path.read_text())
    for org in text["organisations"]:
        if org["id"] == "cardiff":
            org["api_keys"] = []
    path.write_text(yaml.safe_dump(text))
    assert live.reload()
    assert live.current.authenticate(key_for("cardiff")) is None
    assert live.current.authenticate(key_for("newport")) is not None
    path.write_text("organisations: [{id: broken}]\n")
    assert not live.reload()
    assert live.current.authenticate(key_for("newport")) is not None


async def test_sighup_reloads_the_directory(tmp_path: Path) -> None:
    path = DirectoryFactory(tmp_path).write()
    live = LiveDirectory(path)
    before = live.current
    loop = asyncio.get_running_loop()
    live.reload_on_sighup(loop)
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        await poll(lambda: live.current is not before, timeout=5, interval=0.01)
    finally:
        live.stop_reloading()
        loop.remove_signal_handler(signal.SIGHUP)
    assert live.current is not before


def load_directory_from(raw: dict[str, object]) -> object:
    from shared.directory import Directory

    return Directory.model_validate(raw)


@pytest.mark.parametrize("service", ["intake", "scheduler", "notifier"])
def test_a_service_started_with_the_example_directory_stops_with_the_reason_not_a_traceback(
    service: str,
) -> None:
    import subprocess
    import sys

    env = {key: value for key, value in os.environ.items() if not key.startswith("MTP_")}
    env["MTP_DIRECTORY"] = str(EXAMPLE)
    done = subprocess.run(
        [sys.executable, "-m", f"services.{service}"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"{service}: cannot start: {EXAMPLE}: holds keys or secrets published")
    assert "Traceback" not in done.stderr
