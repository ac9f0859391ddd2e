"""Every setting a service reads is in the README's settings, so an operator can find it."""

from pathlib import Path

from services.intake.settings import IntakeSettings
from services.notifier.settings import NotifierSettings
from services.scheduler.settings import SchedulerSettings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_setting_of_every_service_is_documented() -> None:
    text = README.read_text()
    missing = sorted(
        f"MTP_{name.upper()}"
        for settings in (IntakeSettings, SchedulerSettings, NotifierSettings)
        for name in settings.model_fields
        if f"MTP_{name.upper()}" not in text
    )
    assert missing == [], f"add these to the README's settings: {', '.join(missing)}"
