"""The databases: `mtp migrate`."""

import os
from pathlib import Path
from typing import Annotated

import typer

from tools.cli.root import (
    app,
)
from tools.local_servers import DATA_DIR, embedded_env
from tools.migrate import MigrationFailed, migrate_all, status_all


@app.command("migrate")
def migrate_command(
    intake_role: Annotated[
        str | None, typer.Option(help="Intake's database role: its rows; the audit trail append-only.")
    ] = None,
    scheduler_role: Annotated[
        str | None, typer.Option(help="The scheduler's database role: its rows.")
    ] = None,
    notifier_role: Annotated[str | None, typer.Option(help="The notifier's database role: its rows.")] = None,
    show_status: Annotated[
        bool,
        typer.Option(
            "--status",
            help="Change nothing: show each migration of each service, applied, pending or different.",
        ),
    ] = False,
    data_dir: Annotated[
        Path, typer.Option(help="The folder of a running `mtp run`, for its database.")
    ] = DATA_DIR,
) -> None:
    """Apply every service's database migrations, signed in as the schemas' owner (MTP_DATABASE_URL),
    and give each service's own role (the user of its MTP_DATABASE_URL) its schema's rows. Run it
    before starting a new release; a service whose role may not apply a pending migration refuses to
    start until this has run."""
    env = {**embedded_env(data_dir), **os.environ}
    if not env.get("MTP_DATABASE_URL"):
        typer.echo("mtp migrate: set MTP_DATABASE_URL to the schemas' owner's DSN", err=True)
        raise typer.Exit(2)
    roles = {"intake": intake_role, "scheduler": scheduler_role, "notifier": notifier_role}
    try:
        for line in status_all(env) if show_status else migrate_all(env, roles):
            typer.echo(line)
    except MigrationFailed as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
