"""The operator's command line fails in one line that says what to do, never with a traceback, when
what it needs is missing or unreachable; it works from any folder, knows its version, and checks an
authority against the directory before counting anything."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Place, least_privilege
from tests.directory_factory import DirectoryFactory

ROOT = Path(__file__).resolve().parents[2]
NOWHERE = "127.0.0.1:1"  # nothing listens on port 1 of this machine


def mtp(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`mtp` run from another folder, with none of the MTP_* variables of this shell."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MTP_")}
    return subprocess.run(  # our own command line
        [sys.executable, "-m", "tools.cli", *args],
        cwd=cwd,
        env={**clean, "PYTHONPATH": str(ROOT), "MTP_DATA_DIR": str(cwd / "no-run-here"), **env},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


@pytest.mark.parametrize("command", [["dlq", "list"], ["create-topics", "--wait", "1"]])
def test_a_broker_that_cannot_be_reached_is_said_in_one_line(command: list[str], tmp_path: Path) -> None:
    said = one_line(mtp(*command, cwd=tmp_path, MTP_KAFKA_BOOTSTRAP=NOWHERE))
    assert said.startswith(f"cannot reach the broker at {NOWHERE} (MTP_KAFKA_BOOTSTRAP)")


@pytest.mark.parametrize(
    "command",
    [
        ["dlq", "replay", "mtp.tasks.v1"],
        ["report", "--authority", "W06000015", "--from", "2026-10-01", "--to", "2026-10-31"],
        ["deliveries", "list"],
        ["child", "export", "W06000015", "C-1"],
    ],
)
def test_a_command_without_a_database_says_which_setting(command: list[str], tmp_path: Path) -> None:
    said = one_line(mtp(*command, cwd=tmp_path, MTP_KAFKA_BOOTSTRAP=NOWHERE))
    assert said.startswith("not run:")
    assert "set MTP_DATABASE_URL" in said


def test_the_demo_without_a_running_system_says_to_start_it(tmp_path: Path) -> None:
    said = one_line(mtp("demo", cwd=tmp_path))
    assert said.startswith("no `make run` found at")


def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    said = one_line(mtp("receiver", cwd=tmp_path))
    assert said.startswith("MTP_DIRECTORY is not set")
    said = one_line(mtp("receiver", cwd=tmp_path, MTP_DIRECTORY=str(tmp_path / "nope.yaml")))
    assert "cannot read the directory file" in said


def test_the_version_and_the_help_work_from_any_folder(tmp_path: Path) -> None:
    version = mtp("--version", cwd=tmp_path)
    assert version.returncode == 0
    assert version.stdout.startswith("mtp 0.")
    helped = mtp("report", "--help", cwd=tmp_path)
    assert helped.returncode == 0
    assert "mtp report" in helped.stdout
    assert "python -m" not in helped.stdout


async def test_a_report_for_an_authority_the_directory_does_not_have_says_so(
    place: Place, directory: DirectoryFactory, tmp_path: Path
) -> None:
    await least_privilege(place)  # intake's audit trail, as the owner made it
    done = mtp(
        "report", "--authority", "W06999999", "--from", "2026-10-01", "--to", "2026-10-31",
        cwd=tmp_path, MTP_DATABASE_URL=place.database_url, MTP_DIRECTORY=str(directory.write()),
    )  # fmt: skip
    said = one_line(done)
    assert said.startswith("W06999999 is not a council in the directory (")
    assert "W06000015" in said
