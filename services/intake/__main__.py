"""`python -m services.intake`: serve the intake API."""

import uvicorn

from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from shared.logging import configure_logging


def main() -> None:
    """Build settings, configure logging, serve."""
    settings = IntakeSettings()
    configure_logging("intake", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.intake_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
