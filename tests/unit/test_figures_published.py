"""The figures the scheduler publishes for the manager's page are the report's: for any history, the
page's CSV for a month, a quarter or a financial year is the one `mtp report --format csv` writes."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.intake.web import figures as page
from services.scheduler.report.figures import (
    EpisodeRecord,
    Period,
    Records,
    Report,
    TaskRecord,
    by_month,
    by_quarter,
    compute,
)
from services.scheduler.report.figures_loop import assemble, periods_around, published
from services.scheduler.report.output import render
from services.scheduler.report.voice import FindingsRecord
from shared.contracts.figures import FIGURES, VOICE_FIGURES, FiguresPublished, PeriodKind
from tests.unit.test_figures import CARDIFF, NEWPORT, WINDOW

AS_OF = datetime(2026, 11, 30, 6, 30, tzinfo=UTC)
SPAN_START = datetime(2025, 3, 20, tzinfo=UTC)  # a little before the earlier financial year
SPAN_DAYS = 620


@st.composite
def episodes(draw: st.DrawFn, n: int) -> EpisodeRecord:
    started = SPAN_START + timedelta(hours=draw(st.integers(0, SPAN_DAYS * 24)))
    returned = started + timedelta(hours=draw(st.integers(1, 200))) if draw(st.booleans()) else None

    def after_return(chance: bool) -> datetime | None:
        if returned is None or not chance:
            return None
        return returned + timedelta(hours=draw(st.integers(0, 120)))

    not_offered = after_return(draw(st.integers(0, 5)) == 0)
    return EpisodeRecord(
        episode_id=f"e{n}",
        child_key=f"{CARDIFF}/c{draw(st.integers(0, 12))}",
        responsible_authority=CARDIFF,
        placement_authority=draw(st.sampled_from([CARDIFF, NEWPORT])),
        started_at=started,
        cancelled=draw(st.integers(0, 9)) == 0,
        returned_at=returned,
        offered_at=after_return(draw(st.booleans())),
        interviewed_at=after_return(draw(st.booleans())),
        breach_alert=draw(st.booleans()),
        repeat_alert=draw(st.booleans()),
        exploitation_alerts=draw(st.integers(0, 2)),
        declined_at=after_return(draw(st.integers(0, 4)) == 0),
        attempted_at=after_return(draw(st.integers(0, 4)) == 0),
        not_offered_at=not_offered,
        not_offered_reason=draw(st.sampled_from(["child_in_custody", "other"])) if not_offered else None,
        arrested=draw(st.booleans()),
        nrm_decision=draw(st.sampled_from([None, "referred", "not_referred"])),
    )


@st.composite
def heard(draw: st.DrawFn, n: int) -> FindingsRecord:
    """What a child said in an interview, and the council's answers to it."""
    held = SPAN_START + timedelta(hours=draw(st.integers(0, SPAN_DAYS * 24)))
    answers = draw(st.lists(st.tuples(st.integers(0, 400), st.booleans()), max_size=2))
    return FindingsRecord(
        findings_id=f"findings-{n}",
        child_key=f"{CARDIFF}/c{draw(st.integers(0, 12))}",
        responsible_authority=CARDIFF,
        placement_authority=draw(st.sampled_from([CARDIFF, NEWPORT])),
        completed_at=held,
        reasons=tuple(draw(st.sets(st.sampled_from(["boredom", "wants_friends", "other"])))),
        placement_view=draw(st.sampled_from([None, "stay", "move", "return_home_area"])),
        answers=tuple(sorted((held + timedelta(hours=h), told) for h, told in answers)),
    )


@st.composite
def histories(draw: st.DrawFn) -> Records:
    records = [draw(episodes(n)) for n in range(draw(st.integers(0, 40)))]
    tasks = [
        TaskRecord(f"t{e.episode_id}", CARDIFF, e.started_at, draw(st.booleans()))
        for e in records
        if e.returned_at is not None
    ]
    return Records(records, tasks, [draw(heard(n)) for n in range(draw(st.integers(0, 30)))])


