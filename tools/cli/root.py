"""The `mtp` command itself, its groups, and what several commands share: the settings of a running
`mtp run`, one line rather than a traceback for an unreachable broker, and the audit of a command
that reads children's data before it runs."""

import getpass
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Annotated

import typer
from aiokafka.errors import KafkaError

from shared.operator_guard import AUDITED_ENV
from shared.settings import CommonSettings
from tools.local_servers import embedded_env

app = typer.Typer(
    help="Missing the Point: return interviews for children missing from care, on time and independent.",
    no_args_is_help=True,
    add_completion=False,
)


def _version(asked: bool) -> None:
    if asked:
        typer.echo(f"mtp {metadata.version('missing-the-point')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and stop.")
    ] = False,
) -> None:
    """Missing the Point: return interviews for children missing from care, on time and independent."""


keys_app = typer.Typer(help="API keys and webhook secrets for the directory.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
dlq_app = typer.Typer(
    help="Dead-letter topics: messages a consumer could not read, kept with the reason.", no_args_is_help=True
)
app.add_typer(dlq_app, name="dlq")
people_app = typer.Typer(
    help="People who sign in to the web pages: `add` makes a one-time password.", no_args_is_help=True
)
app.add_typer(people_app, name="people")
webhooks_app = typer.Typer(
    help="Webhooks to organisations: `test ORG` sends a signed test message and shows the answer.",
    no_args_is_help=True,
)
app.add_typer(webhooks_app, name="webhooks")
child_app = typer.Typer(
    help="Everything held about one child, for a subject-access request (export) or an erasure "
    "(erase), across the three services' tables. Each run is recorded in the audit trail.",
    no_args_is_help=True,
)
app.add_typer(child_app, name="child")


def settings_beside(data_dir: Path) -> CommonSettings:
    """The settings from MTP_* variables, filled in with what a running `mtp run` uses where unset."""
    for name, value in embedded_env(data_dir).items():
        os.environ.setdefault(name, value)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # a refused connection is said once, below
    return CommonSettings()


@contextmanager
def broker_said(settings: CommonSettings) -> Iterator[None]:
    """Say in one line that the broker cannot be reached, rather than with a traceback."""
    try:
        yield
    except (KafkaError, OSError) as exc:
        typer.echo(
            f"cannot reach the broker at {settings.kafka_bootstrap} (MTP_KAFKA_BOOTSTRAP): {type(exc).__name__}."
            " Is it running? Beside `make run` this is found by itself.",
            err=True,
        )
        raise typer.Exit(2) from None


DataDirOption = Annotated[
    Path, typer.Option("--data-dir", help="The folder of a running `mtp run`, for its broker and database.")
]


AUTHORITY = re.compile(r"^[EWSN][0-9]{8}$")


def option_value(args: list[str], name: str) -> str | None:
    """The value given to an option among arguments passed through (`--name value` or `--name=value`)."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return None


def audit_command(args: list[str], what: list[str], by: str, env: dict[str, str]) -> None:
    """Write the command about to run to intake's audit trail (who, what, when), and tell the command
    so (`env`, which it is started with: shared.operator_guard); refuse to run it when that cannot be
    done. Asking for help alone reads nothing, and is not recorded; `--help` anywhere else is (it may be
    an option's value, and the command run)."""
    action = ":".join(["cli", *what])
    if args in (["--help"], ["-h"]):
        return
    done = subprocess.run(  # noqa: S603  # our interpreter and module
        [
            sys.executable,
            "-m",
            "services.intake.operations.operator_audit",
            action,
            "--by",
            by or getpass.getuser(),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        typer.echo(f"not run: {lines[-1] if lines else 'the audit trail cannot be written'}", err=True)
        raise typer.Exit(2)
    env[AUDITED_ENV] = action
