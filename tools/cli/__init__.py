"""`mtp`: run the system, make API keys, and other operator commands; a module per group of commands.

Each module registers its commands on the one `app` (`root`); they are imported in the order
`mtp --help` lists them: running the system first, then setting it up, then operating it."""

# isort: off
from tools.cli import running  # noqa: F401  # each module registers its commands
from tools.cli import directory  # noqa: F401
from tools.cli import database  # noqa: F401
from tools.cli import broker  # noqa: F401
from tools.cli import audited  # noqa: F401
from tools.cli import child  # noqa: F401

# isort: on
from tools.cli.child import SERVICES
from tools.cli.root import app

__all__ = ["SERVICES", "app"]
