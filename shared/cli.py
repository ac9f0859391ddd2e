"""`mtp`: run the system, make API keys, and other operator commands."""

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer
import uvicorn

from shared import topics
from shared.directory import load_directory
from shared.kafka import create_topics
from shared.keys import new_api_key, new_webhook_secret
from shared.logging import configure_logging
from shared.settings import CommonSettings

app = typer.Typer(
    help="Missing the Point: return interviews for children missing from care, on time and independent.",
    no_args_is_help=True,
    add_completion=False,
)
keys_app = typer.Typer(help="API keys and webhook secrets for the directory.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
dlq_app = typer.Typer(
    help="Dead-letter topics: messages a consumer could not read, kept with the reason.", no_args_is_help=True
)
app.add_typer(dlq_app, name="dlq")


@app.command()
def run(
    data_dir: Annotated[
        Path, typer.Option(help="Where the embedded database and demo directory live.")
    ] = Path(".mtp"),
) -> None:
    """Start the whole system on this machine (embedded broker and database unless MTP_* name servers)."""
    from shared.devrun import run as run_stack  # pulls in development dependencies

    raise typer.Exit(run_stack(data_dir))


@keys_app.command("new")
def keys_new(
    org: Annotated[str, typer.Option(help="Organisation id, used as the key's prefix and id.")] = "org",
) -> None:
    """Print a fresh API key (give it to the organisation) and the line for the directory (keep that)."""
    key, digest = new_api_key(org.split("-")[0])
    typer.echo(f"API key (give to {org}, shown once): {key}")
    typer.echo("For the directory:")
    typer.echo(f'    api_keys: [{{id: {org}-{os.urandom(2).hex()}, sha256: "{digest}"}}]')


@keys_app.command("secret")
def keys_secret() -> None:
    """Print a fresh Standard Webhooks secret for an organisation's webhook_secret."""
    typer.echo(new_webhook_secret())


@app.command("check-directory")
def check_directory(path: Annotated[Path, typer.Argument(help="The directory YAML file.")]) -> None:
    """Validate a directory file; errors name the line."""
    directory = load_directory(path)
    typer.echo(f"{path}: {len(directory.organisations)} organisations, valid")


@app.command("create-topics")
def create_topics_command() -> None:
    """Create the mtp.*.v1 topics and their .dlq twins on MTP_KAFKA_BOOTSTRAP (idempotent)."""
    settings = CommonSettings()
    names = topics.all_with_dlq(settings.topic_namespace)
    asyncio.run(create_topics(settings.kafka_bootstrap, names, settings.topic_partitions))
    typer.echo(f"topics ready: {', '.join(names)}")


@dlq_app.command("list")
def dlq_list() -> None:
    """Count the messages in each dead-letter topic, by reason (contents are never shown)."""
    from shared.dlq import inspect

    settings = CommonSettings()
    for found in asyncio.run(inspect(settings.kafka_bootstrap, settings.topic_namespace)):
        reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(found.reasons.items())) or "-"
        typer.echo(f"{found.topic:<32} {found.total:>6}  {reasons}")


@dlq_app.command("replay")
def dlq_replay(
    topic: Annotated[str, typer.Argument(help="The original topic, e.g. mtp.episodes.v1.")],
) -> None:
    """Put a topic's dead letters back on the topic (after fixing what made them unreadable).

    Each message goes back once: a consumer group remembers how far the replay got. Consumers
    ignore events they already applied, so a message replayed twice changes nothing.
    """
    from shared.dlq import replay

    if topic not in topics.ALL:
        raise typer.BadParameter(f"one of {', '.join(topics.ALL)}")
    settings = CommonSettings()
    count = asyncio.run(replay(settings.kafka_bootstrap, topic, settings.topic_namespace))
    typer.echo(f"replayed {count} message(s) from {topics.dlq(topic)} to {topic}")


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
    from shared.receiver import create_receiver

    configure_logging("receiver")
    directory = load_directory(CommonSettings().directory)
    uvicorn.run(create_receiver(directory), host=host, port=port, log_config=None, access_log=False)


if __name__ == "__main__":
    app()
