"""`python -m services.intake`: serve the intake API (and its metrics, on a port of their own)."""

import sys

import uvicorn

from services.intake.app import create_app
from services.intake.core.settings import IntakeSettings
from shared.directory_file import DirectoryError
from shared.http import serve_metrics
from shared.logging import configure_logging


def main() -> None:
    """Build settings, configure logging, serve."""
    settings = IntakeSettings()
    configure_logging("intake", settings.log_level)
    try:
        app = create_app(settings)
    except DirectoryError as exc:  # no directory, or one anyone could use: say why in words, and stop
        sys.exit(f"intake: cannot start: {exc}")
    try:
        serve_metrics(settings.http_host, settings.intake_metrics_port)
    except OSError as exc:  # the port taken, say: one line that names the setting, not a traceback
        sys.exit(
            f"intake: cannot serve its metrics on {settings.http_host}:{settings.intake_metrics_port} "
            f"(MTP_INTAKE_METRICS_PORT): {exc.strerror or exc}"
        )
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
