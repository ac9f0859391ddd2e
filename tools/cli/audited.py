"""Commands that read children's data in bulk, each recorded in the audit trail before it runs:
`mtp report`, `mtp deliveries`; and `mtp webhooks test`, run the same way."""

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from tools.cli.root import (
    AUTHORITY,
    DataDirOption,
    app,
    audit_command,
    option_value,
    webhooks_app,
)
from tools.local_servers import DATA_DIR, embedded_env


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def report(
    ctx: typer.Context,
    data_dir: Annotated[
        Path, typer.Option(help="The folder of a running `mtp run`, for its database and directory.")
    ] = DATA_DIR,
    by: Annotated[
        str, typer.Option(help="Who runs it, for the audit trail (default: your login name).")
    ] = "",
) -> None:
    """The figures councils return for an authority and period (`mtp report --help` for the options)."""
    # The report is the scheduler's (it reads the scheduler's tables); shared never imports a service,
    # so it runs as the scheduler's own command, with the variables of a running `mtp run` filled in.
    authority = option_value(ctx.args, "--authority")
    action = ["report", *([authority] if authority and AUTHORITY.match(authority) else [])]
    _run_audited("services.scheduler.report", ctx.args, action, by, data_dir)


@webhooks_app.command("test")
def webhooks_test(
    org: Annotated[str, typer.Argument(help="The organisation's id in the directory, e.g. nyas-cymru.")],
    wait: Annotated[float, typer.Option(help="Seconds to wait for the receiver's first answer.")] = 30.0,
    data_dir: DataDirOption = DATA_DIR,
) -> None:
    """Send ORG a signed `webhook.test` (it names no child) the way every webhook is sent: queued for the
    notifier, signed with the organisation's secret, retried if it fails. Prints the receiver's answer.
    Needs the notifier running, MTP_DATABASE_URL (the notifier's) and MTP_DIRECTORY."""
    env = {**embedded_env(data_dir), **os.environ}
    if not env.get("MTP_DATABASE_URL"):
        typer.echo(
            "not run: set MTP_DATABASE_URL (or run beside `make run`, which is found by itself)", err=True
        )
        raise typer.Exit(2)
    command = [sys.executable, "-m", "services.notifier.operations.ops", "test", org, "--wait", str(wait)]
    raise typer.Exit(subprocess.run(command, env=env, check=False).returncode)  # noqa: S603  # our module


@app.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def deliveries(
    ctx: typer.Context,
    data_dir: Annotated[
        Path, typer.Option(help="The folder of a running `mtp run`, for its database.")
    ] = DATA_DIR,
    by: Annotated[
        str, typer.Option(help="Who runs it, for the audit trail (default: your login name).")
    ] = "",
) -> None:
    """Webhook deliveries that did not get through: list, replay, enable-endpoint (`mtp deliveries --help`)."""
    # The notifier's own operations, run as its command (shared and the tools never import a service),
    # with the variables of a running `mtp run` filled in.
    operation = next((arg for arg in ctx.args if not arg.startswith("-")), "")
    action = ["deliveries", *([operation] if re.fullmatch(r"[a-z-]{1,32}", operation) else [])]
    _run_audited("services.notifier.operations.ops", ctx.args, action, by, data_dir)


def _run_audited(module: str, args: list[str], action: list[str], by: str, data_dir: Path) -> NoReturn:
    """Record the command in the audit trail, then run the service's own module with the variables of a
    running `mtp run` filled in, and end with its exit code."""
    env = {**embedded_env(data_dir), **os.environ}
    audit_command(args, action, by, env)
    command = [sys.executable, "-m", module, *args]
    raise typer.Exit(subprocess.run(command, env=env, check=False).returncode)  # noqa: S603  # our module
