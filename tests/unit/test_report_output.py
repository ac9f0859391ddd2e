"""The report renders as a table, CSV and JSON, and draws its chart, with aggregates only."""

import csv
import io
import json
from datetime import date, datetime, timedelta
from pathlib import Path

from services.scheduler.report.chart import draw
from services.scheduler.report.figures import Period, Report, by_month, by_quarter, compute
from services.scheduler.report.output import render
from services.scheduler.report.voice import FindingsRecord
from tests.unit.test_figures import CARDIFF, NEWPORT, T0, WINDOW, episode


def a_report() -> Report:
    period = Period(date(2026, 9, 1), date(2026, 10, 31))
    records = [
        episode(1, offered_at=T0 + timedelta(hours=6)),
        episode(2, breach_alert=True),
        episode(3, not_offered_at=T0 + timedelta(hours=6), not_offered_reason="child_in_custody"),
    ]
    as_of = T0 + timedelta(days=20)
    held = T0 + timedelta(days=1)

    def heard(n: int, placed: str, answers: tuple[tuple[datetime, bool], ...]) -> FindingsRecord:
        reasons = ("boredom", "wants_friends") if n % 2 else ("boredom",)
        return FindingsRecord(
            f"findings-{n}", f"{CARDIFF}/c{n}", CARDIFF, placed, held, reasons, "move", answers
        )

    findings = [
        heard(1, CARDIFF, ((held + timedelta(days=2), True),)),  # in time, told
        heard(2, NEWPORT, ((held + timedelta(days=9), False),)),  # late; out of area, wants to move
        heard(3, CARDIFF, ()),  # never answered
    ]
    kwargs = {
        "authority": CARDIFF,
        "period": period,
        "window": WINDOW,
        "as_of": as_of,
        "findings": findings,
    }
    return Report(
        authority=CARDIFF,
        source="database",
        as_of=as_of,
        window_hours=72,
        total=compute(records, [], **kwargs),  # type: ignore[arg-type]
        months=by_month(records, [], **kwargs),  # type: ignore[arg-type]
        quarters=by_quarter(records, [], **kwargs),  # type: ignore[arg-type]
    )


def test_the_three_formats_carry_the_same_figures_and_no_child_reference() -> None:
    report = a_report()
    document = json.loads(render(report, "json"))
    assert document["total"]["pct_offered_within_window"] == 33.3
    assert document["total"]["not_offered_by_reason"] == {"child_in_custody": 1}
    assert [m["period"] for m in document["months"]] == ["2026-09", "2026-10"]
    assert [q["period"] for q in document["quarters"]] == ["2026-09", "2026-10"]  # Q3 and Q4, clipped
    rows = list(csv.DictReader(io.StringIO(render(report, "csv"))))
    assert [r["period"] for r in rows] == ["2026-09-01..2026-10-31", "2026-09", "2026-10"]
    assert (rows[0]["breaches"], rows[0]["not_offered"], rows[0]["not_offered_by_reason"]) == (
        "1",
        "1",
        "child_in_custody=1",
    )
    said = (
        "of 3 return interviews in which a child said what happened, the council answered 1 in time of the 3"
    )
    assert said in document["said"]
    assert (document["total"]["answered_late"], document["total"]["answer_overdue"]) == (1, 1)
    assert rows[0]["reasons_in_area"] == "boredom=2;wants_friends=2"
    assert (rows[0]["placement_views"], rows[0]["placement_reviews"]) == ("move=1", "1")
    table = render(report, "table")
    assert said in " ".join(table.split())
    assert "the child's voice" in table
    assert "% offered within window" in table
    assert "33.3%" in table
    assert "child_in_custody" in table
    for text in (table, render(report, "csv"), render(report, "json")):
        assert "/c1" not in text
        assert "/c2" not in text


def test_the_chart_is_a_png(tmp_path: Path) -> None:
    path = tmp_path / "chart.png"
    draw(a_report(), path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
