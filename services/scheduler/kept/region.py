"""A step's region: where it begins (the last return known before anything the step reports), the
episode events it holds, and what each withdrawal and risk change of it applies to in the whole history
(`engine.py` tells why a step need look no further)."""

from datetime import datetime, timedelta

from services.scheduler.domain.episodes import Episode
from services.scheduler.domain.history import Entry
from services.scheduler.kept.loaded import Loaded, Need, NeedMore
from services.scheduler.kept.rows import FactNote
from shared.contracts.episodes import Cancelled, MissingReported, Returned, RiskChanged

EPISODE_EVENTS = (MissingReported, Returned, RiskChanged, Cancelled)


def boundary(loaded: Loaded, step: list[Entry]) -> datetime | None:
    """Where the step's region begins: at the last return known before the step that is no later
    than anything the step reports (nor than a boundary asked for before, `Loaded.caps`), and no
    earlier than the settle's own region."""
    reach = min(_reach(loaded, fact) for fact in step if isinstance(fact.data, EPISODE_EVENTS))
    key = step[-1].key
    if key in loaded.caps:
        cap = loaded.caps[key]
        if cap is None:  # the whole history
            if loaded.since is not None:
                raise NeedMore(Need(wider=True, reach=None, step=key))
            return None
        reach = min(reach, cap)
    since = loaded.since
    if since is not None and since > reach:
        raise NeedMore(Need(wider=True, reach=reach, step=key))
    first = step[0].known
    returns = [
        f.happened_at
        for f in loaded.facts.values()
        if isinstance(f.data, Returned)
        and f.from_intake
        and f.known < first
        and f.happened_at <= reach
        and (since is None or f.happened_at >= since)
    ]
    return max(returns, default=since)


def _reach(loaded: Loaded, fact: Entry) -> datetime:
    """The earliest moment an event's report is about (a withdrawal by report id: its report's,
    which the archive loads with it)."""
    data = fact.data
    if isinstance(data, Cancelled) and data.report_id is not None:
        target = loaded.facts.get(f"{fact.key.split('|', 1)[0]}|{data.report_id}")
        if target is not None:
            return min(target.happened_at, fact.happened_at)
    return fact.happened_at


def region_facts(
    loaded: Loaded, since: datetime | None, last: tuple[int, int, datetime, str]
) -> dict[str, Entry]:
    """The episodes' events known by the step that the region holds."""
    known = {
        key: f
        for key, f in loaded.facts.items()
        if isinstance(f.data, EPISODE_EVENTS) and f.from_intake and f.known <= last
    }
    if since is None:
        return known
    found = {key: f for key, f in known.items() if _in_region(f, since)}
    for key, f in known.items():  # a withdrawal of a report of the region, whenever it was sent
        data = f.data
        target = data.report_id if isinstance(data, Cancelled) else None
        if target is not None and f"{key.split('|', 1)[0]}|{target}" in found:
            found[key] = f
    return found


def attribution(
    since: datetime | None,
    facts: dict[str, Entry],
    withdrew: dict[str, list[str]],
    risk_targets: dict[str, str | None],
    episodes: list[Episode],
    step: str,
    *,
    before: dict[str, Episode],
    notes: dict[str, FactNote],
) -> dict[str, tuple[str, ...]]:
    """What each withdrawal and risk change of the region applies to in the whole history: the
    region's answer or, where the region finds nothing, what it applied to before outside the
    region (which the step did not change). Asks for a wider region when the answer moved across
    the region's boundary, or may have (one learnt now that finds nothing in the region).

    `episodes` are the region's, as grouped again; `before`, every episode as the last step left it;
    `notes`, what each event applied to as the last step left it."""
    if since is None:
        found = {key: tuple(targets) for key, targets in withdrew.items()}
        return found | {key: (target,) if target else () for key, target in risk_targets.items()}
    wider = NeedMore(Need(wider=True, reach=_earlier(since), step=step))
    reports = {key for key, f in facts.items() if isinstance(f.data, MissingReported)}
    region_ids = {e.episode_id for e in episodes}
    region_ids |= {eid for eid, e in before.items() if e.started_at >= since}
    found = {}
    for key, targets in withdrew.items():
        previous = _applied_to(notes, key)
        named = _named_report(facts[key])
        if named is not None and named not in reports:
            found[key] = previous or ()  # a report before the region, taken back or not as before
            continue
        outside = bool(previous) and not set(previous or ()) <= reports
        if targets or named is not None:
            if outside:
                raise wider  # it took back a report before the region, and now one in it
            found[key] = tuple(targets)
        elif previous is None or (previous and not outside):
            raise wider  # it may take back a report before the region
        else:
            found[key] = previous
    for key, target in risk_targets.items():
        previous = _applied_to(notes, key)
        outside = bool(previous) and (previous or ("",))[0] not in region_ids
        if target is not None:
            if outside:
                raise wider  # it applied to an episode before the region, and now to one in it
            found[key] = (target,)
        elif previous is None or (previous and not outside):
            raise wider  # it may apply to an episode before the region
        else:
            found[key] = previous
    return found


def _applied_to(notes: dict[str, FactNote], key: str) -> tuple[str, ...] | None:
    note = notes.get(key)
    return note.applied_to if note is not None else None


def _named_report(fact: Entry) -> str | None:
    """The report a withdrawal names, if it names one."""
    data = fact.data
    if isinstance(data, Cancelled) and data.report_id is not None:
        return f"{fact.key.split('|', 1)[0]}|{data.report_id}"
    return None


def _in_region(fact: Entry, since: datetime) -> bool:
    moment = fact.happened_at
    if isinstance(fact.data, Returned):
        return moment > since
    return moment >= since


def _earlier(since: datetime) -> datetime:
    """A moment just before `since`: the region must begin at an earlier return."""
    return since - timedelta(microseconds=1)
