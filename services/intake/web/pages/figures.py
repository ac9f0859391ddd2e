"""The council's figures page and its CSV, from the figures the scheduler published."""

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.intake.web import accounts
from services.intake.web import figures as figures_page
from services.intake.web import store as web_store
from services.intake.web.i18n import (
    LONDON,
    text,
)
from services.intake.web.pages.common import (
    SECURITY_HEADERS,
    audit,
    deps_of,
    lang_of,
    message_page,
    ready_person,
    render,
)
from shared.contracts.figures import FiguresPublished

router = APIRouter()


def _figures_reader(who: accounts.SignedIn) -> str | None:
    """The authority whose figures this person may read: a council's coordinators and managers read
    their own council's."""
    if who.org.kind == "local_authority" and who.person.role in ("coordinator", "manager"):
        return who.org.authority_code
    return None


async def _chosen_figures(
    request: Request, period: str | None
) -> tuple[accounts.SignedIn, list[FiguresPublished], FiguresPublished | None] | Response:
    """Who asks, the authority's published periods and the one asked for (the current financial year
    when none was); or where to go first, or the page that says why not."""
    who = await ready_person(request)
    if isinstance(who, RedirectResponse):
        return who
    lang, deps = lang_of(request), deps_of(request)
    authority = _figures_reader(who)
    if authority is None:
        return message_page(request, who, 403, text(lang, "figures"), text(lang, "no_page"))
    periods = await web_store.published_figures(deps.pool, authority)
    if period is None:
        return who, periods, figures_page.default_period(periods, deps.clock.now().astimezone(LONDON).date())
    chosen = next((p for p in periods if p.period == period), None)
    if chosen is None:
        return message_page(request, who, 404, text(lang, "figures"), text(lang, "no_such_period"))
    return who, periods, chosen


@router.get("/figures")
async def figures(request: Request, period: str | None = None) -> Response:
    """The senior manager's page: the council's figures for a month, quarter or financial year."""
    found = await _chosen_figures(request, period)
    if isinstance(found, Response):
        return found
    who, periods, chosen = found
    lang = lang_of(request)
    await audit(request, who, "web:view:figures")
    columns = figures_page.parts(periods, chosen) if chosen else []
    return render(
        request,
        "figures.html",
        who=who,
        title=text(lang, "figures"),
        periods=periods,
        chosen=chosen,
        columns=columns,
        rows=figures_page.rows(lang, columns),
        headline=figures_page.headline(lang, chosen) if chosen else [],
        voice=figures_page.voice_sentence(lang, chosen) if chosen else "",
        chart=figures_page.chart(lang, figures_page.months_of(columns)),
        label=lambda p: figures_page.label(lang, p),
        short=lambda p: figures_page.short_label(lang, p),
    )


@router.get("/figures.csv")
async def figures_csv(request: Request, period: str | None = None) -> Response:
    """The same figures as a CSV file, with the columns and rows of `mtp report --format csv`."""
    found = await _chosen_figures(request, period)
    if isinstance(found, Response):
        return found
    who, periods, chosen = found
    if chosen is None:
        return message_page(
            request, who, 404, text(lang_of(request), "figures"), text(lang_of(request), "no_figures")
        )
    await audit(request, who, "web:download:figures")
    name = f"figures-{chosen.authority}-{chosen.period.replace('/', '-')}.csv"
    return Response(
        figures_page.as_csv(chosen.authority, figures_page.parts(periods, chosen)),
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "content-disposition": f'attachment; filename="{name}"'},
    )
