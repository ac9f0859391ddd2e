"""`python -m services.scheduler.report`: the figures councils return (see command.py)."""

from services.scheduler.report.command import app

app(prog_name="mtp report")
