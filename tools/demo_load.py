"""`mtp demo`: send the demo plan to intake at an accelerated pace, then answer as the providers.

It speaks only HTTP: to intake as police, councils and providers (with the demo keys), and to the demo
webhook receiver, which stands in for the providers' systems, to learn the assignments offered to them.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tools.demo_plan import Send, plan, provider_report, provider_reports

CONTENT = {"content-type": "application/cloudevents+json"}


@dataclass
class Tally:
    """What intake answered, by who sent it."""

    answers: Counter[str] = field(default_factory=Counter)
    assignments: set[str] = field(default_factory=set)
    providers_refused: bool = False  # intake refused a provider report even after waiting


async def run_demo(
    *,
    intake: str,
    receiver: str,
    keys: dict[str, str],
    children: int,
    days: int,
    rate: float,
    wait: float,
    seed: int,
    console: Console,
) -> Tally:
    """Send the police and council events; answer as the providers for what they are offered."""
    now = datetime.now(UTC)
    sends = plan(children, days, now, tag=f"{seed % 100000:05d}", seed=seed)
    tally = Tally()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    async with httpx.AsyncClient(timeout=10) as client:
        with Progress(*columns, console=console) as progress:
            reports = progress.add_task("police and council reports", total=len(sends))
            offers = progress.add_task("providers' answers", total=0)
            seen: dict[str, dict[str, Any]] = {}
            sent = asyncio.Event()
            stop = asyncio.Event()
            watcher = asyncio.create_task(_watch_offers(client, receiver, keys["ops"], seen, stop))

            async def answer(assignment_id: str) -> None:
                answers = provider_reports(assignment_id, seed)
                progress.update(offers, total=(progress.tasks[offers].total or 0) + len(answers))
                for type_ in answers:
                    # Waiting for intake to learn an assignment is worth it until it has failed once.
                    send = provider_report(assignment_id, type_, datetime.now(UTC), seed)
                    patience = 0 if tally.providers_refused else 15
                    key = keys[seen[assignment_id]["org"]]
                    status = await _post(client, intake, key, send, tally, "provider", retry_for=patience)
                    tally.providers_refused = tally.providers_refused or status == 403
                    progress.advance(offers)

            # Providers answer while the reports go in, as they would: finished interviews free capacity.
            answering = asyncio.create_task(_answer_all(seen, answer, sent, wait))
            started = time.monotonic()
            for n, send in enumerate(sends):
                # Accelerated: a steady `rate` events a second, whatever the gaps between the events.
                await asyncio.sleep(max(started + n / rate - time.monotonic(), 0))
                await _post(client, intake, keys[send.org], send, tally, "report")
                progress.advance(reports)
            sent.set()
            await answering
            stop.set()
            await watcher
            tally.assignments = set(seen)
    return tally


async def _answer_all(
    seen: dict[str, dict[str, Any]],
    answer: Callable[[str], Awaitable[None]],
    sent: asyncio.Event,
    wait: float,
) -> None:
    """Answer each assignment once, until the reports are all sent and none has come for a while."""
    answered: set[str] = set()
    quiet_since = time.monotonic()
    deadline: float | None = None
    while True:
        fresh = [a for a in list(seen) if a not in answered]
        if fresh:
            quiet_since = time.monotonic()
        for assignment_id in fresh:
            answered.add(assignment_id)
            await answer(assignment_id)
        if sent.is_set():
            deadline = deadline or time.monotonic() + wait
            if time.monotonic() - quiet_since > 8 or time.monotonic() > deadline:
                return
        await asyncio.sleep(0.3)


async def _post(
    client: httpx.AsyncClient,
    intake: str,
    key: str,
    send: Send,
    tally: Tally,
    who: str,
    retry_for: float = 0,
) -> int:
    # A provider may report on an assignment only once intake has learnt it holds it: retry a while.
    deadline = time.monotonic() + retry_for
    while True:
        answer = await client.post(
            f"{intake}/v1/events", json=send.event, headers={**CONTENT, "authorization": f"Bearer {key}"}
        )
        if answer.status_code != 403 or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.5)
    tally.answers[f"{who} {answer.status_code}"] += 1
    return answer.status_code


async def _watch_offers(
    client: httpx.AsyncClient,
    receiver: str,
    ops_key: str,
    seen: dict[str, dict[str, Any]],
    stop: asyncio.Event,
) -> None:
    """Collect `assignment.offered` webhooks from the receiver (it keeps only the latest few hundred)."""
    while not stop.is_set():
        try:
            answer = await client.get(f"{receiver}/", headers={"authorization": f"Bearer {ops_key}"})
            for entry in answer.json() if answer.status_code == 200 else []:
                if entry.get("type") != "assignment.offered":
                    continue
                data = entry["event"]["data"]
                seen.setdefault(
                    data["assignment_id"],
                    {"org": entry["org"], "returned_at": data["referral"]["returned_at"]},
                )
        except httpx.HTTPError:
            pass  # the receiver is optional: without it, no provider answers
        try:
            await asyncio.wait_for(stop.wait(), timeout=0.3)
        except TimeoutError:
            continue
