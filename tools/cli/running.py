"""Running the system and what shows it working: `mtp run`, `mtp demo`, the demo receiver, the AsyncAPI document."""

import asyncio
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from shared.directory_file import DirectoryError, open_directory
from shared.logging import configure_logging
from shared.settings import CommonSettings
from tools.cli.root import (
    app,
)
from tools.local_servers import DATA_DIR, demo_keys


@app.command()
def run(
    data_dir: Annotated[
        Path, typer.Option(help="Where the embedded database and demo directory live.")
    ] = DATA_DIR,
) -> None:
    """Start the whole system on this machine (embedded broker and database unless MTP_* name servers)."""
    from tools.devrun import run as run_stack  # pulls in development dependencies

    raise typer.Exit(run_stack(data_dir))


@app.command()
def asyncapi(
    output: Annotated[Path, typer.Option(help="Where to write the document.")] = Path("docs/asyncapi.yaml"),
) -> None:
    """Write the AsyncAPI document of the topics, generated from the event contracts."""
    from shared.asyncapi import render

    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(render())
    typer.echo(f"wrote {output}")


@app.command()
def receiver(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8099,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
) -> None:
    """Run the demo webhook receiver: verifies signatures against MTP_DIRECTORY and logs each webhook."""
    from tools.receiver import create_receiver

    configure_logging("receiver")
    try:  # the demo receiver verifies with whatever the services sign with, example keys included
        directory = open_directory(CommonSettings().directory, allow_examples=True)
    except DirectoryError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    uvicorn.run(create_receiver(directory), host=host, port=port, log_config=None, access_log=False)


@app.command()
def demo(
    intake: Annotated[str, typer.Option(help="Intake's base URL.")] = "http://127.0.0.1:8000",
    receiver: Annotated[
        str, typer.Option(help="The demo webhook receiver, where providers learn their assignments.")
    ] = "http://127.0.0.1:8099",
    children: Annotated[int, typer.Option(min=1, max=2000, help="How many children to invent.")] = 200,
    days: Annotated[int, typer.Option(min=1, max=365, help="How far back the episodes go.")] = 75,
    rate: Annotated[float, typer.Option(min=1, max=500, help="Events sent per second.")] = 40.0,
    wait: Annotated[
        float, typer.Option(help="Longest time to answer as the providers once the reports are sent (s).")
    ] = 120.0,
    seed: Annotated[
        int | None, typer.Option(help="Repeat an earlier demo exactly (same events, same ids).")
    ] = None,
    data_dir: Annotated[Path, typer.Option(help="The folder of a running `mtp run` (demo keys).")] = DATA_DIR,
) -> None:
    """Send a realistic spread of missing episodes to a running `mtp run`, at an accelerated pace.

    Police and council reports, risk changes, returns (weeks ago, so some windows are breached, and today, so some are still open), Cardiff children placed in Newport, repeat and exploitation cases; then, as the providers, accepts, offers and interviews for the assignments they were offered.

    Then: mtp report --authority W06000015 --from <first day> --to <today> --chart cardiff.png
    """
    from tools.demo_load import run_demo

    if not (data_dir / "demo" / "keys.json").exists():
        typer.echo(f"no `make run` found at {data_dir}: start it first (the demo uses its keys)", err=True)
        raise typer.Exit(2)
    console = Console(stderr=True)
    chosen = seed if seed is not None else int.from_bytes(os.urandom(3), "big")
    tally = asyncio.run(
        run_demo(
            intake=intake.rstrip("/"),
            receiver=receiver.rstrip("/"),
            keys=demo_keys(data_dir),
            children=children,
            days=days,
            rate=rate,
            wait=wait,
            seed=chosen,
            console=console,
        )
    )
    for outcome, count in sorted(tally.answers.items()):
        console.print(f"  {outcome}: {count}")
    console.print(f"assignments offered to providers: {len(tally.assignments)}; seed {chosen}")
    if tally.providers_refused:
        console.print("[yellow]intake refused provider reports (403): it did not know their assignments[/]")
    today = datetime.now(UTC).date()
    first = today - timedelta(days=days)
    console.print(
        f"next: mtp report --authority W06000015 --from {first.replace(day=1)} --to {today} --chart cardiff.png"
    )


# The scheduler first: once its part of a child is gone, no timer of that child fires again, so nothing
