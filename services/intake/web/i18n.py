"""Every word the web pages show, in English and in Welsh (Welsh public bodies offer their services in
Welsh as well as English). A page asks for a string by its key; a key missing in either language is an
error at import, not a blank on a page."""

from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from services.intake.web.voice_words import VOICE_STRINGS

Lang = Literal["en", "cy"]
LANGS: tuple[Lang, ...] = ("en", "cy")
LONDON = ZoneInfo("Europe/London")

STRINGS: dict[str, tuple[str, str]] = {
    "service": ("Missing the Point", "Missing the Point"),
    "skip": ("Skip to the main content", "Neidio i'r prif gynnwys"),
    "other_language": ("Cymraeg", "English"),
    "sign_in": ("Sign in", "Mewngofnodi"),
    "sign_out": ("Sign out", "Allgofnodi"),
    "organisation": ("Organisation", "Sefydliad"),
    "person": ("Your user name", "Eich enw defnyddiwr"),
    "password": ("Password", "Cyfrinair"),
    "new_password": ("New password (at least 12 characters)", "Cyfrinair newydd (o leiaf 12 nod)"),
    "change_password": ("Choose your password", "Dewiswch eich cyfrinair"),
    "change_password_why": (
        "This is your first sign-in: choose a password only you know.",
        "Dyma'ch mewngofnodi cyntaf: dewiswch gyfrinair mai dim ond chi sy'n ei wybod.",
    ),
    "save": ("Save", "Cadw"),
    "wrong": (
        "The organisation, user name or password is not right.",
        "Nid yw'r sefydliad, yr enw defnyddiwr na'r cyfrinair yn gywir.",
    ),
    "throttled": (
        "Too many attempts. Wait {seconds} s, then try again.",
        "Gormod o ymdrechion. Arhoswch {seconds} eiliad, yna rhowch gynnig arall arni.",
    ),
    "too_short": ("The password needs at least 12 characters.", "Mae angen o leiaf 12 nod yn y cyfrinair."),
    "expired": ("Please sign in again.", "Mewngofnodwch eto, os gwelwch yn dda."),
    "refused": (
        "That form had expired. Nothing was changed: please try again.",
        "Roedd y ffurflen honno wedi dod i ben. Ni newidiwyd dim: rhowch gynnig arall arni.",
    ),
    "signed_in_as": ("Signed in as {name}, {org}", "Wedi mewngofnodi fel {name}, {org}"),
    "board": ("Coordinator's board", "Bwrdd y cydlynydd"),
    "board_host": (
        "Children placed in your area (read only)",
        "Plant a leolwyd yn eich ardal (darllen yn unig)",
    ),
    "missing_now": ("Missing now", "Ar goll nawr"),
    "open_windows": ("Return interviews to offer", "Cyfweliadau dychwelyd i'w cynnig"),
    "alerts": ("Safeguarding alerts", "Rhybuddion diogelu"),
    "none": ("None.", "Dim."),
    "child": ("Child", "Plentyn"),
    "missing_since": ("Missing since", "Ar goll ers"),
    "risk": ("Risk", "Risg"),
    "indicators": ("Exploitation indicators", "Dangosyddion camfanteisio"),
    "placed_in": ("Placed in", "Wedi'i leoli yn"),
    "returned": ("Returned", "Dychwelodd"),
    "offer_by": ("Offer by", "Cynnig erbyn"),
    "time_left": ("Time left", "Amser ar ôl"),
    "holder": ("Who holds it", "Pwy sydd â hi"),
    "alert": ("Alert", "Rhybudd"),
    "raised": ("Raised", "Codwyd"),
    "worklist": ("Your worklist", "Eich rhestr waith"),
    "offers_waiting": ("Offers waiting for your answer", "Cynigion yn aros am eich ateb"),
    "accepted_interviews": ("Interviews you hold", "Cyfweliadau sydd gennych"),
    "accept_by": ("Answer by", "Atebwch erbyn"),
    "language": ("Language", "Iaith"),
    "accept": ("Accept", "Derbyn"),
    "decline": ("Decline", "Gwrthod"),
    "decline_reason": ("Why you decline", "Pam rydych yn gwrthod"),
    "record_offer": (
        "Record that the child was offered the interview",
        "Cofnodi bod y plentyn wedi cael cynnig",
    ),
    "offered": ("Offered to the child", "Cynigiwyd i'r plentyn"),
    "record_interview": ("Record the interview", "Cofnodi'r cyfweliad"),
    "outcome": ("Outcome", "Canlyniad"),
    "outcome_completed": ("Interview held", "Cynhaliwyd y cyfweliad"),
    "outcome_child_declined": ("The child declined", "Gwrthododd y plentyn"),
    "outcome_unable_to_contact": ("Could not reach the child", "Methu cysylltu â'r plentyn"),
    "child_decline_reason": ("If the child declined: why", "Os gwrthododd y plentyn: pam"),
    "child_reason_none": ("(not declined)", "(heb wrthod)"),
    "child_reason_did_not_want_to_talk": ("Did not want to talk", "Nid oedd eisiau siarad"),
    "child_reason_spoke_to_someone_else": ("Spoke to someone else", "Siaradodd â rhywun arall"),
    "child_reason_other": ("Another reason", "Rheswm arall"),
    "indicator_cce": ("Child criminal exploitation", "Camfanteisio troseddol ar blant"),
    "indicator_county_lines": ("County lines", "Llinellau cyffuriau"),
    "indicator_cse": ("Child sexual exploitation", "Camfanteisio rhywiol ar blant"),
    "indicator_trafficking": ("Trafficking", "Masnachu pobl"),
    "indicator_other": ("Other exploitation", "Camfanteisio arall"),
    "safeguarding_concern": ("A safeguarding concern was raised", "Codwyd pryder diogelu"),
    "status_offered": ("offered to {who}", "cynigiwyd i {who}"),
    "status_accepted": ("accepted by {who}", "derbyniwyd gan {who}"),
    "status_completed": ("interview reported by {who}", "cyfweliad wedi'i adrodd gan {who}"),
    "status_nobody": ("nobody yet", "neb eto"),
    "breached": ("window passed", "mae'r cyfnod wedi mynd heibio"),
    "closes_in": ("closes in {left}", "yn cau ymhen {left}"),
    "closing_soon": ("closing soon: {left} left", "yn cau cyn bo hir: {left} ar ôl"),
    "no_page": ("There is no page for your role yet.", "Nid oes tudalen ar gyfer eich rôl eto."),
    "not_found": ("Not found.", "Heb ei ganfod."),
    "done": (
        "Done. It shows here once the system has taken it in.",
        "Wedi'i wneud. Bydd yn ymddangos yma unwaith y bydd y system wedi'i dderbyn.",
    ),
    "reason_no_capacity": ("No capacity", "Dim capasiti"),
    "reason_conflict_of_interest": ("Conflict of interest", "Gwrthdaro buddiannau"),
    "reason_outside_area": ("Outside our area", "Y tu allan i'n hardal"),
    "reason_language_unavailable": ("Language not available", "Iaith ddim ar gael"),
    "risk_no_apparent_risk": ("no apparent risk", "dim risg amlwg"),
    "risk_low": ("low", "isel"),
    "risk_medium": ("medium", "canolig"),
    "risk_high": ("high", "uchel"),
    "alert.high_risk": ("High risk", "Risg uchel"),
    "alert.exploitation": ("Exploitation", "Camfanteisio"),
    "alert.repeat_missing": ("Repeatedly missing", "Ar goll dro ar ôl tro"),
    "alert.long_missing": ("Missing a long time", "Ar goll ers amser hir"),
    "acknowledge": ("Acknowledge", "Cydnabod"),
    "acknowledged": ("Acknowledged by {name}, {at}", "Cydnabuwyd gan {name}, {at}"),
    "child_page": ("Child {ref}", "Plentyn {ref}"),
    "episodes": ("Episodes", "Cyfnodau"),
    "tasks": ("Return interviews", "Cyfweliadau dychwelyd"),
    "assignments": ("Providers asked", "Darparwyr a holwyd"),
    "started": ("Started", "Dechreuodd"),
    "ended": ("Ended", "Daeth i ben"),
    "kind": ("Kind", "Math"),
    "kind_missing": ("missing", "ar goll"),
    "kind_away": ("away", "i ffwrdd"),
    "end_returned": ("returned", "dychwelodd"),
    "end_cancelled": ("cancelled", "canslwyd"),
    "end_left_care": ("left care", "gadawodd ofal"),
    "end_kind_changed": ("became another kind", "newidiodd ei fath"),
    "still_missing": ("still missing", "dal ar goll"),
    "provider": ("Provider", "Darparwr"),
    "status": ("Status", "Statws"),
    "updated": ("Updated", "Diweddarwyd"),
    "state": ("State", "Cyflwr"),
    "state_open": ("open", "ar agor"),
    "state_breached": ("window passed", "mae'r cyfnod wedi mynd heibio"),
    "state_closed": ("closed: {reason}", "ar gau: {reason}"),
    "not_offered": (
        "Record that no interview will be offered",
        "Cofnodi na fydd cyfweliad yn cael ei gynnig",
    ),
    "not_offered_reason": ("Why not", "Pam ddim"),
    "no_offer_child_moved_abroad": ("The child moved abroad", "Symudodd y plentyn dramor"),
    "no_offer_child_in_custody": ("The child is in custody", "Mae'r plentyn yn y ddalfa"),
    "no_offer_child_in_hospital": ("The child is in hospital", "Mae'r plentyn yn yr ysbyty"),
    "no_offer_other": ("Another reason", "Rheswm arall"),
    "assignment_offered": ("offered", "cynigiwyd"),
    "assignment_accepted": ("accepted", "derbyniwyd"),
    "assignment_declined": ("declined", "gwrthodwyd"),
    "assignment_expired": ("no answer in time", "dim ateb mewn pryd"),
    "assignment_withdrawn": ("withdrawn", "tynnwyd yn ôl"),
    "assignment_completed": ("interview reported", "cyfweliad wedi'i adrodd"),
    "exhausted": ("Nobody independent could take these", "Ni allai neb annibynnol gymryd y rhain"),
    "exhausted_why": (
        "Offered again when a place frees while the window is open; you may need to act now.",
        "Bydd yn cael ei gynnig eto pan fydd lle'n rhydd tra bo'r cyfnod ar agor; efallai y bydd angen i chi weithredu nawr.",
    ),
    "why_employed_by_responsible_authority": (
        "employed by the council itself",
        "wedi'i gyflogi gan y cyngor ei hun",
    ),
    "why_employed_by_police": ("employed by the police", "wedi'i gyflogi gan yr heddlu"),
    "why_does_not_cover_host_authority": (
        "does not cover where the child lives",
        "nid yw'n cwmpasu lle mae'r plentyn yn byw",
    ),
    "why_no_welsh_interviews": ("no interviews in Welsh", "dim cyfweliadau yn Gymraeg"),
    "why_endpoint_disabled": ("cannot be reached", "ni ellir ei gyrraedd"),
    "why_already_asked_for_this_task": (
        "already asked, and said no or did not answer",
        "wedi'i holi eisoes, a gwrthododd neu ni atebodd",
    ),
    "why_at_capacity": ("full", "llawn"),
    "reports": ("What was reported, by whom", "Beth a adroddwyd, gan bwy"),
    "report": ("Report", "Adroddiad"),
    "by": ("By", "Gan"),
    "received": ("Received", "Derbyniwyd"),
    "missing.reported": ("missing", "ar goll"),
    "missing.returned": ("returned", "wedi dychwelyd"),
    "missing.risk_changed": ("risk changed", "newidiodd y risg"),
    "missing.cancelled": ("withdrawn", "tynnwyd yn ôl"),
    "missing.left_care": ("left care", "gadawodd ofal"),
    "interview.accepted": ("interview accepted", "derbyniwyd y cyfweliad"),
    "interview.declined": ("interview declined", "gwrthodwyd y cyfweliad"),
    "interview.offered": ("interview offered to the child", "cynigiwyd cyfweliad i'r plentyn"),
    "interview.completed": ("interview reported", "adroddwyd ar y cyfweliad"),
    "interview.not_offered": ("no interview to be offered", "dim cyfweliad i'w gynnig"),
    "lang_en": ("English", "Saesneg"),
    "lang_cy": ("Welsh", "Cymraeg"),
    "lang_none": ("not stated", "heb ei nodi"),
    "figures": ("Figures", "Ffigurau"),
    "figures_title": ("Return interview figures", "Ffigurau cyfweliadau dychwelyd"),
    "period": ("Period", "Cyfnod"),
    "show": ("Show", "Dangos"),
    "years": ("Financial years (April to March)", "Blynyddoedd ariannol (Ebrill i Fawrth)"),
    "quarters": ("Quarters", "Chwarteri"),
    "months": ("Months", "Misoedd"),
    "quarter_label": ("Q{n} {year} ({first} to {last})", "Ch{n} {year} ({first} i {last})"),
    "year_label": ("Financial year {period}", "Blwyddyn ariannol {period}"),
    "counted_at": (
        "Counted at {at} (UK time) and unchanged since. Episodes count in the month they began, what "
        "children said in the month of the interview; the return-interview window is {hours} hours.",
        "Cyfrifwyd am {at} (amser y DU) a heb newid ers hynny. Mae cyfnodau'n cyfrif yn y mis y "
        "dechreuon nhw, yr hyn a ddywedodd plant ym mis y cyfweliad; mae'r cyfnod ar gyfer cyfweliad "
        "dychwelyd yn {hours} awr.",
    ),
    "no_figures": (
        "No figures yet. They are counted within a few minutes of the system starting.",
        "Dim ffigurau eto. Maen nhw'n cael eu cyfrif o fewn ychydig funudau i'r system ddechrau.",
    ),
    "no_such_period": ("There are no figures for that period.", "Nid oes ffigurau ar gyfer y cyfnod hwnnw."),
    "key_figures": ("Key figures", "Ffigurau allweddol"),
    "chart_title": (
        "Offered and interviewed within the window, by month",
        "Cynigiwyd a chyfwelwyd o fewn y cyfnod, fesul mis",
    ),
    "chart_month": (
        "{month}: {offered} offered, {interviewed} interviewed within the window.",
        "{month}: {offered} wedi cael cynnig, {interviewed} wedi cael cyfweliad o fewn y cyfnod.",
    ),
    "chart_note": (
        "A dash means nothing was due that month. The table below gives every figure.",
        "Mae llinell doriad yn golygu nad oedd dim yn ddyledus y mis hwnnw. Mae'r tabl isod yn rhoi pob ffigur.",
    ),
    "series_offered": ("% offered within the window", "% a gynigiwyd o fewn y cyfnod"),
    "series_interviewed": ("% interviewed within the window", "% a gyfwelwyd o fewn y cyfnod"),
    "all_figures": ("All figures", "Pob ffigur"),
    "figure": ("Figure", "Ffigur"),
    "download_csv": ("Download these figures (CSV)", "Lawrlwytho'r ffigurau hyn (CSV)"),
    "fig_episodes": ("Episodes that began", "Cyfnodau a ddechreuodd"),
    "fig_children": ("Children", "Plant"),
    "fig_in_area": ("placed in your area", "wedi'u lleoli yn eich ardal"),
    "fig_out_of_area": ("placed out of your area", "wedi'u lleoli y tu allan i'ch ardal"),
    "fig_returned": ("Returned", "Wedi dychwelyd"),
    "fig_windows_closed": ("window closed", "cyfnod wedi cau"),
    "fig_windows_open": ("window still open", "cyfnod yn dal ar agor"),
    "fig_offers_decided": (
        "Offer decided (window closed, offered, declined or not offered)",
        "Cynnig wedi'i benderfynu (cyfnod wedi cau, cynigiwyd, gwrthodwyd neu heb ei gynnig)",
    ),
    "fig_offered_within_window": ("offered within the window", "cynigiwyd o fewn y cyfnod"),
    "fig_pct_offered_within_window": ("% offered within the window", "% a gynigiwyd o fewn y cyfnod"),
    "fig_declined": ("the child declined (after an offer)", "gwrthododd y plentyn (ar ôl cynnig)"),
    "fig_unable_to_contact": (
        "the provider could not reach the child (an attempt)",
        "methodd y darparwr â chyrraedd y plentyn (ymgais)",
    ),
    "fig_not_offered": ("recorded as not offered", "cofnodwyd na chafodd ei gynnig"),
    "fig_interviews_decided": (
        "Interview decided (window closed or interview held)",
        "Cyfweliad wedi'i benderfynu (cyfnod wedi cau neu gyfweliad wedi'i gynnal)",
    ),
    "fig_completed_within_window": ("interviewed within the window", "cyfwelwyd o fewn y cyfnod"),
    "fig_pct_completed_within_window": ("% interviewed within the window", "% a gyfwelwyd o fewn y cyfnod"),
    "fig_breaches": (
        "Breaches (no offer within the window)",
        "Achosion o dorri'r terfyn (dim cynnig o fewn y cyfnod)",
    ),
    "fig_breach_alerts": ("Breach alerts raised", "Rhybuddion torri'r terfyn a godwyd"),
    "fig_tasks": ("Return-interview tasks", "Tasgau cyfweliad dychwelyd"),
    "fig_accepted": ("accepted by a provider", "derbyniwyd gan ddarparwr"),
    "fig_pct_accepted": ("% accepted by a provider", "% a dderbyniwyd gan ddarparwr"),
    "fig_repeat_missing_alerts": ("Repeat missing alerts", "Rhybuddion ar goll dro ar ôl tro"),
    "fig_exploitation_alerts": ("Exploitation alerts", "Rhybuddion camfanteisio"),
    "navigation": ("Pages", "Tudalennau"),
}
DECLINE_REASONS = ("no_capacity", "conflict_of_interest", "outside_area", "language_unavailable")
STRINGS.update(VOICE_STRINGS)
CHILD_REASONS = ("did_not_want_to_talk", "spoke_to_someone_else", "other")
OUTCOMES = ("completed", "child_declined", "unable_to_contact")
NOT_OFFERED_REASONS = ("child_moved_abroad", "child_in_custody", "child_in_hospital", "other")
INDICATORS = ("cce", "county_lines", "cse", "trafficking", "other")
UNITS: dict[Lang, tuple[str, str, str]] = {"en": ("d", "h", "min"), "cy": ("d", "awr", "mun")}


def text(lang: Lang, key: str, **values: str) -> str:
    """The string for `key` in `lang`, with `{name}` places filled."""
    english, welsh = STRINGS[key]
    return (welsh if lang == "cy" else english).format(**values)


def when(moment: datetime | None) -> str:
    """A moment as councils read it: UK local time, day and time."""
    return moment.astimezone(LONDON).strftime("%d/%m/%Y %H:%M") if moment else ""


def left(lang: Lang, span: timedelta) -> str:
    """A time left, in days, hours and minutes ('2 d 5 h 12 min')."""
    minutes = max(int(span.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    d, h, m = UNITS[lang]
    parts = ([f"{days} {d}"] if days else []) + ([f"{hours} {h}"] if days or hours else []) + [f"{mins} {m}"]
    return " ".join(parts)
