"""What intake's routes need, built once by the composition root."""

from dataclasses import dataclass

from services.intake import store
from services.intake.settings import IntakeSettings
from shared.clock import Clock
from shared.directory import Directory
from shared.outbox import OutboxRelay


@dataclass
class Deps:
    """Intake's dependencies, held on `app.state.deps`."""

    settings: IntakeSettings
    directory: Directory
    clock: Clock
    pool: store.Pool
    relay: OutboxRelay
