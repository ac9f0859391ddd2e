"""`mtp report` (`python -m services.scheduler.report`): the figures councils return (docs/domain.md rule 21).

Reads the scheduler's stored state (MTP_DATABASE_URL) or, with `--source topics`, replays the four
topics from the beginning (MTP_KAFKA_BOOTSTRAP, MTP_TOPIC_NAMESPACE); the window length comes from the
directory (MTP_DIRECTORY). Prints aggregates only: never a child's reference.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from aiokafka.errors import KafkaError

from services.scheduler.core.settings import SchedulerSettings
from services.scheduler.report import replay
from services.scheduler.report import store as report_store
from services.scheduler.report.figures import Period, Records, Report, by_month, by_quarter, compute
from services.scheduler.report.output import render
from services.scheduler.report.topic_log import read_all
from services.scheduler.report.voice import VoiceRules
from shared import topics
from shared.directory_file import DirectoryError, open_directory
from shared.kafka import client_options
from shared.logging import configure_logging
from shared.operator_guard import require_audited


class Source(StrEnum):
    database = "database"
    topics = "topics"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


app = typer.Typer(add_completion=False)


@app.command(
    help=(
        "The figures councils return (docs/domain.md rule 21) for one responsible authority and period: episodes,"
        " children, % offered within the window, % accepted, % completed within the window, breaches,"
        " in-area and out-of-area episodes, repeat-missing and exploitation alerts, and apart from the offers:"
        " windows the child declined, attempts that could not reach the child, and windows recorded as not"
        " offered, by reason. Then the child's voice (docs/domain.md rule 35), opening with one sentence a"
        " campaigner can quote: interviews in which a child said what happened, why they went (in area and"
        " out of area), the council's answers in time, late or missing, children told what happens next,"
        " reasons said again, placement views and reviews, exploitation episodes, arrests and NRM decisions."
        " A period's figures, each quarter's and each month's, in UK time (Europe/London). Episodes count in"
        " the month they began, what children said in the month of the interview.\n\n"
        "Reads the scheduler's database (MTP_DATABASE_URL) or replays the topics from the start"
        " (--source topics; MTP_KAFKA_BOOTSTRAP, MTP_TOPIC_NAMESPACE); the window length comes from the"
        " directory (MTP_DIRECTORY).\n\n"
        "Example: mtp report --authority W06000015 --from 2026-09-01 --to 2026-11-30 --chart cardiff.png"
    )
)
def main(
    authority: Annotated[
        str, typer.Option(help="ONS code of the responsible authority, e.g. W06000015 (Cardiff).")
    ],
    first: Annotated[datetime, typer.Option("--from", formats=["%Y-%m-%d"], help="First day (UK time).")],
    last: Annotated[
        datetime, typer.Option("--to", formats=["%Y-%m-%d"], help="Last day, included (UK time).")
    ],
    output: Annotated[Format, typer.Option("--format", help="table, csv or json.")] = Format.table,
    chart: Annotated[
        Path | None, typer.Option(help="Also draw the figures by month into this PNG file.")
    ] = None,
    source: Annotated[
        Source, typer.Option(help="database: the stored state; topics: a replay of the published facts.")
    ] = Source.database,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"],
            help="Count windows closed by this moment (UTC), e.g. 2026-11-30T06:30:00; default now.",
            show_default=False,
        ),
    ] = None,
) -> None:
    require_audited("report")
    settings = SchedulerSettings()
    configure_logging("report", "warning")
    if last < first:
        raise typer.BadParameter("--to is before --from")
    # Typer reads naive times; the command speaks UTC throughout.
    moment = as_of.replace(tzinfo=UTC) if as_of else datetime.now(UTC)
    try:
        report = asyncio.run(
            build(settings, authority, Period(first.date(), last.date()), source=source.value, as_of=moment)
        )
    except (*report_store.UNREACHABLE, KafkaError) as exc:
        # Where the figures come from is not reachable: say which, not a traceback.
        where = settings.kafka_bootstrap if source is Source.topics else "MTP_DATABASE_URL"
        typer.echo(f"cannot read the {source.value} ({where}): {type(exc).__name__}: {exc}", err=True)
        raise typer.Exit(2) from exc
    except DirectoryError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(render(report, output.value), nl=False)
    if chart is not None:
        try:
            from services.scheduler.report.chart import draw  # matplotlib only when a chart is asked for
        except ImportError:
            typer.echo("no chart: it needs matplotlib (pip install 'missing-the-point[chart]')", err=True)
            raise typer.Exit(2) from None
        draw(report, chart)
        typer.echo(f"chart written to {chart}", err=True)


async def build(
    settings: SchedulerSettings, authority: str, period: Period, *, source: str, as_of: datetime
) -> Report:
    """Load the records from the chosen source and count them."""
    directory = open_directory(settings.directory, allow_examples=True)
    if directory.authority(authority) is None:
        known = ", ".join(sorted(org.authority_code or "" for org in directory.of_kind("local_authority")))
        raise DirectoryError(f"{authority} is not a council in the directory ({known})")
    timing = directory.timing_for(authority)  # the authority's own window and time to answer
    window = timedelta(hours=timing.interview_window_hours)
    rules = VoiceRules.of(timing)
    if source == "topics":
        found = await from_topics(settings)
    else:
        found = await from_database(settings, authority, period, rules)
    counting = {
        "authority": authority,
        "period": period,
        "window": window,
        "as_of": as_of,
        "findings": found.findings,
        "rules": rules,
    }
    return Report(
        authority=authority,
        source=source,
        as_of=as_of,
        window_hours=window.total_seconds() / 3600,
        total=compute(found.episodes, found.tasks, **counting),  # type: ignore[arg-type]
        months=by_month(found.episodes, found.tasks, **counting),  # type: ignore[arg-type]
        quarters=by_quarter(found.episodes, found.tasks, **counting),  # type: ignore[arg-type]
    )


async def from_database(
    settings: SchedulerSettings, authority: str, period: Period, rules: VoiceRules
) -> Records:
    """The records from the scheduler's read models."""
    return await report_store.records(settings.database_url, authority, period, rules)


async def from_topics(settings: SchedulerSettings) -> Records:
    """The records rebuilt from every fact published on the four topics."""
    names = [topics.named(settings.topic_namespace, topic) for topic in topics.FACTS]
    return replay.records(await read_all(client_options(settings), names))
