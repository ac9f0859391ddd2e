"""`python -m services.intake.operations.operator_audit ACTION --by WHO`: write an operator's command to the audit
trail before it runs (`mtp report`, `mtp dlq replay` and `mtp deliveries` do, and refuse to run when
they cannot). The action is a code the command line builds (`cli:report:W06000015`), never free text."""

import asyncio
import re
from typing import Annotated

import typer

from services.intake.store.audit import UNREACHABLE, record_operator_command

ACTION = re.compile(r"^cli:[a-z0-9_-]{1,32}(:[A-Za-z0-9_-]{1,32}){0,3}$")
app = typer.Typer(add_completion=False)


@app.command()
def record(
    action: Annotated[
        str, typer.Argument(help="What the operator runs, as a code: cli:<command>[:<detail>].")
    ],
    by: Annotated[str, typer.Option(help="Who runs it (kept in the audit trail).")],
    database_url: Annotated[str, typer.Option(envvar="MTP_DATABASE_URL", help="PostgreSQL DSN.")] = "",
) -> None:
    """Write one operator action to intake's audit trail."""
    if not database_url:
        typer.echo(
            "cannot write the audit trail: set MTP_DATABASE_URL (or run beside `make run`, which is found by itself)",
            err=True,
        )
        raise typer.Exit(2)
    if not ACTION.match(action):
        raise typer.BadParameter(
            "a code: cli:<command>[:<detail>], letters, digits, _ and -", param_hint="ACTION"
        )
    try:
        asyncio.run(record_operator_command(database_url, action, by[:64]))
    except UNREACHABLE as exc:
        typer.echo(f"cannot write the audit trail (MTP_DATABASE_URL): {type(exc).__name__}", err=True)
        raise typer.Exit(2) from None


if __name__ == "__main__":
    app()
