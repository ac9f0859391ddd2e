"""The report as a table for people, CSV for spreadsheets, or JSON for other programs."""

import csv
import io
import json

from rich.console import Console
from rich.table import Table

from services.scheduler.report.figures import Figures, Report
from shared.contracts.figures import BREAKDOWNS, FIGURES, VOICE_FIGURES, breakdown_cell

# (field, label) in the order a council's return lists them, then the child's voice's.
ROWS = (*FIGURES, *VOICE_FIGURES)
UNDER = {figure: breakdown for breakdown, figure in BREAKDOWNS}


def sentence(figures: Figures) -> str:
    """The voice's figures as a campaigner would cite them (docs/domain.md rule 35)."""
    if not figures.heard:
        return f"{figures.period}: no return interview recorded what the child said."
    interviews = "return interview" if figures.heard == 1 else "return interviews"
    return (
        f"{figures.period}: of {figures.heard} {interviews} in which a child said what happened, the council"
        f" answered {figures.answered_in_time} in time of the {figures.answers_decided} due so far, and told"
        f" the child what happens next after {figures.child_told}."
    )


def render(report: Report, output: str) -> str:
    """The report in the chosen format."""
    if output == "json":
        return json.dumps(_document(report), indent=2) + "\n"
    if output == "csv":
        return _csv(report)
    return _table(report)


def _document(report: Report) -> dict[str, object]:
    return {
        "authority": report.authority,
        "source": report.source,
        "as_of": report.as_of.isoformat(),
        "window_hours": report.window_hours,
        "said": sentence(report.total),
        "total": report.total.as_dict(),
        "quarters": [quarter.as_dict() for quarter in report.quarters],
        "months": [month.as_dict() for month in report.months],
    }


def _csv(report: Report) -> str:
    out = io.StringIO()
    breakdowns = [breakdown for breakdown, _ in BREAKDOWNS]
    fields = ["authority", "period", *(field for field, _ in ROWS), *breakdowns]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for figures in _periods(report):
        values = figures.as_dict()
        for breakdown in breakdowns:
            values[breakdown] = breakdown_cell(getattr(figures, breakdown))
        writer.writerow({"authority": report.authority, **{f: values[f] for f in fields[1:]}})
    return out.getvalue()


def _periods(report: Report) -> list[Figures]:
    """The whole period, then each quarter and each month of it (a part equal to the whole is left out)."""
    found = {report.total.period: report.total}
    for part in [*report.quarters, *report.months]:
        found.setdefault(part.period, part)
    return list(found.values())


def _table(report: Report) -> str:
    table = Table(
        title=f"{report.authority}: figures for {report.total.period}",
        caption=(
            f"source: {report.source}; window {report.window_hours:g} h; windows closed by"
            f" {report.as_of:%Y-%m-%d %H:%M} UTC; episodes count in the month they began, findings in the month"
            " the interview was held (UK time)"
        ),
    )
    columns = _periods(report)
    table.add_column("figure")
    for figures in columns:
        table.add_column(figures.period, justify="right")
    values = [figures.as_dict() for figures in columns]
    for field, label in ROWS:
        if field == VOICE_FIGURES[0][0]:
            table.add_section()
            table.add_row("[bold]the child's voice[/bold]", *("" for _ in columns))
        table.add_row(label, *(_cell(v[field]) for v in values))
        if field in UNDER:
            counts: list[dict[str, int]] = [getattr(f, UNDER[field]) for f in columns]
            for code in sorted({code for found in counts for code in found}):
                table.add_row(f"    {code}", *(_cell(found.get(code, 0)) for found in counts))
    console = Console(file=io.StringIO(), width=200, force_terminal=False)
    console.print(sentence(report.total))
    console.print(table)
    return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]  # the StringIO above


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}%"
    return str(value)
