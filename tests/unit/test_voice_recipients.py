"""Who hears of a council's time to answer what a child said (docs/domain.md rules 30-31): the
responsible authority alone, even for a child placed in another council's area; its senior manager
too once the time has run out."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.notifier.domain.recipients import council_recipients, escalations
from shared.contracts.voice import FindingsResponseDue, FindingsResponseOverdue
from shared.directory_file import load_directory
from tests.directory_factory import DirectoryFactory
from tests.events import CARDIFF, NEWPORT

HELD = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
NOTICE = {
    "child_ref": "C-1",
    "responsible_authority": CARDIFF,
    "placement_authority": NEWPORT,  # placed out of area: the host council still hears nothing of it
    "episode_id": "ep-1",
    "findings_id": "findings-asg-1",
    "completed_at": HELD,
    "respond_by": HELD + timedelta(days=7),
}


def test_the_reminder_goes_to_the_responsible_authority_alone(tmp_path: Path) -> None:
    directory = load_directory(DirectoryFactory(tmp_path).write())
    due = FindingsResponseDue(**NOTICE)
    assert [org.id for org in council_recipients(directory, due)] == ["cardiff"]
    assert escalations(directory, due) == []


def test_the_overdue_notice_goes_to_the_responsible_authority_and_its_senior_manager(tmp_path: Path) -> None:
    directory = load_directory(DirectoryFactory(tmp_path).write())
    overdue = FindingsResponseOverdue(**NOTICE)
    assert [org.id for org in council_recipients(directory, overdue)] == ["cardiff"]
    assert [org.id for org in escalations(directory, overdue)] == ["cardiff"]
