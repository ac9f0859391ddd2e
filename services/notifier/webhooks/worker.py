"""The delivery worker: lease due webhooks, sign and POST them, record every attempt.

Each delivery runs as its own task under a concurrency limit, so a receiver that hangs until the
timeout holds one slot and one connection, not the others. A receiver answering 410 Gone has its URL
disabled in the same transaction as the attempt; later deliveries to it are parked as `disabled` for
an operator's replay. Leases outlast the timeout: if an instance dies mid-POST the lease runs out
and another instance sends the same webhook again, with the same `webhook-id`.
"""

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import aiohttp
import structlog
from standardwebhooks.webhooks import Webhook

from services.notifier.core import metrics
from services.notifier.core.settings import NotifierSettings
from services.notifier.store import tables
from services.notifier.store.writes import Writes
from services.notifier.webhooks import addresses, queue, sending
from services.notifier.webhooks import store as delivery_store
from services.notifier.webhooks.attempt_facts import attempt_fact
from services.notifier.webhooks.backoff import parse_retry_after, retry_delay
from services.notifier.webhooks.handoff import Handoff, delivery_lease
from services.notifier.webhooks.recording import AttemptRecorder
from shared.clock import Clock
from shared.contracts.operations import EndpointDisabled
from shared.db import LOOP_ERRORS, listen_until_stopped
from shared.directory import Organisation
from shared.live_directory import LiveDirectory
from shared.waits import wait_any

log = structlog.get_logger()


def url_refusal(
    url: str,
    *,
    allow_http_loopback: bool,
    allow_private: bool,
    allow_http_hosts: frozenset[str] = frozenset(),
) -> str | None:
    """Why a webhook URL may not be called, or None: https only; plain http to loopback or to named
    hosts only when configuration allows it; no literal address it may not reach, however spelt (names
    are checked on every address they resolve to, when connecting: addresses.GuardedResolver)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host:
        return "no_host"
    address = addresses.literal_address(host)
    if address is not None:
        reason = addresses.refusal(address, allow_loopback=allow_http_loopback, allow_private=allow_private)
        if reason is not None:
            return reason
    loopback = host == "localhost" or (address is not None and address.is_loopback)
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and ((loopback and allow_http_loopback) or host in allow_http_hosts):
        return None
    return "not_https"


def current_url(org: Organisation | None, queued: str) -> str:
    """Where a delivery goes now. It was queued with the organisation's URL of that moment; if the
    directory no longer names that URL (an http URL fixed to https, a provider that moved after a 410
    Gone), retries and replays go to the organisation's current one."""
    if org is None or org.delivery_url is None or queued in (org.delivery_url, org.escalation_url):
        return queued
    return org.delivery_url


def sign(secrets: Sequence[str], message_id: str, at: datetime, body: bytes) -> dict[str, str]:
    """Standard Webhooks headers for a body, signed with each of the organisation's secrets (two while
    it rotates: a receiver holding either verifies it)."""
    signature = " ".join(Webhook(secret).sign(message_id, at, body.decode()) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/cloudevents+json",
    }


