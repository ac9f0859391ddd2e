"""The three services as separate processes, as `make run` starts them, for end-to-end tests."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tools.embedded import free_port

SERVICES = ("intake", "scheduler", "notifier")


@dataclass
class Stack:
    """Service processes sharing one test's database, topics and directory."""

    env: dict[str, str]
    log_dir: Path
    logins: dict[str, str] = field(default_factory=dict)  # a service's own database DSN, if it has one
    processes: dict[str, "subprocess.Popen[bytes]"] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    metrics_ports: dict[str, int] = field(default_factory=dict)  # intake's, apart from its API

    def metrics_url(self, label: str) -> str:
        """Where a service process serves /metrics."""
        return f"http://127.0.0.1:{self.metrics_ports.get(label, self.ports[label])}"

    @property
    def intake_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['intake']}"

    def start(self, name: str, instance: str = "", port: int | None = None) -> None:
        """Start a service process (a second instance with `instance` set)."""
        label = f"{name}{instance}"
        port = port or free_port()
        self.ports[label] = port
        env = {**self.env, f"MTP_{name.upper()}_PORT": str(port)}
        if name == "intake":
            self.metrics_ports[label] = self.metrics_ports.get(label) or free_port()
            env["MTP_INTAKE_METRICS_PORT"] = str(self.metrics_ports[label])
        if name in self.logins:
            env["MTP_DATABASE_URL"] = self.logins[name]
        log = open(self.log_dir / f"{label}.log", "ab")  # noqa: SIM115  # the process owns it
        self.processes[label] = subprocess.Popen(
            [sys.executable, "-m", f"services.{name}"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).resolve().parents[2],
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll every process's /readyz until all answer 200."""
        deadline = time.monotonic() + timeout
        pending = set(self.processes)
        while pending and time.monotonic() < deadline:
            for label in list(pending):
                process = self.processes[label]
                if process.poll() is not None:
                    raise RuntimeError(f"{label} exited: {self.logs(label)[-2000:]}")
                try:
                    if (
                        httpx.get(f"http://127.0.0.1:{self.ports[label]}/readyz", timeout=1).status_code
                        == 200
                    ):
                        pending.discard(label)
                except httpx.HTTPError:
                    pass
            time.sleep(0.1)  # poll /readyz again
        if pending:
            raise TimeoutError(f"not ready: {sorted(pending)}")

    def kill(self, label: str) -> None:
        """SIGKILL: no goodbye, no flush."""
        self.processes[label].kill()
        self.processes[label].wait()

    def restart(self, label: str) -> None:
        """Start a killed service again on the same port."""
        name = next(service for service in SERVICES if label.startswith(service))
        self.start(name, label.removeprefix(name), port=self.ports[label])

    def logs(self, label: str) -> str:
        return (self.log_dir / f"{label}.log").read_text(errors="replace")

    def all_logs(self) -> str:
        return "\n".join(self.logs(label) for label in self.processes)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def service_env(base: dict[str, str]) -> dict[str, str]:
    """The environment services get in these tests: quick group joins, loopback webhooks, fast retries,
    figures counted again every second."""
    return {
        **base,
        "MTP_RETRY_BASE_SECONDS": "0.5",
        "MTP_FIGURES_INTERVAL_SECONDS": "1",
        "MTP_ASYNCAPI_SERVERS": base.get("MTP_KAFKA_BOOTSTRAP", ""),  # shown on /docs/asyncapi
        "MTP_WEBHOOK_TIMEOUT_SECONDS": "3",
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(Path(__file__).resolve().parents[2]), base.get("PYTHONPATH")])
        ),
    }


@contextmanager
def running_stack(
    env: dict[str, str], log_dir: Path, logins: dict[str, str] | None = None
) -> Iterator[Stack]:
    """The three services as processes, ready, and stopped afterwards whatever happens; with `logins`,
    each signs in to the database as its own role."""
    stack = Stack(env=env, log_dir=log_dir, logins=logins or {})
    try:
        for name in SERVICES:
            stack.start(name)
        stack.wait_ready()
        yield stack
    finally:
        stack.stop()
