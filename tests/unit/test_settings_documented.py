"""Every setting a service reads is in the operator's settings table, so an operator can find it."""

from pathlib import Path

from services.intake.core.settings import IntakeSettings
from services.notifier.core.settings import NotifierSettings
from services.scheduler.core.settings import SchedulerSettings

SETTINGS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_every_setting_of_every_service_is_documented() -> None:
    text = SETTINGS.read_text()
    missing = sorted(
        f"MTP_{name.upper()}"
        for settings in (IntakeSettings, SchedulerSettings, NotifierSettings)
        for name in settings.model_fields
        if f"MTP_{name.upper()}" not in text
    )
    assert missing == [], f"add these to docs/operations.md's settings: {', '.join(missing)}"