class DeliveryWorker:
    """Delivers due webhooks until stopped: those handed over at commit by this instance's consumer,
    and those it claims (retries, other queues, a crashed instance's expired leases)."""

    def __init__(
        self,
        pool: tables.Pool,
        directory: LiveDirectory,
        clock: Clock,
        settings: NotifierSettings,
        handoff: Handoff | None = None,
    ) -> None:
        self._pool = pool
        self._directory = directory
        self._clock = clock
        self._settings = settings
        self._slots = asyncio.Semaphore(settings.delivery_concurrency)
        self._wake = asyncio.Event()
        self._notified = True  # look for due deliveries once at start
        self._in_flight: set[asyncio.Task[None]] = set()
        self._lease = delivery_lease(settings)
        self._handoff = handoff if handoff is not None else Handoff(self._lease)
        self._recorder = AttemptRecorder(pool, settings.delivery_poll_seconds, settings.topic_namespace)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; finish what is in flight."""
        listener = asyncio.create_task(self._listen(stop))
        recorder = asyncio.create_task(self._recorder.run())
        settings = self._settings
        resolver = addresses.GuardedResolver(
            allow_loopback=settings.webhook_allow_http_loopback,
            allow_private=settings.webhook_allow_private_networks,
        )
        http = sending.session(settings.delivery_concurrency, settings.webhook_timeout_seconds, resolver)
        claim_at = 0.0  # when (monotonic) to look for due deliveries again without being told
        async with http:
            try:
                while not stop.is_set():
                    # Cleared before looking, so what arrives while we work still wakes us.
                    self._wake.clear()
                    self._handoff.arrived.clear()
                    await self._start(http, self._handoff.take(self._free()))
                    if self._free() <= 0:
                        await asyncio.sleep(0.01)
                        continue
                    if self._notified or time.monotonic() >= claim_at:
                        self._notified = False
                        try:
                            claim_at = time.monotonic() + await self._claim(http)
                        except LOOP_ERRORS as exc:
                            log.warning("delivery_claim_retrying", error=type(exc).__name__)
                            claim_at = time.monotonic() + self._settings.delivery_poll_seconds
                    wait = claim_at - time.monotonic()
                    if wait > 0:
                        await wait_any(stop, self._wake, self._handoff.arrived, timeout=wait)
            finally:
                listener.cancel()
                if self._in_flight:
                    await asyncio.wait(self._in_flight, timeout=self._settings.webhook_timeout_seconds + 2)
                self._recorder.close()
                await recorder

    def _free(self) -> int:
        return self._settings.delivery_concurrency - len(self._in_flight)

    async def _claim(self, http: aiohttp.ClientSession) -> float:
        """Lease and start what is due; how long until more may be due."""
        free = self._free()
        claimed = await delivery_store.claim_deliveries(self._pool, self._clock.now(), self._lease, free)
        await self._start(http, claimed)
        # A full claim: more may be due already. Otherwise sleep until the next one is
        # (at least a moment: what is due but was not claimed is another instance's).
        return 0.0 if len(claimed) == free else max(await self._until_next(), 0.01)

    async def _start(self, http: aiohttp.ClientSession, deliveries: list[delivery_store.Claimed]) -> None:
        for item in deliveries:
            await self._slots.acquire()
            task = asyncio.create_task(self._deliver(http, item))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _until_next(self) -> float:
        next_due = await delivery_store.next_delivery(self._pool)
        poll = self._settings.delivery_poll_seconds
        if next_due is None:
            return poll
        seconds: float = (next_due - self._clock.now()).total_seconds()
        return min(max(seconds, 0.0), poll)

    async def _deliver(self, http: aiohttp.ClientSession, item: delivery_store.Claimed) -> None:
        try:
            await self._attempt(http, item)
        except Exception:
            log.exception("delivery_crashed", webhook_id=item.webhook_id, org=item.org_id)
        finally:
            self._slots.release()

    async def _attempt(self, http: aiohttp.ClientSession, item: delivery_store.Claimed) -> None:
        org = self._directory.current.get(item.org_id)
        url = current_url(org, item.url)
        if url != item.url:  # the directory moved the organisation since this was queued
            item = dataclasses.replace(item, url=url, disabled=False)
        now = self._clock.now()
        settings = self._settings
        refusal = url_refusal(
            item.url,
            allow_http_loopback=settings.webhook_allow_http_loopback,
            allow_private=settings.webhook_allow_private_networks,
            allow_http_hosts=frozenset(settings.webhook_allow_http_hosts),
        )
        if org is None or not org.signing_secrets:
            refusal = "unknown_recipient"
        if item.disabled:
            await self._park(item, now)
            return
        if refusal is not None:
            await self._finish(delivery_store.Outcome(item, "refused", now, now, None, 0.0, refusal))
            metrics.DELIVERIES.labels(outcome="refused").inc()
            log.error("webhook_refused", webhook_id=item.webhook_id, org=item.org_id, reason=refusal)
            return
        assert org is not None
        headers = sign(org.signing_secrets, item.webhook_id, now, item.body)
        started = time.perf_counter()
        answer = await sending.post(http, item.url, item.body, headers, settings.response_body_limit)
        status, error = answer.status, answer.error
        retry_after = parse_retry_after(answer.retry_after, now)
        latency_ms = (time.perf_counter() - started) * 1000
        metrics.DELIVERY_SECONDS.observe(latency_ms / 1000)
        done_at = self._clock.now()
        if status is not None and 200 <= status < 300:
            state, next_at = "delivered", done_at
        elif status == 410:
            state, next_at = "gone", done_at
        elif item.attempt >= settings.max_delivery_attempts:
            state, next_at = "failed", done_at
            log.error(
                "webhook_failed",
                webhook_id=item.webhook_id,
                org=item.org_id,
                attempts=item.attempt,
                status=status,
                error=error,
            )
        else:
            state = "pending"
            next_at = done_at + timedelta(
                seconds=retry_delay(item.attempt, retry_after, base=settings.retry_base_seconds)
            )
        if state == "gone":
            async with self._pool.acquire() as conn, conn.transaction():
                outcome = delivery_store.Outcome(item, state, done_at, next_at, status, latency_ms, error)
                await delivery_store.record_attempt(conn, outcome, self._fact(outcome))
                if await delivery_store.disable_endpoint(conn, item, done_at):
                    await self._alert_operations(conn, item, done_at)
        else:
            self._recorder.add(
                delivery_store.Outcome(item, state, done_at, next_at, status, latency_ms, error)
            )
        metrics.DELIVERIES.labels(outcome=state if state != "pending" else "retry").inc()
        log.info(
            "webhook_attempted",
            webhook_id=item.webhook_id,
            org=item.org_id,
            event_type=item.event_type,
            attempt=item.attempt,
            status=status,
            error=error,
            outcome=state,
            duration_ms=round(latency_ms, 2),
        )

    def _fact(self, outcome: delivery_store.Outcome) -> delivery_store.OutboxRow:
        return attempt_fact(outcome, self._settings.topic_namespace)

    async def _finish(self, outcome: delivery_store.Outcome) -> None:
        """Record an attempt that called nobody (refused or parked), and its fact, at once."""
        await delivery_store.finish_attempt(self._pool, outcome, self._fact(outcome))

    async def _park(self, item: delivery_store.Claimed, now: datetime) -> None:
        """The URL answered 410 earlier: keep the delivery for a replay, without calling."""
        await self._finish(delivery_store.Outcome(item, "disabled", now, now, None, 0.0, "endpoint_disabled"))
        metrics.DELIVERIES.labels(outcome="disabled").inc()
        log.warning("webhook_parked", webhook_id=item.webhook_id, org=item.org_id, reason="endpoint_disabled")

    async def _alert_operations(
        self, conn: tables.Connection, item: delivery_store.Claimed, at: datetime
    ) -> None:
        """Tell operations an endpoint is gone: an error line always, a webhook when they have a URL."""
        log.error(
            "webhook_endpoint_disabled",
            webhook_id=item.webhook_id,
            org=item.org_id,
            event_type=item.event_type,
        )
        notice = EndpointDisabled(
            org_id=item.org_id,
            url=item.url,
            webhook_id=item.webhook_id,
            event_type=item.event_type,
            disabled_at=at,
        )
        writes = Writes()  # claimable by any instance's worker
        for ops in self._directory.current.of_kind("ops"):
            # Never alert an endpoint about itself: it would only be parked.
            if ops.delivery_url is not None and ops.delivery_url != item.url:
                queue.enqueue(writes, org=ops, cause=f"disabled:{item.webhook_id}", data=notice, now=at)
        await writes.flush(conn)

    def _on_notify(self, *_: object) -> None:
        self._notified = True
        self._wake.set()

    async def _listen(self, stop: asyncio.Event) -> None:
        await listen_until_stopped(
            self._pool,
            delivery_store.DELIVERY_CHANNEL,
            self._on_notify,
            stop,
            self._settings.delivery_poll_seconds,
        )
