"""The figures by month as a PNG: episodes (in and out of area) with breaches, the three rates, and
what children said and how the council answered (docs/domain.md rule 35)."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no display on servers
import matplotlib.pyplot as plt  # after the backend is chosen
from matplotlib.ticker import MaxNLocator

from services.scheduler.report.figures import Report


def draw(report: Report, path: Path) -> None:
    """Write the chart of the report's months to `path`."""
    months = report.months
    labels = [m.period for m in months]
    x = list(range(len(months)))
    figure, (counts, rates, voice) = plt.subplots(3, 1, figsize=(10, 10.5), sharex=True)
    figure.suptitle(f"{report.authority}: return interviews by month (window {report.window_hours:g} h)")

    in_area = [m.in_area for m in months]
    out_of_area = [m.out_of_area for m in months]
    counts.bar(x, in_area, color="#4c72b0", label="episodes in area")
    counts.bar(x, out_of_area, bottom=in_area, color="#dd8452", label="episodes out of area")
    counts.plot(x, [m.breaches for m in months], "o-", color="#c44e52", label="breaches (no offer in window)")
    counts.plot(
        x, [m.repeat_missing_alerts for m in months], "s--", color="#8172b3", label="repeat missing alerts"
    )
    counts.plot(
        x, [m.exploitation_alerts for m in months], "^--", color="#937860", label="exploitation alerts"
    )
    counts.set_ylabel("count")
    counts.legend(loc="upper left", fontsize="small")
    counts.grid(axis="y", alpha=0.3)

    for values, style, label in (
        ([m.pct_offered for m in months], "o-", "% offered within window"),
        ([m.pct_accepted for m in months], "s-", "% accepted by a provider"),
        ([m.pct_completed for m in months], "^-", "% interviewed within window"),
    ):
        rates.plot(x, [float("nan") if v is None else v for v in values], style, label=label)
    rates.set_ylim(0, 105)
    rates.set_ylabel("%")
    rates.legend(loc="lower left", fontsize="small")
    rates.grid(alpha=0.3)

    # What children said, by how the council answered: stacked, so the whole bar is the interviews heard.
    bottom = [0] * len(months)
    for counted, colour, label in (
        ([m.answered_in_time for m in months], "#55a868", "answered in time"),
        ([m.answered_late for m in months], "#ccb974", "answered late"),
        ([m.answer_overdue for m in months], "#c44e52", "time ran out, not answered"),
        ([m.answer_awaited for m in months], "#b0b0b0", "not answered, still in time"),
    ):
        voice.bar(x, counted, bottom=bottom, color=colour, label=label)
        bottom = [b + n for b, n in zip(bottom, counted, strict=True)]
    voice.plot(
        x, [m.child_told for m in months], "o-", color="#4c72b0", label="the child was told what happens next"
    )
    voice.set_title("What children said (findings), by the council's answer", fontsize="medium")
    voice.set_ylabel("interviews with findings")
    for axis in (counts, voice):
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    voice.legend(loc="upper left", fontsize="small")
    voice.grid(axis="y", alpha=0.3)
    voice.set_xticks(x, labels)
    figure.text(
        0.01,
        0.01,
        f"windows closed by {report.as_of:%Y-%m-%d %H:%M} UTC; source: {report.source}",
        fontsize=8,
    )
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)
