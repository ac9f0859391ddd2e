"""Operators' commands that read children's data in bulk are in the audit trail (who, what, when)
before they run, and do not run when it cannot be written."""

import asyncio
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
        cwd=data_dir,
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
    # `--help` as an option's value is not help: the report runs (its chart named "--help"), audited
    charted = mtp("report", *period, "--chart", "--help", "--by", "b.evans", env=env, data_dir=tmp_path)
    assert charted.returncode == 0, charted.stderr
    assert '"authority": "W06000015"' in charted.stdout  # the figures, not the usage

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
        ("operator", "cli:report:W06000015", None),
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


async def test_the_modules_behind_the_commands_refuse_to_run_unless_mtp_audited_them(
    place: Place, directory: DirectoryFactory, tmp_path: Path
) -> None:
    env = {**os.environ, "MTP_DATABASE_URL": place.database_url, "MTP_DIRECTORY": str(directory.write())}
    env.pop("MTP_OPERATOR_AUDITED", None)
    period = ["--authority", "W06000015", "--from", "2026-10-01", "--to", "2026-10-31"]
    for module, args in (
        ("services.scheduler.report", period),
        ("services.notifier.operations.ops", ["list"]),
        ("services.scheduler.operations.child_data", ["export", "W06000015/C-1", "--by", "x"]),
        ("services.notifier.operations.child_data", ["export", "W06000015/C-1", "--by", "x"]),
        ("services.intake.operations.child_data", ["export", "W06000015/C-1", "--by", "x"]),
    ):
        done = await asyncio.to_thread(  # the module, started by hand rather than by `mtp`
            subprocess.run,
            [sys.executable, "-m", module, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            cwd=tmp_path,
        )
        assert done.returncode == 2, (module, done.stdout, done.stderr)
        assert "not run: this reads children's data" in done.stderr, module
