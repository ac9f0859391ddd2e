"""Loading the directory: a usable file loads; a broken one names the line."""

from pathlib import Path

import pytest

from shared.directory import hash_api_key
from shared.directory_file import DirectoryError, load_directory
from tests.directory_factory import DirectoryFactory, key_for


def test_factory_directory_loads_and_authenticates(tmp_path: Path) -> None:
    directory = load_directory(DirectoryFactory(tmp_path).write())
    found = directory.authenticate(key_for("cardiff"))
    assert found is not None
    assert found[0].id == "cardiff"
    assert directory.authenticate("not-a-key") is None
    assert directory.settings.interview_window_hours == 72


def test_the_example_directory_is_valid() -> None:
    directory = load_directory(Path("deploy/directory.example.yaml"))
    assert {org.kind for org in directory.organisations} == {"police", "local_authority", "provider", "ops"}


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "organisations:\n  - id: x\n    kind: police\n    name: X\n    colour: blue\n",
            ":5: organisations.0.colour",
        ),
        ("organisations:\n  - id: a\n    kind: local_authority\n    name: A\n", ":2: organisations.0"),
        (
            "organisations:\n  - id: p\n    kind: provider\n    name: P\n    covers: []\n"
            "    webhook_url: https://p.example\n    webhook_secret: whsec_abc\n",
            ":2: organisations.0",
        ),
        (
            "organisations:\n  - {id: a, kind: police, name: A}\n  - {id: a, kind: police, name: B}\n",
            "duplicate organisation id",
        ),
        (
            "organisations:\n  - {id: cardiff, kind: local_authority, name: C, authority_code: W06000015,\n"
            "     notify_url: https://c.example, webhook_secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n"
            "  - {id: team, kind: provider, name: T, employer: cardiff, covers: [W06000015],\n"
            "     webhook_url: https://t.example, webhook_secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}\n",
            "employer 'cardiff' is neither an authority code",
        ),
        (
            "organisations:\n  - {id: c, kind: local_authority, name: C, authority_code: W06000015,\n"
            "     notify_url: https://c.example, webhook_secret: whsec_not-base64!!}\n",
            "a webhook secret is not a signing secret",
        ),
    ],
)
def test_errors_name_the_line(tmp_path: Path, yaml_text: str, expected: str) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text(yaml_text)
    with pytest.raises(DirectoryError) as caught:
        load_directory(path)
    assert expected in str(caught.value)


COUNCIL = (
    "  - {id: c, kind: local_authority, name: C, authority_code: W06000015, notify_url: https://c.example,\n"
    "     webhook_secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)


def test_an_authority_has_its_own_thresholds_over_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text(
        "settings: {acceptance_timeout_hours: 2}\norganisations:\n"
        + COUNCIL
        + ",\n     settings: {interview_window_hours: 48, offer_warning_hours: 36, repeat_missing: {count: 3, within_days: 30}}}\n"
    )
    directory = load_directory(path)
    cardiff, elsewhere = directory.timing_for("W06000015"), directory.timing_for("W06000022")
    assert (
        cardiff.interview_window_hours,
        cardiff.offer_warning_hours,
        cardiff.repeat_missing.within_days,
    ) == (48, 36, 30)
    assert (cardiff.acceptance_timeout_hours, cardiff.acceptance_reminder_hours) == (2, 24)  # the defaults
    assert (elsewhere.interview_window_hours, elsewhere.repeat_missing.within_days) == (72, 90)


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("settings: {offer_warning_hours: 72}\norganisations: []\n", "must come before the breach"),
        (
            "organisations:\n" + COUNCIL + ",\n     settings: {interview_window_hours: 40}}\n",
            "c: settings: Value error, offer_warning_hours (48) must come before the breach",
        ),
        (
            "organisations:\n  - {id: c, kind: local_authority, name: C, authority_code: W06000015}\n",
            "someone must hear of a breach",
        ),
    ],
)
def test_start_up_refuses_a_warning_after_the_breach_and_an_authority_nobody_hears_for(
    tmp_path: Path, yaml_text: str, expected: str
) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text(yaml_text)
    with pytest.raises(DirectoryError) as caught:
        load_directory(path)
    assert expected in str(caught.value)


def test_keys_are_stored_as_sha256() -> None:
    assert hash_api_key("test") == "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


def test_check_directory_says_what_is_wrong_in_one_line_and_fails(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tools.cli import app

    bad = tmp_path / "directory.yaml"
    bad.write_text("organisations:\n  - {id: x, kind: police, name: X, colour: blue}\n")
    result = CliRunner().invoke(app, ["check-directory", str(bad)])
    assert result.exit_code == 1
    assert "organisations.0.colour" in result.output
    assert "Traceback" not in result.output
    good = CliRunner().invoke(app, ["check-directory", "deploy/directory.example.yaml"])
    assert (good.exit_code, good.output.splitlines()[0].endswith("valid")) == (0, True)
    assert "not for real use: cardiff: its webhook secret is a published example secret" in good.output
