"""History length: a child who went missing 0, 50, 200 and 1,000 times before is served as fast as one
who never did.

Each child's earlier absences go through the system as they would in life, one after another: intake
takes the police report and the return, the scheduler asks for an interview, the notifier offers it to
the provider, and the provider accepts, offers and holds it (so the next return opens a task of its
own). The children are given their histories side by side. Then, on a quiet system, each child goes
missing and comes back `MEASURED` more times, the children taking turns, an absence at a time: the time
from the return's 202 to the provider's signed offer, and the scheduler's CPU per event it took in for
that child (its own count of the CPU it spent settling children, and its process's CPU, over the events
its history gained).
"""

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
from rich.progress import Progress

from bench.endtoend import CARDIFF, OfferClock, backlog
from bench.measures import percentile

LENGTHS = (0, 50, 200, 1000)
MEASURED = 20
SPACING = timedelta(days=2)  # between the starts of a child's earlier absences
# The events of a child's history (intake's and the notifier's).
HISTORY_EVENTS = "SELECT count(*) FROM scheduler.facts WHERE child_key = $1"
TAKEN_IN = "SELECT count(*) FROM scheduler.facts WHERE fact_key = $1"


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user and system)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Child:
    """One child, reported, returned and interviewed through the system."""

    def __init__(
        self, ref: str, police: aiohttp.ClientSession, provider: aiohttp.ClientSession, clock: OfferClock
    ):
        self.ref, self.police, self.provider, self.clock = ref, police, provider, clock
        self.absences = 0

    async def absence(self, start: datetime, back: datetime, interview: bool) -> float:
        """Report the child missing at `start`, returned at `back`; wait for the provider's offer and
        return the seconds from the return's 202 to it; then (with `interview`) hold the interview."""
        n, self.absences = self.absences, self.absences + 1
        offers = len(self.clock.assignments.get(self.ref, []))
        await _post(self.police, [_event(f"{self.ref}-r{n}", "missing.reported", {
            "child_ref": self.ref, "responsible_authority": CARDIFF, "placement_authority": CARDIFF,
            "kind": "missing", "missing_since": start.isoformat(), "risk_level": "medium",
            "police_force": "bench-police", "police_reference": f"{self.ref}-{n}"})])  # fmt: skip
        await _post(self.police, [_event(f"{self.ref}-b{n}", "missing.returned", {
            "child_ref": self.ref, "responsible_authority": CARDIFF, "returned_at": back.isoformat()})])  # fmt: skip
        returned = time.perf_counter()
        deadline = returned + 60
        while len(self.clock.assignments.get(self.ref, [])) <= offers:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"no offer for {self.ref} after its return {n}")
            await asyncio.sleep(0.002)  # poll the receiver's record of offers
        assignment, offered_at = self.clock.assignments[self.ref][offers]
        if interview:
            await self.interview(assignment, back, n)
        return offered_at - returned

    async def interview(self, assignment: str, back: datetime, n: int) -> None:
        """The provider accepts, offers and holds the interview (once intake knows it holds it)."""
        events = [
            _event(f"{self.ref}-a{n}", "interview.accepted", {"assignment_id": assignment}),
            _event(f"{self.ref}-o{n}", "interview.offered",
                   {"assignment_id": assignment, "offered_at": (back + timedelta(minutes=2)).isoformat()}),
            _event(f"{self.ref}-c{n}", "interview.completed", {
                "assignment_id": assignment, "completed_at": (back + timedelta(minutes=3)).isoformat(),
                "outcome": "completed", "exploitation_indicators": [], "safeguarding_concern": False}),
        ]  # fmt: skip
        deadline = time.perf_counter() + 30
        while not await _post(self.provider, events, refused_ok=True):
            if time.perf_counter() > deadline:
                raise TimeoutError(f"intake never learnt that the provider holds {assignment}")
            await asyncio.sleep(0.01)  # intake learns of the assignment from the notifier's topic


def _event(event_id: str, kind: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"specversion": "1.0", "id": event_id, "type": kind, "data": data}


async def _post(
    client: aiohttp.ClientSession, events: list[dict[str, Any]], refused_ok: bool = False
) -> bool:
    async with client.post("/v1/events", json=events) as answer:
        body = await answer.read()
        if answer.status in (200, 202):
            return True
        if refused_ok and answer.status in (403, 404, 422):
            return False
        raise RuntimeError(f"intake answered {answer.status}: {body[:300]!r}")


async def _settling(scheduler_url: str) -> tuple[float, float]:
    """The scheduler's own count of the CPU it spent settling children, and of the events it took in."""
    timeout = aiohttp.ClientTimeout(total=5)
    async with (
        aiohttp.ClientSession(timeout=timeout) as client,
        client.get(f"{scheduler_url}/metrics") as answer,
    ):
        text = await answer.text()
    found = {"cpu": 0.0, "events": 0.0}
    for line in text.splitlines():
        if line.startswith("mtp_scheduler_settle_cpu_seconds_total "):
            found["cpu"] = float(line.split()[1])
        elif line.startswith("mtp_scheduler_events_taken_in_total "):
            found["events"] = float(line.split()[1])
    return found["cpu"], found["events"]


