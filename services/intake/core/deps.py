"""What intake's routes need, built once by the composition root."""

from dataclasses import dataclass

from fastapi import Response

from services.intake.core.settings import IntakeSettings
from services.intake.store.base import Pool
from shared.clock import Clock
from shared.directory import Directory
from shared.live_directory import LiveDirectory
from shared.outbox import OutboxRelay


@dataclass
class Deps:
    """Intake's dependencies, held on `app.state.deps`."""

    settings: IntakeSettings
    live_directory: LiveDirectory
    clock: Clock
    pool: Pool
    relay: OutboxRelay

    @property
    def directory(self) -> Directory:
        """The directory as it stands now (it is reloaded on SIGHUP): read it at each request."""
        return self.live_directory.current


def not_stored(response: Response) -> None:
    """An answer carrying a child's data is kept by no cache, the browser's or a proxy's."""
    response.headers["cache-control"] = "no-store"