def report_csv(history: Records, period: Period) -> str:
    """What `mtp report --format csv --from ... --to ... --as-of ...` prints for these records."""
    records, tasks = history.episodes, history.tasks
    kwargs = {
        "authority": CARDIFF,
        "period": period,
        "window": WINDOW,
        "as_of": AS_OF,
        "findings": history.findings,
    }
    report = Report(
        authority=CARDIFF,
        source="database",
        as_of=AS_OF,
        window_hours=72,
        total=compute(records, tasks, **kwargs),  # type: ignore[arg-type]
        months=by_month(records, tasks, **kwargs),  # type: ignore[arg-type]
        quarters=by_quarter(records, tasks, **kwargs),  # type: ignore[arg-type]
    )
    return render(report, "csv")


def counted(history: Records, periods: list[tuple[Period, PeriodKind]]) -> list[FiguresPublished]:
    """What the figures loop publishes for these records: each month counted (as PostgreSQL counts
    them, `compute`'s equal), each quarter and year made from its months."""
    records, tasks = history.episodes, history.tasks
    kwargs = {"authority": CARDIFF, "window": WINDOW, "as_of": AS_OF, "findings": history.findings}
    months = {p.label: compute(records, tasks, period=p, **kwargs) for p, kind in periods if kind == "month"}  # type: ignore[arg-type]
    children = {
        p.label: compute(records, tasks, period=p, **kwargs).children  # type: ignore[arg-type]
        for p, kind in periods
        if kind != "month"
    }
    return [
        published(CARDIFF, period, kind, figures, as_of=AS_OF, window_hours=72)
        for period, kind, figures in assemble(periods, months, list(months), children)
    ]


@settings(max_examples=60, deadline=None)
@given(histories())
def test_the_pages_csv_for_any_period_is_the_reports(history: Records) -> None:
    periods = periods_around(AS_OF.date())
    # Round trip through the topic's JSON, as intake receives them.
    received = [FiguresPublished.model_validate_json(f.model_dump_json()) for f in counted(history, periods)]
    for chosen in received:
        if chosen.kind == "month" and chosen.first_day.month % 4:
            continue  # every year and quarter, and a third of the months, keep the example quick
        expected = report_csv(history, Period(chosen.first_day, chosen.last_day))
        assert page.as_csv(CARDIFF, page.parts(received, chosen)) == expected, chosen.period


def test_this_financial_year_and_the_last_are_published_each_with_its_quarters_and_months() -> None:
    periods = periods_around(date(2026, 11, 30))
    labels = [(kind, period.label) for period, kind in periods]
    assert labels[0] == ("year", "2025/26")
    assert ("year", "2026/27") in labels
    assert [label for kind, label in labels if kind == "quarter"] == [
        "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1",
    ]  # fmt: skip
    months = [label for kind, label in labels if kind == "month"]
    assert (len(months), months[0], months[-1]) == (24, "2025-04", "2027-03")
    # On the first of April the new year begins.
    assert periods_around(date(2027, 4, 1))[-17][0].label == "2027/28"
    assert periods_around(date(2027, 3, 31))[-17][0].label == "2026/27"


def test_every_figure_has_a_name_in_english_and_in_welsh_and_a_value() -> None:
    figures = counted(Records([], []), periods_around(date(2026, 11, 30)))[0]
    for lang in ("en", "cy"):
        rows = page.rows(lang, [figures])
        assert len(rows) == len(FIGURES) + 1 + len(VOICE_FIGURES)  # the voice's under a heading
        assert all(row["label"] and not row["label"].startswith("fig_") for row in rows)
    assert figures.value("pct_offered_within_window") is None  # nothing due: no percentage
    assert page.cell(figures.value("episodes")) == "0"
