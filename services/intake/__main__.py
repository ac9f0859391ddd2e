"""`python -m services.intake`: serve the intake API."""

import sys

import uvicorn

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.directory import DirectoryError
from shared.logging import configure_logging


def main() -> None:
    """Build settings, configure logging, serve."""
    settings = IntakeSettings()
    configure_logging("intake", settings.log_level)
    try:
        app = create_app(settings)
    except DirectoryError as exc:  # no directory, or one anyone could use: say why in words, and stop
        sys.exit(f"intake: cannot start: {exc}")
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.intake_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
