"""Every service's migrations, applied by the schemas' owner, each service's role given its rows.

The tools never import a service, so each service's own `migrate` command runs in turn
(`python -m services.<name>.store.migrate`), with the owner's DSN in MTP_DATABASE_URL.
"""

import subprocess
import sys

SERVICES = ("intake", "scheduler", "notifier")


class MigrationFailed(RuntimeError):
    """A service's migrations could not be applied; the message is its own last line."""


def migrate_all(env: dict[str, str], roles: dict[str, str | None]) -> list[str]:
    """Apply each service's migrations with `env`'s MTP_DATABASE_URL, granting `roles[service]` (if
    any) its rows; return what each said."""
    said: list[str] = []
    for service in SERVICES:
        grant = roles.get(service)
        said.append(
            _each(service, ["--grant", grant] if grant else [], env)[-1]
        )  # its answer, after its logs
    return said


def status_all(env: dict[str, str]) -> list[str]:
    """Each service's migrations and whether each is applied, pending or different (changes nothing)."""
    return [
        line for service in SERVICES for line in _each(service, ["--status"], env) if line.startswith(service)
    ]


def _each(service: str, args: list[str], env: dict[str, str]) -> list[str]:
    done = subprocess.run(  # noqa: S603  # our interpreter and modules
        [sys.executable, "-m", f"services.{service}.store.migrate", *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        raise MigrationFailed(lines[-1] if lines else f"{service}: migrations failed")
    return done.stdout.strip().splitlines()
