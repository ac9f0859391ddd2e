"""Finding what a running `mtp run` uses, for commands run beside it in another terminal.

`mtp run` starts the embedded PostgreSQL on a data folder and writes the demo directory there, but the
shell the operator types in next does not have their MTP_* variables. PostgreSQL's own
`postmaster.pid` names the port and socket folder of the running server.
"""

import json
from pathlib import Path

DATABASE = "mtp"  # the database `mtp run` creates


def embedded_env(data_dir: Path) -> dict[str, str]:
    """MTP_DATABASE_URL and MTP_DIRECTORY of the `mtp run` using `data_dir`, for those it can find."""
    found: dict[str, str] = {}
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
    return found


def demo_keys(data_dir: Path) -> dict[str, str]:
    """The demo organisations' API keys that `mtp run` wrote, by organisation id."""
    keys: dict[str, str] = json.loads((data_dir / "demo" / "keys.json").read_text())
    return keys
