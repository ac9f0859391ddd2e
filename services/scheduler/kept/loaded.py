"""What a settle is given of a child's kept state (`Loaded`, as the stores load it), and what it asks to
have loaded when that is not enough (`Need`)."""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from services.scheduler.domain.history import Entry
from services.scheduler.kept.rows import FactNote, Json

# `since` for a settle that needs no region at all (no event of it says when something happened).
NO_REGION = datetime.max.replace(tzinfo=UTC)


@dataclass
class Loaded:
    """Part of a child's kept state, as the archive holds it, and the events a settle needs.

    Every event reported as happening at or after `since` (a return: after it) is among `facts`, and
    every episode that began at or after it among `episodes` (`since` None: the whole history;
    `NO_REGION`: none of it). `since` is always the moment of a return known before the settle, so
    no episode spans it."""

    child_key: str
    child: Json | None  # None: a child the scheduler has never seen
    since: datetime | None
    facts: dict[str, Entry] = field(default_factory=dict)
    notes: dict[str, FactNote] = field(default_factory=dict)
    episodes: dict[str, Json] = field(default_factory=dict)  # episode rows, by id
    tasks: dict[str, Json] = field(default_factory=dict)  # task rows, by id
    emitted: set[str] = field(default_factory=set)  # keys published about the loaded episodes and tasks
    earlier: dict[str, datetime] = field(
        default_factory=dict
    )  # live episodes begun in the repeat period before `since`
    held_by: dict[str, list[str]] = field(
        default_factory=dict
    )  # report -> tasks whose interview was held for it
    assignments: dict[str, str] = field(
        default_factory=dict
    )  # assignment id -> task id (the notifier's word)
    all_tasks: list[str] | None = None  # every task id of the child, when asked for
    absent: set[str] = field(default_factory=set)  # episode and task ids looked for and not found
    caps: dict[str, datetime | None] = field(default_factory=dict)  # step -> its region begins no later
    new: set[str] = field(default_factory=set)  # keys of the events this settle brings


@dataclass
class Need:
    """What a settle needs loaded before it can be done: a region reaching back to `reach` (`wider`; None:
    the whole history), rows by id, every task id of the child, or the whole history folded again."""

    wider: bool = False
    reach: datetime | None = None
    step: str | None = None  # the step (its last event's key) whose region must begin no later than `reach`
    episodes: set[str] = field(default_factory=set)
    tasks: set[str] = field(default_factory=set)
    all_tasks: bool = False
    rebuild: bool = False

    def __bool__(self) -> bool:
        return self.wider or bool(self.episodes or self.tasks) or self.all_tasks or self.rebuild


class NeedMore(Exception):
    """Raised inside a settle that cannot go on without what `need` says; `engine.settle` returns it."""

    def __init__(self, need: Need) -> None:
        self.need = need
