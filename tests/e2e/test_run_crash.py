"""`make run` survives its own crash: the whole of it (services, embedded broker, embedded database) is
killed with SIGKILL in the middle of a burst, as a power cut would, and started again on the same data
folder; every event intake had accepted still reaches its provider, once in effect.

The embedded broker keeps its log in memory, so what its relays had handed it but the consumers had not
yet applied died with it; the restart publishes it again from PostgreSQL (tools/recovery.py)."""

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from tests.directory_factory import DirectoryFactory
from tests.e2e.burst import (
    Burst,
    all_delivered,
    assert_nothing_lost_or_doubled,
    assert_one_task_and_one_current_assignment,
    offers_by_child,
)
from tests.kafka_reader import poll
from tests.receiver import Receiver
from tools.embedded import free_port
from tools.local_servers import embedded_env

ROOT = Path(__file__).resolve().parents[2]
CHILDREN = 100


def start(data_dir: Path, env: dict[str, str], log: Path) -> "subprocess.Popen[bytes]":
    return subprocess.Popen(  # our own command line
        [sys.executable, "-m", "tools.cli", "run", "--data-dir", str(data_dir)],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def power_cut(marker: str) -> int:
    """SIGKILL every process of this run (they all carry the marker in their environment)."""
    killed = 0
    needle = f"MTP_TEST_RUN={marker}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
        except (OSError, ProcessLookupError):
            continue
    return killed


async def ready(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=1) as client:
            return (await client.get(f"{url}/readyz")).status_code == 200
    except httpx.HTTPError:
        return False


async def test_make_run_killed_mid_burst_loses_nothing_when_started_again(
    receiver: Receiver, directory: DirectoryFactory, tmp_path: Path
) -> None:
    directory.provider_capacity = 10 * CHILDREN
    marker = uuid.uuid4().hex
    ports = {name: str(free_port()) for name in ("INTAKE", "INTAKE_METRICS", "SCHEDULER", "NOTIFIER")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("MTP_")}
    env |= {f"MTP_{name}_PORT": port for name, port in ports.items()}
    env |= {
        "MTP_DIRECTORY": str(directory.write(receiver.url)),
        "MTP_RETRY_BASE_SECONDS": "0.5",
        "MTP_TEST_RUN": marker,
        "PYTHONPATH": str(ROOT),
    }
    intake = f"http://127.0.0.1:{ports['INTAKE']}"
    data_dir, log = tmp_path / "run", tmp_path / "run.log"
    first = start(data_dir, env, log)
    try:
        await poll(lambda: ready(intake), timeout=120, interval=0.5)
        burst = Burst("P", CHILDREN)
        sending = asyncio.create_task(burst.send(intake=lambda: intake))
        # Mid-burst: some offers out, more accepted and on their way.
        await poll(lambda: len(offers_by_child(receiver)) >= CHILDREN // 5, timeout=120, interval=0.2)
        assert await asyncio.to_thread(power_cut, marker) >= 5  # services, broker, database, run itself
        first.wait(10)

        second = start(data_dir, env, log)
        try:
            await poll(lambda: ready(intake), timeout=120, interval=0.5)
            await sending
            assert burst.accepted == set(burst.names())
            await all_delivered(receiver, burst.names(), timeout=240)
            assert_nothing_lost_or_doubled(receiver, burst.names())
            database = embedded_env(data_dir)["MTP_DATABASE_URL"]
            await assert_one_task_and_one_current_assignment(database, burst.names())
            assert "publishing again what the broker lost" in log.read_text().replace("\n", " ")
        finally:
            second.send_signal(signal.SIGINT)
            await asyncio.to_thread(second.wait, 90)
        # It leaves nothing behind, after a crash as after any run: its PostgreSQL stopped too.
        assert "stopped" in log.read_text()
        assert not (data_dir / "postgres" / "postmaster.pid").exists()
    finally:
        power_cut(marker)  # whatever is left, if the test failed half-way
