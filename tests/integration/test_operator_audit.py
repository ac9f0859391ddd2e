"""Operators' commands that read children's data in bulk are in the audit trail (who, what, when)
before they run, and do not run when it cannot be written."""

import os
import subprocess
import sys
from pathlib import Path

import asyncpg

from tests.conftest import Place, least_privilege
from tests.directory_factory import DirectoryFactory


def mtp(*args: str, env: dict[str, str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # our own command line
        [sys.executable, "-m", "tools.cli", *args, "--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_report_and_delivery_operations_are_audited_before_they_run(
    place: Place, directory: DirectoryFactory, tmp_path: Path
) -> None:
    await least_privilege(place)  # the three schemas, as the owner made them
    env = {**os.environ, "MTP_DATABASE_URL": place.database_url, "MTP_DIRECTORY": str(directory.write())}
    period = ["--authority", "W06000015", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "json"]
    done = mtp("report", *period, "--by", "a.jones", env=env, data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    done = mtp("deliveries", "list", env=env, data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert mtp("report", "--help", env=env, data_dir=tmp_path).returncode == 0  # help reads nothing

    conn = await asyncpg.connect(place.database_url)
    try:
        rows = await conn.fetch(
            "SELECT org_id, api_key_id, action, child_key, at FROM intake.audit ORDER BY seq"
        )
    finally:
        await conn.close()
    assert [(r["org_id"], r["action"], r["child_key"]) for r in rows] == [
        ("operator", "cli:report:W06000015", None),
        ("operator", "cli:deliveries:list", None),
    ]
    assert rows[0]["api_key_id"] == "a.jones"
    assert rows[1]["api_key_id"]  # the login name when --by is not given


async def test_a_command_whose_reading_cannot_be_audited_does_not_run(place: Place, tmp_path: Path) -> None:
    # a database without intake's audit trail: the report is refused before it reads anything
    env = {**os.environ, "MTP_DATABASE_URL": place.database_url}
    done = mtp(
        "report",
        "--authority",
        "W06000015",
        "--from",
        "2026-10-01",
        "--to",
        "2026-10-31",
        env=env,
        data_dir=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("not run: cannot write the audit trail")
    assert "Traceback" not in done.stderr
