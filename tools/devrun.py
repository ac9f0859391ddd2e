"""`mtp run`: the whole system on one machine.

Starts (unless MTP_KAFKA_BOOTSTRAP / MTP_DATABASE_URL name servers to use) a Tansu broker and an
embedded PostgreSQL whose data stays under `.mtp/`, creates the topics, writes the demo directory
when MTP_DIRECTORY is not set, then runs intake, scheduler and notifier as separate processes with
their JSON logs prefixed by service. Ctrl-C or SIGTERM stops it all in order: intake first, then,
once the scheduler and notifier have handled everything published, them, then broker and database.
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import asyncpg
import httpx
from aiokafka.errors import KafkaError
from rich.console import Console

from shared import topics
from shared.directory_file import DirectoryError, open_directory
from shared.kafka import create_topics
from shared.settings import CommonSettings
from tools.database_roles import service_logins
from tools.demo import demo_people, write_demo_directory
from tools.drain import nothing_left, wait_until_drained
from tools.embedded import EmbeddedPostgres, Tansu, database_dsn, start_postgres, start_tansu
from tools.local_servers import forget_broker, record_broker
from tools.migrate import migrate_all
from tools.recovery import last_run_drained, note_drained, note_running, republish

console = Console(stderr=True, highlight=False, soft_wrap=True)
COLOURS = {"intake": "cyan", "scheduler": "magenta", "notifier": "yellow", "receiver": "green"}
RECEIVER_PORT = int(os.environ.get("MTP_DEMO_RECEIVER_PORT", "8099"))


@dataclass
class Stack:
    """Everything `mtp run` started, so it can stop it in order."""

    broker: Tansu | None = None
    database: EmbeddedPostgres | None = None
    processes: dict[str, "subprocess.Popen[bytes]"] = field(default_factory=dict)
    logins: dict[str, str] = field(default_factory=dict)  # each service's own database DSN
    stopping: bool = False


def run(data_dir: Path) -> int:
    """Start everything, stream the logs, stop everything on Ctrl-C or SIGTERM; return the exit code."""
    started = time.monotonic()
    stack = Stack()
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        env = _prepare(stack, data_dir)
        for service in ("intake", "scheduler", "notifier"):
            login = {"MTP_DATABASE_URL": stack.logins[service]} if service in stack.logins else {}
            stack.processes[service] = _spawn(
                service, [sys.executable, "-m", f"services.{service}"], {**env, **login}
            )
        intake_url = f"http://127.0.0.1:{env.get('MTP_INTAKE_PORT', '8000')}"
        _wait_ready(stack, intake_url, stop)
        console.print(
            f"[bold green]ready[/] in {time.monotonic() - started:.1f} s — intake listens on [bold]{intake_url}[/]"
            f" (API docs {intake_url}/docs). Ctrl-C stops everything."
        )
        while not stop.is_set():
            for name, process in stack.processes.items():
                if process.poll() is not None:
                    console.print(f"[bold red]{name} exited with code {process.returncode}[/]; stopping.")
                    stop.set()
            stop.wait(0.5)
    except Exception as exc:
        console.print(f"[bold red]cannot start:[/] {exc}")
        _shutdown(stack, env={})
        return 1
    _shutdown(stack, env, data_dir)
    return 0


def _prepare(stack: Stack, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("MTP_WEBHOOK_ALLOW_HTTP_LOOPBACK", "true")
    data_dir.mkdir(parents=True, exist_ok=True)
    if not env.get("MTP_KAFKA_BOOTSTRAP"):
        stack.broker = start_tansu(log_path=data_dir / "tansu.log")
        env["MTP_KAFKA_BOOTSTRAP"] = stack.broker.bootstrap
        record_broker(data_dir, stack.broker.bootstrap)
        console.print(f"broker: Tansu (memory) on {stack.broker.bootstrap}")
    if not env.get("MTP_DATABASE_URL"):
        stack.database = start_postgres(data_dir.resolve() / "postgres")
        env["MTP_DATABASE_URL"] = _ensure_database(stack.database, "mtp")
        console.print(f"database: embedded PostgreSQL, data in {data_dir / 'postgres'}")
        # Each service signs in as a role of its own; the server's owner applies the migrations and
        # grants each role its own schema's rows (intake's audit trail append-only).
        stack.logins = asyncio.run(service_logins(env["MTP_DATABASE_URL"]))
        for line in migrate_all(env, {service: f"mtp_{service}" for service in stack.logins}):
            console.print(line)
    settings = CommonSettings(
        kafka_bootstrap=env["MTP_KAFKA_BOOTSTRAP"], database_url=env["MTP_DATABASE_URL"]
    )
    asyncio.run(
        create_topics(
            settings.kafka_bootstrap, topics.all_with_dlq(settings.topic_namespace), settings.topic_partitions
        )
    )
    _recover(stack, data_dir, env)
    if not env.get("MTP_DIRECTORY"):
        receiver = f"http://127.0.0.1:{RECEIVER_PORT}"
        path, keys = write_demo_directory(data_dir / "demo", receiver)
        env["MTP_DIRECTORY"] = str(path)
        stack.processes["receiver"] = _spawn(
            "receiver", [sys.executable, "-m", "tools.cli", "receiver", "--port", str(RECEIVER_PORT)], env
        )
        console.print(f"directory: demo ({path}); webhooks go to the demo receiver on {receiver}")
        console.print("demo API keys (Authorization: Bearer <key>):")
        for org_id, key in keys.items():
            console.print(f"  {org_id:<24} {key}")
        intake_url = f"http://127.0.0.1:{env.get('MTP_INTAKE_PORT', '8000')}/web/"
        console.print(
            f"web pages on {intake_url}: organisation, user name, one-time password (first sign-in only):"
        )
        for org_id, person in demo_people(data_dir / "demo").items():
            console.print(f"  {org_id:<24} {person['person']:<12} {person['one_time_password']}")
    else:
        console.print(f"directory: {env['MTP_DIRECTORY']}")
    return env


def _recover(stack: Stack, data_dir: Path, env: dict[str, str]) -> None:
    """After a run that stopped without draining, publish again what the embedded broker lost with it."""
    drained = last_run_drained(data_dir)
    note_running(data_dir)
    if drained or stack.broker is None:  # a broker of the operator's own kept its log
        return
    directory = env.get("MTP_DIRECTORY") or str(data_dir / "demo" / "directory.yaml")
    try:
        within = open_directory(Path(directory), allow_examples=True).retention.inbox_days or 30.0
    except DirectoryError:
        within = 30.0
    counts = asyncio.run(republish(env["MTP_DATABASE_URL"], within))
    console.print(
        f"[yellow]the last run stopped before everything it published had been taken in:[/] publishing again"
        f" what the broker lost with it"
        f" ({', '.join(f'{schema} {n}' for schema, n in counts.items())} events; consumers ignore repeats)"
    )


def _ensure_database(database: EmbeddedPostgres, name: str) -> str:
    import asyncpg

    async def create() -> None:
        conn = await asyncpg.connect(database.dsn)
        try:
            if not await conn.fetchval("SELECT true FROM pg_database WHERE datname = $1", name):
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return database_dsn(database.dsn, name)


def _spawn(name: str, command: list[str], env: dict[str, str]) -> "subprocess.Popen[bytes]":
    process = subprocess.Popen(  # noqa: S603  # our own interpreter and modules
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    assert process.stdout is not None
    threading.Thread(target=_prefix, args=(name, process.stdout), daemon=True).start()
    return process


def _prefix(name: str, stream: IO[bytes]) -> None:
    colour = COLOURS.get(name, "white")
    label = f"{name:<9}|"
    for raw in iter(stream.readline, b""):
        line = raw.decode(errors="replace").rstrip()
        console.print(
            f"[{colour}]{label}[/] {line}", markup=True, soft_wrap=True, highlight=False
        ) if sys.stderr.isatty() else print(f"{label} {line}", flush=True)


def _wait_ready(stack: Stack, intake_url: str, stop: threading.Event, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    urls = [f"{intake_url}/readyz"]
    while time.monotonic() < deadline and not stop.is_set():
        for name, process in stack.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with code {process.returncode} while starting")
        try:
            if all(httpx.get(url, timeout=1).status_code == 200 for url in urls):
                return
        except httpx.HTTPError:
            pass
        stop.wait(0.2)
    if not stop.is_set():
        raise RuntimeError(f"intake was not ready after {timeout:.0f} s")


def _shutdown(stack: Stack, env: dict[str, str], data_dir: Path | None = None) -> None:
    if stack.stopping:
        return
    stack.stopping = True
    console.print("stopping: intake first, then the consumers once they have caught up")
    _terminate(stack, ["intake"])
    if env and all(p.poll() is None for n, p in stack.processes.items() if n in ("scheduler", "notifier")):
        drained = asyncio.run(wait_until_drained(_settings(env), timeout=30))
        console.print(
            "consumers caught up"
            if drained
            else "[yellow]consumers still busy after 30 s; stopping anyway (the next start publishes again)[/]"
        )
    _terminate(stack, ["scheduler", "notifier", "receiver"])
    # Every service has stopped: the note of a run in progress goes only if nothing was left unapplied
    # (a service may have published after the drain; intake's read model stopped first).
    if env and data_dir is not None and stack.broker is not None:
        try:
            left_nothing = asyncio.run(nothing_left(_settings(env)))
        except (OSError, KafkaError, asyncpg.PostgresError):  # gone already: the note stays, to be safe
            left_nothing = False
        if left_nothing:
            note_drained(data_dir)
    if stack.broker is not None:
        stack.broker.stop()
        if data_dir is not None:
            forget_broker(data_dir)
    if stack.database is not None:
        stack.database.stop()
    console.print("stopped")


def _settings(env: dict[str, str]) -> CommonSettings:
    return CommonSettings(kafka_bootstrap=env["MTP_KAFKA_BOOTSTRAP"], database_url=env["MTP_DATABASE_URL"])


def _terminate(stack: Stack, names: list[str], timeout: float = 25.0) -> None:
    running = [(n, p) for n, p in stack.processes.items() if n in names and p.poll() is None]
    for _, process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for name, process in running:
        try:
            process.wait(max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            console.print(f"[yellow]{name} did not stop in {timeout:.0f} s; killing it[/]")
            process.kill()
            process.wait()
