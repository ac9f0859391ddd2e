"""The report as a table for people, CSV for spreadsheets, or JSON for other programs."""

import csv
import io
import json

from rich.console import Console
from rich.table import Table

from services.scheduler.report.figures import Figures, Report
from shared.contracts.figures import FIGURES

# (field, label) in the order a council's return lists them.
ROWS = FIGURES


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
        "total": report.total.as_dict(),
        "quarters": [quarter.as_dict() for quarter in report.quarters],
        "months": [month.as_dict() for month in report.months],
    }


def _csv(report: Report) -> str:
    out = io.StringIO()
    fields = ["authority", *(field for field, _ in [("period", ""), *ROWS]), "not_offered_by_reason"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for figures in _periods(report):
        values = figures.as_dict()
        values["not_offered_by_reason"] = ";".join(
            f"{k}={n}" for k, n in figures.not_offered_by_reason.items()
        )
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
            f" {report.as_of:%Y-%m-%d %H:%M} UTC; episodes count in the month they began (UK time)"
        ),
    )
    columns = _periods(report)
    table.add_column("figure")
    for figures in columns:
        table.add_column(figures.period, justify="right")
    values = [figures.as_dict() for figures in columns]
    reasons = sorted({reason for figures in columns for reason in figures.not_offered_by_reason})
    for field, label in ROWS:
        table.add_row(label, *(_cell(v[field]) for v in values))
        if field == "not_offered":
            for reason in reasons:
                table.add_row(
                    f"    {reason}", *(_cell(f.not_offered_by_reason.get(reason, 0)) for f in columns)
                )
    console = Console(file=io.StringIO(), width=200, force_terminal=False)
    console.print(table)
    return console.file.getvalue()  # type: ignore[attr-defined, no-any-return]  # the StringIO above


def _cell(value: object) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}%"
    return str(value)
