"""End to end: events accepted by intake over HTTP -> `assignment.offered` at a local webhook receiver."""

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from rich.progress import Progress

from bench.measures import summary_ms
from tests.receiver import serve_in_background
from tools.embedded import free_port

CARDIFF = "W06000015"


@dataclass
class OfferClock:
    """A receiver that notes when each child's offer arrives.

    A bare ASGI app: the load generator shares the machine with the system it measures, so it
    should spend as little CPU as it can."""

    port: int = field(default_factory=free_port)
    offers: dict[str, float] = field(default_factory=dict)
    assignments: dict[str, list[tuple[str, float]]] = field(default_factory=dict)  # child -> each offer
    webhooks: int = 0
    _server: Any = None
    _task: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.webhooks += 1
        event = json.loads(b"".join(chunks))
        if event["type"] == "assignment.offered":
            child, now = event["data"]["referral"]["child_ref"], time.perf_counter()
            self.offers.setdefault(child, now)
            self.assignments.setdefault(child, []).append((event["data"]["assignment_id"], now))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def __aenter__(self) -> "OfferClock":
        self._server, self._task = await serve_in_background(self, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.should_exit = True
        await asyncio.wait([self._task], timeout=5)


def _report(child: str, now: datetime) -> dict[str, Any]:
    return {"specversion": "1.0", "id": f"r-{child}", "type": "missing.reported", "data": {
        "child_ref": child, "responsible_authority": CARDIFF, "placement_authority": CARDIFF, "kind": "missing",
        "missing_since": (now - timedelta(hours=3)).isoformat(), "risk_level": "medium",
        "police_force": "bench-police", "police_reference": "B-1"}}  # fmt: skip


def _return(child: str, now: datetime) -> dict[str, Any]:
    data = {
        "child_ref": child,
        "responsible_authority": CARDIFF,
        "returned_at": (now - timedelta(minutes=1)).isoformat(),
    }
    return {"specversion": "1.0", "id": f"b-{child}", "type": "missing.returned", "data": data}


async def latency(
    intake_url: str,
    key: str,
    clock: OfferClock,
    rate: float,
    seconds: float,
    progress: Progress,
    warmup_seconds: float = 0.0,
) -> dict[str, Any]:
    """Children at `rate / 2` per second (a report and a return each): return accepted -> offer received.

    The first `warmup_seconds` run at the same rate but are not measured: they pay for what happens
    once per process (pool connections opened, statements prepared), not for what each event costs."""
    headers = {"authorization": f"Bearer {key}", "content-type": "application/cloudevents+json"}
    warmup = int(rate / 2 * warmup_seconds)
    children = int(rate / 2 * seconds)
    task = progress.add_task(f"end to end at {rate:.0f} events/s", total=children)
    returned_at: dict[str, float] = {}
    run = uuid.uuid4().hex[:6]
    async with _client(intake_url, headers, connections=50) as client:

        async def one(child: str, measured: bool) -> None:
            now = datetime.now(UTC)
            async with client.post("/v1/events", json=_report(child, now)) as answer:
                await answer.read()
            async with client.post("/v1/events", json=_return(child, now)) as answer:
                await answer.read()
                if answer.status == 202 and measured:
                    returned_at[child] = time.perf_counter()

        started = time.perf_counter()
        pending = []
        for i in range(warmup + children):
            await asyncio.sleep(max(started + i / (rate / 2) - time.perf_counter(), 0))
            pending.append(asyncio.create_task(one(f"L{run}-{i}", measured=i >= warmup)))
        await asyncio.gather(*pending)
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline and not all(c in clock.offers for c in returned_at):
            progress.update(task, completed=sum(1 for c in returned_at if c in clock.offers))
            await asyncio.sleep(0.2)
        progress.update(task, completed=children)
    samples = [clock.offers[c] - t for c, t in returned_at.items() if c in clock.offers]
    return {
        "rate": rate,
        "warmup_s": warmup_seconds,
        "children": children,
        "offers": len(samples),
        **summary_ms(samples),
    }


def _client(base_url: str, headers: dict[str, str], connections: int) -> aiohttp.ClientSession:
    """aiohttp rather than httpx here: about a tenth of the CPU per request, left to the system measured."""
    return aiohttp.ClientSession(
        base_url=base_url,
        headers=headers,
        connector=aiohttp.TCPConnector(limit=connections),
        timeout=aiohttp.ClientTimeout(total=30),
    )


async def backlog(metrics_urls: dict[str, str]) -> dict[str, float]:
    """Where work is queued right now: consumer lag per group and outbox rows per service."""
    found: dict[str, float] = {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as client:
        for label, url in metrics_urls.items():
            async with client.get(f"{url}/metrics") as answer:
                text = await answer.text()
            for line in text.splitlines():
                if line.startswith(("mtp_consumer_lag_messages{", "mtp_outbox_backlog{")):
                    name, value = line.rsplit(" ", 1)
                    found[f"{label}:{name}"] = found.get(f"{label}:{name}", 0.0) + float(value)
    return found


async def sustained(
    intake_url: str,
    key: str,
    clock: OfferClock,
    rate: float,
    seconds: float,
    progress: Progress,
    metrics_urls: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Batches of reports and returns at `rate` events/s for `seconds`; offers per second that came out."""
    headers = {"authorization": f"Bearer {key}", "content-type": "application/cloudevents-batch+json"}
    per_tick, tick = int(rate / 10), 0.1
    run = uuid.uuid4().hex[:6]
    children: list[str] = []
    task = progress.add_task(f"sustained {rate:.0f} events/s for {seconds:.0f} s", total=seconds)
    accepted = 0
    async with _client(intake_url, headers, connections=100) as client:

        async def post(batch: list[dict[str, Any]]) -> int:
            async with client.post("/v1/events", json=batch) as answer:
                return len(await answer.json()) if answer.status == 202 else 0

        started = time.perf_counter()
        ticks = int(seconds / tick)
        inflight: list[asyncio.Task[int]] = []
        for t in range(ticks):
            await asyncio.sleep(max(started + t * tick - time.perf_counter(), 0))
            now = datetime.now(UTC)
            batch = []
            for i in range(per_tick // 2):
                child = f"S{run}-{t}-{i}"
                children.append(child)
                batch += [_report(child, now), _return(child, now)]
            inflight.append(asyncio.create_task(post(batch)))
            progress.update(task, completed=t * tick)
        accepted = sum(await asyncio.gather(*inflight))
        sent_s = time.perf_counter() - started
        queued = await backlog(metrics_urls) if metrics_urls else {}
        deadline = time.perf_counter() + 120
        while time.perf_counter() < deadline and sum(1 for c in children if c in clock.offers) < len(
            children
        ):
            await asyncio.sleep(0.5)
        done_s = time.perf_counter() - started
    offered = sum(1 for c in children if c in clock.offers)
    progress.update(task, completed=seconds)
    return {
        "offered_load_events_per_s": rate,
        "accepted_events": accepted,
        "accept_events_per_s": round(accepted / sent_s),
        "offers": offered,
        "children": len(children),
        "end_to_end_events_per_s": round(2 * offered / done_s),
        "drain_s": round(done_s - sent_s, 1),
        "backlog_when_sending_ended": queued,
    }
