"""The senior manager's figures page: an authority's figures (docs/domain.md rule 21) for a month, quarter or
financial year, as the scheduler last published them, drawn as a table, an SVG chart and a CSV file.

The CSV has the columns and rows of `mtp report --format csv` for the same period (the period, then
its quarters, then its months), so a figure read here and one read from the command are the same.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.intake.web.i18n import STRINGS, Lang, text
from shared.contracts.figures import BREAKDOWNS, FIGURES, VOICE_FIGURES, FiguresPublished, breakdown_cell

# Each breakdown's codes as the page names them (the words of the findings form, and of the records).
CODE_LABELS = {
    "not_offered_by_reason": "no_offer_",
    "reasons_in_area": "why_",
    "reasons_out_of_area": "why_",
    "placement_views": "view_",
    "nrm_decisions": "nrm_",
}
UNDER = {figure: breakdown for breakdown, figure in BREAKDOWNS}

KIND_ORDER = {"year": 0, "quarter": 1, "month": 2}
MONTHS: dict[Lang, tuple[str, ...]] = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "cy": (
        "Ionawr", "Chwefror", "Mawrth", "Ebrill", "Mai", "Mehefin",
        "Gorffennaf", "Awst", "Medi", "Hydref", "Tachwedd", "Rhagfyr",
    ),
}  # fmt: skip
# The chart's drawing area, in the SVG's own units (it scales with the page).
WIDTH, HEIGHT, LEFT, TOP, BOTTOM = 960, 320, 48, 24, 40


def default_period(periods: list[FiguresPublished], today: date) -> FiguresPublished | None:
    """The financial year holding today, else the latest period there is."""
    years = [p for p in periods if p.kind == "year"]
    current = [p for p in years if p.first_day <= today <= p.last_day]
    choices = current or years or periods
    return choices[0] if choices else None


def parts(periods: list[FiguresPublished], whole: FiguresPublished) -> list[FiguresPublished]:
    """The period, then its quarters, then its months (as `mtp report` lists them; a part the same as
    the whole is not listed again)."""
    inside = [
        p
        for p in periods
        if whole.first_day <= p.first_day
        and p.last_day <= whole.last_day
        and KIND_ORDER[p.kind] > KIND_ORDER[whole.kind]
    ]
    inside.sort(key=lambda p: (KIND_ORDER[p.kind], p.first_day))
    return [whole, *inside]


def months_of(columns: list[FiguresPublished]) -> list[FiguresPublished]:
    """The months among the columns, or the period itself when it is a month."""
    return [p for p in columns if p.kind == "month"]


def label(lang: Lang, figures: FiguresPublished) -> str:
    """How a period is named on the page: 'September 2026', 'Q3 2026 (July–September)', '2026/27'."""
    first, last = figures.first_day, figures.last_day
    if figures.kind == "month":
        return f"{MONTHS[lang][first.month - 1]} {first.year}"
    if figures.kind == "quarter":
        quarter = (first.month + 2) // 3
        return text(
            lang,
            "quarter_label",
            n=str(quarter),
            year=str(first.year),
            first=MONTHS[lang][first.month - 1],
            last=MONTHS[lang][last.month - 1],
        )
    return text(lang, "year_label", period=figures.period)


def short_label(lang: Lang, figures: FiguresPublished) -> str:
    """A column's or a bar's name: the month's first three letters and year, or the period's code."""
    if figures.kind == "month":
        return f"{MONTHS[lang][figures.first_day.month - 1][:3]} {figures.first_day.year}"
    return figures.period


def cell(value: int | float | None) -> str:
    """A figure as the table shows it: a count, a percentage, or a dash where nothing was due."""
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.1f}%"
    return str(value)


def rows(lang: Lang, columns: list[FiguresPublished]) -> list[dict[str, Any]]:
    """The table: rule 21's figures, then the child's voice's (a heading row before them), one row per
    figure (a sub-figure indented under its own), a cell per period; the counts by code under the
    figure they break down."""
    found: list[dict[str, Any]] = []
    for field, english in (*FIGURES, *VOICE_FIGURES):
        if field == VOICE_FIGURES[0][0]:
            found.append({"label": text(lang, "voice_figures"), "heading": True, "cells": []})
        found.append(
            {
                "label": text(lang, f"fig_{field}"),
                "sub": english.startswith(" "),
                "cells": [cell(f.value(field)) for f in columns],
            }
        )
        if field in UNDER:
            found.extend(_breakdown(lang, UNDER[field], columns))
    return found


def _breakdown(lang: Lang, breakdown: str, columns: list[FiguresPublished]) -> list[dict[str, Any]]:
    counts: list[dict[str, int]] = [getattr(f, breakdown) for f in columns]
    return [
        {
            "label": code_label(lang, breakdown, code),
            "sub": True,
            "code": True,  # a count by code, under the figure it breaks down
            "cells": [str(c.get(code, 0)) for c in counts],
        }
        for code in sorted({code for found in counts for code in found})
    ]


def code_label(lang: Lang, breakdown: str, code: str) -> str:
    """A code in a breakdown as people read it; a code the page has no words for, as it is."""
    key = CODE_LABELS[breakdown] + code
    return text(lang, key) if key in STRINGS else code


def voice_sentence(lang: Lang, figures: FiguresPublished) -> str:
    """The child's voice's figures as a campaigner would cite them (docs/domain.md rule 35)."""
    if not figures.heard:
        return text(lang, "voice_none")
    return text(
        lang,
        "voice_said",
        heard=str(figures.heard),
        interviews=text(lang, "voice_interview" if figures.heard == 1 else "voice_interviews"),
        in_time=str(figures.answered_in_time),
        due=str(figures.answers_decided),
        told=str(figures.child_told),
    )


def headline(lang: Lang, figures: FiguresPublished) -> list[tuple[str, str]]:
    """The four figures a manager looks at first."""
    return [
        (text(lang, f"fig_{field}"), cell(figures.value(field)))
        for field in ("pct_offered_within_window", "pct_completed_within_window", "breaches", "episodes")
    ]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    height: float
    value: str  # what is written above it
    series: str  # "offered" or "interviewed"


@dataclass(frozen=True)
class Group:
    label: str
    x: float  # the centre of the month's pair of bars
    bars: list[Bar]


def chart(lang: Lang, months: list[FiguresPublished]) -> dict[str, Any]:
    """Bars for % offered and % interviewed within the window, a pair per month, with a text summary
    (the SVG's description) that says the same as the bars."""
    plot_width, plot_height = WIDTH - LEFT - 8, HEIGHT - TOP - BOTTOM
    step = plot_width / max(len(months), 1)
    bar = min(step * 0.4, 40.0)
    groups: list[Group] = []
    summary: list[str] = []
    for index, month in enumerate(months):
        centre = LEFT + step * (index + 0.5)
        bars = []
        values = []
        for offset, series, field in (
            (-1, "offered", "pct_offered_within_window"),
            (0, "interviewed", "pct_completed_within_window"),
        ):
            value = month.value(field)
            height = plot_height * (value or 0) / 100
            bars.append(
                Bar(
                    x=round(centre + offset * bar + (2 if offset == 0 else -2), 1),
                    y=round(TOP + plot_height - height, 1),
                    height=round(height, 1),
                    value="–" if value is None else f"{value:.0f}%",
                    series=series,
                )
            )
            values.append(cell(value))
        groups.append(Group(label=short_label(lang, month), x=round(centre, 1), bars=bars))
        summary.append(
            text(lang, "chart_month", month=label(lang, month), offered=values[0], interviewed=values[1])
        )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "top": TOP,
        "bottom": TOP + plot_height,
        "right": WIDTH - 8,
        "bar": round(bar, 1),
        "ticks": [(pct, round(TOP + plot_height * (1 - pct / 100), 1)) for pct in (0, 25, 50, 75, 100)],
        "groups": groups,
        "description": " ".join(summary),
    }


def as_csv(authority: str, columns: list[FiguresPublished]) -> str:
    """The CSV `mtp report --format csv` writes for the same period."""
    out = io.StringIO()
    figures_fields = [field for field, _ in (*FIGURES, *VOICE_FIGURES)]
    breakdowns = [breakdown for breakdown, _ in BREAKDOWNS]
    writer = csv.DictWriter(
        out, fieldnames=["authority", "period", *figures_fields, *breakdowns], lineterminator="\n"
    )
    writer.writeheader()
    for figures in columns:
        row: dict[str, object] = {"authority": authority, "period": figures.period}
        row.update({field: figures.value(field) for field in figures_fields})
        row.update({breakdown: breakdown_cell(getattr(figures, breakdown)) for breakdown in breakdowns})
        writer.writerow(row)
    return out.getvalue()
