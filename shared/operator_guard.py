"""Commands that read children's data in bulk (`mtp report`, `mtp deliveries`, `mtp child`) run only
through `mtp`, which records each in intake's audit trail before it starts them and then tells them so
in MTP_OPERATOR_AUDITED (the action it recorded). Started any other way, they refuse."""

import os

import typer

AUDITED_ENV = "MTP_OPERATOR_AUDITED"


def require_audited(command: str) -> None:
    """Stop (exit 2) unless `mtp` recorded this command (`cli:<command>...`) in the audit trail."""
    action = os.environ.get(AUDITED_ENV, "")
    if action != f"cli:{command}" and not action.startswith(f"cli:{command}:"):
        typer.echo(
            f"not run: this reads children's data; run it as `mtp {command.split(':')[0]}`, "
            "which records it in the audit trail first",
            err=True,
        )
        raise typer.Exit(2)
