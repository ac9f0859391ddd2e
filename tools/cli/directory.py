"""The directory's keys, secrets and people: `mtp keys`, `mtp people add`, `mtp check-directory`."""

import json
import os
import re
from pathlib import Path
from typing import Annotated

import typer

from shared.directory_file import DirectoryError, load_directory
from tools.cli.root import (
    app,
    keys_app,
    people_app,
)
from tools.keys import new_api_key, new_one_time_password, new_webhook_secret


@keys_app.command("new")
def keys_new(
    org: Annotated[str, typer.Option(help="Organisation id, used as the key's prefix and id.")] = "org",
) -> None:
    """Print a fresh API key (give it to the organisation) and the line for the directory (keep that)."""
    key, digest = new_api_key(org.split("-")[0])
    typer.echo(f"API key (give to {org}, shown once): {key}")
    typer.echo("For the directory:")
    typer.echo(f'    api_keys: [{{id: {org}-{os.urandom(2).hex()}, sha256: "{digest}"}}]')


@people_app.command("add")
def people_add(
    org: Annotated[str, typer.Argument(help="The organisation's id in the directory, e.g. cardiff.")],
    person: Annotated[str, typer.Argument(help="Their user name: lower case, digits and -, e.g. a-jones.")],
    name: Annotated[str, typer.Option(help="Their name as the pages show it.")],
    role: Annotated[
        str, typer.Option(help="coordinator or manager (a council), worker (a provider), or ops.")
    ] = "coordinator",
) -> None:
    """Print a one-time password for a person (give it to them: they choose their own at the first
    sign-in) and the lines to add under their organisation in the directory (then reload it: SIGHUP)."""
    if role not in ("coordinator", "manager", "worker", "ops"):
        raise typer.BadParameter("coordinator, manager, worker or ops", param_hint="--role")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", person):
        raise typer.BadParameter("lower case letters, digits and -", param_hint="PERSON")
    password, argon2 = new_one_time_password()
    typer.echo(
        f"one-time password for {person} at {org} (shown once; to be changed at first sign-in): {password}"
    )
    typer.echo(f"For the directory, under {org}:")
    entry = {"id": person, "name": name, "role": role, "password_argon2": argon2}
    typer.echo(f"    people: [{json.dumps(entry)}]")  # JSON is YAML: the name is quoted whatever it holds


@keys_app.command("secret")
def keys_secret() -> None:
    """Print a fresh Standard Webhooks secret for an organisation's webhook_secret."""
    typer.echo(new_webhook_secret())


@app.command("check-directory")
def check_directory(path: Annotated[Path, typer.Argument(help="The directory YAML file.")]) -> None:
    """Validate a directory file; errors name the line."""
    try:
        directory = load_directory(path)
    except DirectoryError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{path}: {len(directory.organisations)} organisations, valid")
    for finding in directory.published_examples():
        typer.echo(f"  not for real use: {finding}", err=True)
    if directory.published_examples():
        typer.echo(
            "  the services refuse it unless MTP_ALLOW_EXAMPLE_DIRECTORY=true (a trial on one machine)",
            err=True,
        )
