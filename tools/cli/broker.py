"""The broker: `mtp create-topics` and the dead-letter topics (`mtp dlq`)."""

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from shared import topics
from shared.kafka import client_options, create_topics, topic_options
from tools.cli.root import (
    DataDirOption,
    app,
    audit_command,
    broker_said,
    dlq_app,
    settings_beside,
)
from tools.local_servers import DATA_DIR


@app.command("create-topics")
def create_topics_command(
    data_dir: DataDirOption = DATA_DIR,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a broker that is still starting.")] = 15.0,
) -> None:
    """Create the mtp.*.v1 topics and their .dlq twins on MTP_KAFKA_BOOTSTRAP (idempotent), with
    MTP_TOPIC_PARTITIONS, MTP_TOPIC_REPLICATION_FACTOR, MTP_TOPIC_MIN_INSYNC_REPLICAS and
    MTP_TOPIC_RETENTION_HOURS."""
    settings = settings_beside(data_dir)
    names = topics.all_with_dlq(settings.topic_namespace)
    with broker_said(settings):
        asyncio.run(
            create_topics(
                settings.kafka_bootstrap,
                names,
                settings.topic_partitions,
                **topic_options(settings),
                client=client_options(settings),
                wait_seconds=wait,
            )
        )
    typer.echo(f"topics ready: {', '.join(names)}")


@dlq_app.command("list")
def dlq_list(data_dir: DataDirOption = DATA_DIR) -> None:
    """Count the messages in each dead-letter topic, by reason (contents are never shown)."""
    from tools.dlq import inspect

    settings = settings_beside(data_dir)
    with broker_said(settings):
        counted = asyncio.run(inspect(client_options(settings), settings.topic_namespace))
    for found in counted:
        reasons = ", ".join(f"{reason}: {count}" for reason, count in sorted(found.reasons.items())) or "-"
        typer.echo(f"{found.topic:<32} {found.total:>6}  {reasons}")


@dlq_app.command("replay")
def dlq_replay(
    topic: Annotated[str, typer.Argument(help="The original topic, e.g. mtp.episodes.v1.")],
    by: Annotated[
        str, typer.Option(help="Who runs it, for the audit trail (default: your login name).")
    ] = "",
    data_dir: Annotated[
        Path, typer.Option(help="The folder of a running `mtp run`, for its database.")
    ] = DATA_DIR,
) -> None:
    """Put a topic's dead letters back on the topic (after fixing what made them unreadable).

    Each message goes back once: a consumer group remembers how far the replay got. Consumers
    ignore events they already applied, so a message replayed twice changes nothing.
    """
    from tools.dlq import replay

    if topic not in topics.ALL:
        raise typer.BadParameter(f"one of {', '.join(topics.ALL)}")
    settings = settings_beside(data_dir)
    audit_command([], ["dlq", "replay", topic.split(".")[1]], by, dict(os.environ))
    with broker_said(settings):
        count = asyncio.run(replay(client_options(settings), topic, settings.topic_namespace))
    typer.echo(f"replayed {count} message(s) from {topics.dlq(topic)} to {topic}")
