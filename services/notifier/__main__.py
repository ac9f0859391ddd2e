"""`python -m services.notifier`: run the notifier."""

import uvicorn

from services.notifier.app import create_app
from services.notifier.settings import NotifierSettings
from shared.logging import configure_logging


def main() -> None:
    """Build settings, configure logging, serve health and metrics while delivering."""
    settings = NotifierSettings()
    configure_logging("notifier", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.http_host,
        port=settings.notifier_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
