"""A child's data for the data subject's rights: `mtp child export` and `mtp child erase`, across the
three services' tables."""

import getpass
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from shared.operator_guard import AUDITED_ENV
from tools.cli.root import (
    child_app,
)
from tools.local_servers import DATA_DIR, embedded_env

SERVICES = ("scheduler", "notifier", "intake")
Authority = Annotated[str, typer.Argument(help="The responsible authority's code, e.g. W06000015.")]
ChildRef = Annotated[str, typer.Argument(help="The child's reference at that authority.")]
By = Annotated[str, typer.Option(help="Who asks, for the audit trail (default: your login name).")]
DataDir = Annotated[Path, typer.Option(help="The folder of a running `mtp run`, for its database.")]


def each_service(action: list[str], data_dir: Path) -> dict[str, Any]:
    """Run a child-data command in every service, in turn; their answers, together."""
    env = {**embedded_env(data_dir), **os.environ}
    if not env.get("MTP_DATABASE_URL"):
        typer.echo(
            "not run: set MTP_DATABASE_URL (or run beside `make run`, which is found by itself)", err=True
        )
        raise typer.Exit(2)
    # Intake's part records the export or erasure in the audit trail (with the child, pseudonymised for
    # an erasure); each service's part runs only when started from here.
    env[AUDITED_ENV] = f"cli:child:{action[0]}"
    found: dict[str, Any] = {}
    for service in SERVICES:
        done = subprocess.run(  # noqa: S603  # our modules
            [sys.executable, "-m", f"services.{service}.operations.child_data", *action],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            typer.echo(
                done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"{service} failed", err=True
            )
            raise typer.Exit(done.returncode)
        found.update(json.loads(done.stdout))
    return found


@child_app.command("export")
def child_export(
    authority: Authority, child_ref: ChildRef, by: By = "", data_dir: DataDir = DATA_DIR
) -> None:
    """Print every row held about the child, by service and table, as JSON (the data subject's copy)."""
    who = by or getpass.getuser()
    typer.echo(
        json.dumps(each_service(["export", f"{authority}/{child_ref}", "--by", who], data_dir), indent=2)
    )


@child_app.command("erase")
def child_erase(
    authority: Authority,
    child_ref: ChildRef,
    reason: Annotated[str, typer.Option(help="Why, as a code: e.g. erasure_request, retention_expired.")],
    by: By = "",
    data_dir: DataDir = DATA_DIR,
) -> None:
    """Delete everything held about the child (the audit trail keeps its records under a pseudonym);
    print how many rows each table lost. Running it again changes nothing. Events already on the
    topics are not reached: they expire with the topics' retention."""
    who = by or getpass.getuser()
    found = each_service(["erase", f"{authority}/{child_ref}", "--reason", reason, "--by", who], data_dir)
    removed = {table: count for tables in found.values() for table, count in tables.items()}
    for table, count in removed.items():
        typer.echo(f"{table}: {count}")
    typer.echo(f"erased: {sum(removed.values())} rows in {len(removed)} tables")
