"""`python -m tools.cli`: the `mtp` command."""

from tools.cli import app

app()
