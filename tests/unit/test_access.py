"""Who sees what of a child's record: the pure rule, on a child who moved from one placement to another."""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.intake.reads.access import PoliceReport, record_for
from shared.directory import Directory
from shared.directory_file import load_directory
from tests.directory_factory import CARDIFF, NEWPORT, SWANSEA, DirectoryFactory

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass
class Rows:
    episodes: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    nrm_decisions: list[dict[str, Any]] = field(default_factory=list)


def episode(n: int, placement: str) -> dict[str, Any]:
    return {
        "episode_id": f"ep-{n}",
        "placement_authority": placement,
        "kind": "missing",
        "started_at": T0 + timedelta(days=n),
        "risk_level": "medium",
    }


def task(n: int, placement: str) -> dict[str, Any]:
    return {
        "task_id": f"task-{n}",
        "episode_id": f"ep-{n}",
        "placement_authority": placement,
        "returned_at": T0 + timedelta(days=n, hours=5),
        "offer_due_at": T0 + timedelta(days=n, hours=77),
        "risk_level": "low",
        "exploitation_indicators": [],
        "preferred_language": "en",
        "warnings": [],
        "breached_at": None,
    }


def assignment(n: int, provider: str, status: str) -> dict[str, Any]:
    return {
        "assignment_id": f"asg-{n}",
        "provider_id": provider,
        "task_id": f"task-{n}",
        "status": status,
        "accept_by": None,
        "assigned_at": T0,
        "updated_at": T0,
        "reason": None,
    }


# Cardiff's child, placed first in Newport, then in Swansea; NYAS declined the first task.
ROWS = Rows(
    episodes=[episode(1, NEWPORT), episode(2, SWANSEA)],
    tasks=[task(1, NEWPORT), task(2, SWANSEA)],
    assignments=[assignment(1, "nyas-cymru", "declined"), assignment(2, "nyas-cymru", "accepted")],
    alerts=[
        {"episode_id": "ep-1", "alert_type": "alert.high_risk", "raised_at": T0, "details": {}},
        {"episode_id": "ep-2", "alert_type": "alert.long_missing", "raised_at": T0, "details": {}},
    ],
    nrm_decisions=[{"episode_id": "ep-1", "decision": "referred", "reason": None, "decided_at": T0}],
)


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Directory:
    path: Path = DirectoryFactory(tmp_path_factory.mktemp("dir")).write()
    return load_directory(path)


def seen(
    directory: Directory,
    org_id: str,
    *,
    police_reports: tuple[datetime, ...] = (),
    sent_later: timedelta = timedelta(),
    withdrawals: tuple[datetime, ...] = (),
) -> Any:
    """The record as the organisation sees it; a police force's reports each sent `sent_later` after
    the absence they report began."""
    org = directory.get(org_id)
    assert org is not None
    return record_for(
        org,
        directory,
        authority=CARDIFF,
        child_ref="C-1",
        rows=ROWS,
        known=True,
        police_reports=[PoliceReport(moment, moment + sent_later) for moment in police_reports],
        police_withdrawals=list(withdrawals),
    )


def test_the_responsible_authority_and_operations_see_everything(directory: Directory) -> None:
    for org in ("cardiff", "ops"):
        record = seen(directory, org)
        assert (len(record.episodes), len(record.tasks), len(record.assignments), len(record.alerts)) == (
            2,
            2,
            2,
            2,
        )
        assert record.referrals == []
    # The NRM decision is the responsible council's alone (docs/domain.md rule 34).
    assert [d.decision for d in seen(directory, "cardiff").nrm_decisions] == ["referred"]
    assert seen(directory, "ops").nrm_decisions == []


def test_a_host_authority_sees_only_what_happened_in_its_area(directory: Directory) -> None:
    record = seen(directory, "newport")
    assert record.seen_as == "host_authority"
    assert [e.episode_id for e in record.episodes] == ["ep-1"]
    assert [t.task_id for t in record.tasks] == ["task-1"]
    assert [a.assignment_id for a in record.assignments] == ["asg-1"]
    assert [a.type for a in record.alerts] == ["alert.high_risk"]
    assert record.nrm_decisions == []


def test_a_police_force_sees_only_the_episodes_it_reported_and_their_alerts(directory: Directory) -> None:
    """docs/domain.md rule 20: not the child's other absences (a council's own, not reported to police)."""
    assert seen(directory, "gwent-police") is None
    second = seen(directory, "gwent-police", police_reports=(T0 + timedelta(days=2, hours=1),))
    assert [e.episode_id for e in second.episodes] == ["ep-2"]
    assert [a.type for a in second.alerts] == ["alert.long_missing"]
    assert (second.tasks, second.assignments, second.referrals) == ([], [], [])
    first = seen(directory, "gwent-police", police_reports=(T0 + timedelta(days=1),))
    assert [e.episode_id for e in first.episodes] == ["ep-1"]
    both = seen(directory, "gwent-police", police_reports=(T0 + timedelta(days=1), T0 + timedelta(days=2)))
    assert [e.episode_id for e in both.episodes] == ["ep-1", "ep-2"]
    not_yet_known = seen(directory, "gwent-police", police_reports=(T0,))
    assert (not_yet_known.seen_as, not_yet_known.episodes) == ("police", [])
    after_the_first_return = seen(
        directory, "gwent-police", police_reports=(T0 + timedelta(days=1, hours=6),)
    )
    assert (after_the_first_return.episodes, after_the_first_return.alerts) == ([], [])


def test_a_report_backdated_into_an_old_absence_opens_nothing(directory: Directory) -> None:
    """A force sees an episode its report fell in only if it sent the report while the episode was
    open, or within the interview window after the return (ep-1 came back on day 1 at 05:00)."""
    late_but_involved = seen(
        directory, "gwent-police", police_reports=(T0 + timedelta(days=1),), sent_later=timedelta(hours=30)
    )
    assert [e.episode_id for e in late_but_involved.episodes] == ["ep-1"]
    backdated = seen(
        directory, "gwent-police", police_reports=(T0 + timedelta(days=1),), sent_later=timedelta(days=60)
    )
    assert (backdated.episodes, backdated.alerts) == ([], [])


def test_a_provider_sees_only_the_referral_of_what_it_holds_now(directory: Directory) -> None:
    record = seen(directory, "nyas-cymru")
    assert (record.episodes, record.tasks, record.assignments, record.alerts) == ([], [], [], [])
    assert [r.assignment_id for r in record.referrals] == ["asg-2"]
    packet = record.referrals[0].referral
    assert (packet.placement_authority, packet.coordinator_contact) == (
        SWANSEA,
        "coordinator@cardiff.example",
    )
    assert seen(directory, "cardiff-youth-support") is None


def test_a_report_the_force_withdrew_as_sent_in_error_opens_nothing(directory: Directory) -> None:
    """Withdrawing "the reports of the open absence" (no report id) takes back the force's reports of
    the absence open then, not those of earlier absences, nor a report it sends afterwards."""
    first, second = T0 + timedelta(days=1), T0 + timedelta(days=2)
    withdrawn = seen(
        directory, "gwent-police", police_reports=(first, second), withdrawals=(second + timedelta(hours=1),)
    )
    assert [e.episode_id for e in withdrawn.episodes] == ["ep-1"]
    assert withdrawn.alerts == [a for a in withdrawn.alerts if a.episode_id == "ep-1"]
    reported_again = seen(
        directory,
        "gwent-police",
        police_reports=(second, second + timedelta(hours=2)),
        withdrawals=(second + timedelta(hours=1),),
    )
    assert [e.episode_id for e in reported_again.episodes] == ["ep-2"]
