"""Finding what a running `mtp run` uses, for commands run beside it in another terminal.

`mtp run` starts the embedded PostgreSQL on a data folder and writes the demo directory there, but the
shell the operator types in next does not have their MTP_* variables. PostgreSQL's own
`postmaster.pid` names the port and socket folder of the running server; `mtp run` writes its broker's
address beside it (`broker.json`, with its own process id: the broker lives as long as it does).
"""

import json
import os
import secrets
from pathlib import Path

from shared.child_data import PSEUDONYM_KEY_ENV

DATABASE = "mtp"  # the database `mtp run` creates
# Where `mtp run` keeps its data, and where the other commands look for it: `.mtp` in the checkout the
# command line runs from, whatever folder it is started in; `.mtp` in the current folder where the
# project is installed rather than checked out; MTP_DATA_DIR names another.
_CHECKOUT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(
    os.environ.get("MTP_DATA_DIR")
    or (_CHECKOUT / ".mtp" if (_CHECKOUT / "pyproject.toml").exists() else Path.cwd() / ".mtp")
)


def record_broker(data_dir: Path, bootstrap: str) -> None:
    """Note the embedded broker's address for commands run beside `mtp run`."""
    (data_dir / "broker.json").write_text(json.dumps({"bootstrap": bootstrap, "pid": os.getpid()}))


def forget_broker(data_dir: Path) -> None:
    (data_dir / "broker.json").unlink(missing_ok=True)


def _running_broker(data_dir: Path) -> str | None:
    try:
        noted = json.loads((data_dir / "broker.json").read_text())
        os.kill(int(noted["pid"]), 0)  # still running (signal 0 only asks)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(noted["bootstrap"])


def embedded_env(data_dir: Path) -> dict[str, str]:
    """MTP_DATABASE_URL, MTP_KAFKA_BOOTSTRAP and MTP_DIRECTORY of the `mtp run` using `data_dir`, for
    those it can find."""
    found: dict[str, str] = {}
    bootstrap = _running_broker(data_dir)
    if bootstrap:
        found["MTP_KAFKA_BOOTSTRAP"] = bootstrap
    pid_file = data_dir / "postgres" / "postmaster.pid"
    if pid_file.exists():
        # Lines: pid, data folder, start time, port, socket folder, listen address, ...
        lines = pid_file.read_text().splitlines()
        if len(lines) >= 5 and lines[3].strip().isdigit():
            port, sockets = lines[3].strip(), lines[4].strip()
            # The embedded server listens on a Unix socket when it can, else on the loopback interface.
            host = f"/{DATABASE}?host={sockets}&port={port}" if sockets else f"127.0.0.1:{port}/{DATABASE}"
            found["MTP_DATABASE_URL"] = f"postgresql://postgres@{host}"
    directory = data_dir / "demo" / "directory.yaml"
    if directory.exists():
        found["MTP_DIRECTORY"] = str(directory)
    if pid_file.exists():
        found[PSEUDONYM_KEY_ENV] = _pseudonym_key(data_dir)
    return found


def _pseudonym_key(data_dir: Path) -> str:
    """The trial system's secret for erased children's pseudonyms: made once, beside its database,
    readable by its owner only (a real deployment keeps it in its secret store, away from the database)."""
    path = data_dir / "pseudonym.key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return path.read_text().strip()


def demo_keys(data_dir: Path) -> dict[str, str]:
    """The demo organisations' API keys that `mtp run` wrote, by organisation id."""
    keys: dict[str, str] = json.loads((data_dir / "demo" / "keys.json").read_text())
    return keys