async def _taken_in(conn: asyncpg.Connection, fact_key: str, seconds: float = 30) -> None:
    """Wait until the scheduler has stored an event."""
    deadline = time.monotonic() + seconds
    while not await conn.fetchval(TAKEN_IN, fact_key):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the scheduler never took in {fact_key}")
        await asyncio.sleep(0.005)


async def _quiet(metrics_urls: dict[str, str], seconds: float = 120) -> None:
    """Wait until nothing is queued anywhere (consumer lag and outboxes empty)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(value > 0 for value in (await backlog(metrics_urls)).values()):
            return
        await asyncio.sleep(0.05)


async def measure(
    intake_url: str,
    keys: dict[str, str],
    clock: OfferClock,
    database_url: str,
    scheduler_pid: int,
    metrics_urls: dict[str, str],
    progress: Progress,
    lengths: tuple[int, ...] = LENGTHS,
    measured: int = MEASURED,
) -> dict[str, Any]:
    """Give each child its history, then measure each one's next absences on a quiet system."""
    run = os.urandom(3).hex()
    sessions = {
        who: aiohttp.ClientSession(
            base_url=intake_url,
            headers={"authorization": f"Bearer {key}", "content-type": "application/cloudevents-batch+json"},
            timeout=aiohttp.ClientTimeout(total=30),
        )
        for who, key in keys.items()
    }
    try:
        children = {n: Child(f"H{n}-{run}", sessions["police"], sessions["provider"], clock) for n in lengths}
        now = datetime.now(UTC)
        task = progress.add_task("history: earlier absences", total=sum(lengths))

        async def history(n: int) -> None:
            first = now - timedelta(days=5) - SPACING * n
            for i in range(n):
                start = first + SPACING * i
                await children[n].absence(start, start + timedelta(hours=6), interview=True)
                progress.advance(task)

        started = time.perf_counter()
        await asyncio.gather(*(history(n) for n in lengths))
        seeded_s = time.perf_counter() - started
        found: dict[str, Any] = {"measured_absences": measured, "history_seconds": round(seeded_s, 1)}
        conn = await asyncpg.connect(database_url)
        try:
            await _quiet(metrics_urls)
            # The children take turns, an absence each, so that whatever else the machine does meanwhile
            # falls on all of them alike; each absence is counted from its report until everything it
            # set off has been taken in everywhere.
            base = datetime.now(UTC) - timedelta(minutes=10 * (measured + 1))
            totals = {n: {"cpu": 0.0, "events": 0.0, "process": 0.0, "latencies": []} for n in lengths}
            history_events = {
                n: await conn.fetchval(HISTORY_EVENTS, f"{CARDIFF}/{children[n].ref}") for n in lengths
            }
            task = progress.add_task("history: measured absences", total=measured * len(lengths))
            for k in range(measured):
                start = base + timedelta(minutes=10 * k)
                for n in lengths:
                    child, mine = children[n], totals[n]
                    before, process_before = (
                        await _settling(metrics_urls["scheduler"]),
                        cpu_seconds(scheduler_pid),
                    )
                    mine["latencies"].append(
                        await child.absence(start, start + timedelta(minutes=5), interview=True)
                    )
                    await _taken_in(conn, f"/orgs/provider|{child.ref}-c{child.absences - 1}")
                    await _quiet(metrics_urls)
                    after = await _settling(metrics_urls["scheduler"])
                    mine["cpu"] += after[0] - before[0]
                    mine["events"] += after[1] - before[1]
                    mine["process"] += cpu_seconds(scheduler_pid) - process_before
                    progress.advance(task)
            for n in lengths:
                mine = totals[n]
                events = max(mine["events"], 1)
                found[str(n)] = {
                    "earlier_absences": n,
                    "history_events": history_events[n],
                    "offer_p50_ms": round(percentile(mine["latencies"], 0.5) * 1000, 1),
                    "offer_max_ms": round(max(mine["latencies"]) * 1000, 1),
                    # the CPU the scheduler spent settling (its own clock), per event it took in
                    "scheduler_cpu_per_event_ms": round(1000 * mine["cpu"] / events, 3),
                    # and its whole process's, over the same time (counted in 10 ms ticks)
                    "scheduler_process_cpu_per_event_ms": round(1000 * mine["process"] / events, 3),
                    "events": int(mine["events"]),
                }
        finally:
            await conn.close()
        none = found[str(lengths[0])]
        for n in lengths[1:]:
            found[str(n)]["offer_vs_none"] = round(
                found[str(n)]["offer_p50_ms"] / max(none["offer_p50_ms"], 0.01), 2
            )
            found[str(n)]["cpu_vs_none"] = round(
                found[str(n)]["scheduler_cpu_per_event_ms"] / max(none["scheduler_cpu_per_event_ms"], 1e-6), 2
            )
        return found
    finally:
        for session in sessions.values():
            await session.close()
