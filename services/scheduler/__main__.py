"""`python -m services.scheduler`: run the scheduler."""

import sys

import uvicorn

from services.scheduler.app import create_app
from services.scheduler.core.settings import SchedulerSettings
from shared.directory_file import DirectoryError
from shared.logging import configure_logging


def main() -> None:
    """Build settings, configure logging, serve health and metrics while consuming."""
    settings = SchedulerSettings()
    configure_logging("scheduler", settings.log_level)
    try:
        app = create_app(settings)
    except DirectoryError as exc:  # no directory, or one anyone could use: say why in words, and stop
        sys.exit(f"scheduler: cannot start: {exc}")
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.scheduler_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
