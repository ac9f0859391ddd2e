"""`python -m services.notifier`: run the notifier."""

import sys

import uvicorn

from services.notifier.app import create_app
from services.notifier.core.settings import NotifierSettings
from shared.directory_file import DirectoryError
from shared.logging import configure_logging


def main() -> None:
    """Build settings, configure logging, serve health and metrics while delivering."""
    settings = NotifierSettings()
    configure_logging("notifier", settings.log_level)
    try:
        app = create_app(settings)
    except DirectoryError as exc:  # no directory, or one anyone could use: say why in words, and stop
        sys.exit(f"notifier: cannot start: {exc}")
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.notifier_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )


if __name__ == "__main__":
    main()
