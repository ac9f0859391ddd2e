"""`mtp`: run the system, make API keys, and other operator commands."""

import asyncio
import getpass
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from aiokafka.errors import KafkaError
from rich.console import Console

from shared import topics
from shared.directory import DirectoryError, load_directory, open_directory
from shared.kafka import client_options, create_topics, topic_options
from shared.logging import configure_logging
from shared.operator_guard import AUDITED_ENV
from shared.settings import CommonSettings
from tools.keys import new_api_key, new_one_time_password, new_webhook_secret
from tools.local_servers import DATA_DIR, demo_keys, embedded_env
from tools.migrate import MigrationFailed, migrate_all, status_all

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


@app.command()
def run(
    data_dir: Annotated[
        Path, typer.Option(help="Where the embedded database and demo directory live.")
    ] = DATA_DIR,
) -> None:
    """Start the whole system on this machine (embedded broker and database unless MTP_* name servers)."""
    from tools.devrun import run as run_stack  # pulls in development dependencies

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


def _settings_beside(data_dir: Path) -> CommonSettings:
    """The settings from MTP_* variables, filled in with what a running `mtp run` uses where unset."""
    for name, value in embedded_env(data_dir).items():
        os.environ.setdefault(name, value)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # a refused connection is said once, below
    return CommonSettings()


@contextmanager
def _broker(settings: CommonSettings) -> Iterator[None]:
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


@app.command("create-topics")
def create_topics_command(
    data_dir: DataDirOption = DATA_DIR,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a broker that is still starting.")] = 15.0,
) -> None:
    """Create the mtp.*.v1 topics and their .dlq twins on MTP_KAFKA_BOOTSTRAP (idempotent), with
    MTP_TOPIC_PARTITIONS, MTP_TOPIC_REPLICATION_FACTOR, MTP_TOPIC_MIN_INSYNC_REPLICAS and
    MTP_TOPIC_RETENTION_HOURS."""
    settings = _settings_beside(data_dir)
    names = topics.all_with_dlq(settings.topic_namespace)
    with _broker(settings):
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


@dlq_app.command("list")
def dlq_list(data_dir: DataDirOption = DATA_DIR) -> None:
    """Count the messages in each dead-letter topic, by reason (contents are never shown)."""
    from tools.dlq import inspect

    settings = _settings_beside(data_dir)
    with _broker(settings):
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
    settings = _settings_beside(data_dir)
    _audit([], ["dlq", "replay", topic.split(".")[1]], by, dict(os.environ))
    with _broker(settings):
        count = asyncio.run(replay(client_options(settings), topic, settings.topic_namespace))
    typer.echo(f"replayed {count} message(s) from {topics.dlq(topic)} to {topic}")


AUTHORITY = re.compile(r"^[EWSN][0-9]{8}$")


def _option_value(args: list[str], name: str) -> str | None:
    """The value given to an option among arguments passed through (`--name value` or `--name=value`)."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(f"{name}="):
            return arg.split("=", 1)[1]
    return None


def _audit(args: list[str], what: list[str], by: str, env: dict[str, str]) -> None:
    """Write the command about to run to intake's audit trail (who, what, when), and tell the command
    so (`env`, which it is started with: shared.operator_guard); refuse to run it when that cannot be
    done. Asking for help alone reads nothing, and is not recorded; `--help` anywhere else is (it may be
    an option's value, and the command run)."""
    action = ":".join(["cli", *what])
    if args in (["--help"], ["-h"]):
        return
    done = subprocess.run(  # noqa: S603  # our interpreter and module
        [sys.executable, "-m", "services.intake.operator_audit", action, "--by", by or getpass.getuser()],
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
    env = {**embedded_env(data_dir), **os.environ}
    authority = _option_value(ctx.args, "--authority")
    _audit(ctx.args, ["report", *([authority] if authority and AUTHORITY.match(authority) else [])], by, env)
    command = [sys.executable, "-m", "services.scheduler.report", *ctx.args]
    raise typer.Exit(subprocess.run(command, env=env, check=False).returncode)  # noqa: S603  # our module


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
    command = [sys.executable, "-m", "services.notifier.ops", "test", org, "--wait", str(wait)]
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
    env = {**embedded_env(data_dir), **os.environ}
    operation = next((arg for arg in ctx.args if not arg.startswith("-")), "")
    _audit(
        ctx.args, ["deliveries", *([operation] if re.fullmatch(r"[a-z-]{1,32}", operation) else [])], by, env
    )
    command = [sys.executable, "-m", "services.notifier.ops", *ctx.args]
    raise typer.Exit(subprocess.run(command, env=env, check=False).returncode)  # noqa: S603  # our module


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
# it would publish can bring the child back into the notifier's or intake's tables after theirs.
SERVICES = ("scheduler", "notifier", "intake")
Authority = Annotated[str, typer.Argument(help="The responsible authority's code, e.g. W06000015.")]
ChildRef = Annotated[str, typer.Argument(help="The child's reference at that authority.")]
By = Annotated[str, typer.Option(help="Who asks, for the audit trail (default: your login name).")]
DataDir = Annotated[Path, typer.Option(help="The folder of a running `mtp run`, for its database.")]


def _each_service(action: list[str], data_dir: Path) -> dict[str, Any]:
    """Run a child-data command in every service, in turn; their answers, together."""
    env = {**embedded_env(data_dir), **os.environ}
    if not env.get("MTP_DATABASE_URL"):
        typer.echo(
            "not run: set MTP_DATABASE_URL (or run beside `make run`, which is found by itself)", err=True
        )
        raise typer.Exit(2)
    # Intake's part records the export or erasure in the audit trail (with the child, pseudonymised for
    # an erasure); each service's part runs only when started from here.
    env[AUDITED_ENV] = f"cli:child:{action[0]}"
    found: dict[str, Any] = {}
    for service in SERVICES:
        done = subprocess.run(  # noqa: S603  # our modules
            [sys.executable, "-m", f"services.{service}.child_data", *action],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            typer.echo(
                done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"{service} failed", err=True
            )
            raise typer.Exit(done.returncode)
        found.update(json.loads(done.stdout))
    return found


@child_app.command("export")
def child_export(
    authority: Authority, child_ref: ChildRef, by: By = "", data_dir: DataDir = DATA_DIR
) -> None:
    """Print every row held about the child, by service and table, as JSON (the data subject's copy)."""
    who = by or getpass.getuser()
    typer.echo(
        json.dumps(_each_service(["export", f"{authority}/{child_ref}", "--by", who], data_dir), indent=2)
    )


@child_app.command("erase")
def child_erase(
    authority: Authority,
    child_ref: ChildRef,
    reason: Annotated[str, typer.Option(help="Why, as a code: e.g. erasure_request, retention_expired.")],
    by: By = "",
    data_dir: DataDir = DATA_DIR,
) -> None:
    """Delete everything held about the child (the audit trail keeps its records under a pseudonym);
    print how many rows each table lost. Running it again changes nothing. Events already on the
    topics are not reached: they expire with the topics' retention."""
    who = by or getpass.getuser()
    found = _each_service(["erase", f"{authority}/{child_ref}", "--reason", reason, "--by", who], data_dir)
    removed = {table: count for tables in found.values() for table, count in tables.items()}
    for table, count in removed.items():
        typer.echo(f"{table}: {count}")
    typer.echo(f"erased: {sum(removed.values())} rows in {len(removed)} tables")


if __name__ == "__main__":
    app()
