"""`mtp deliveries` (`python -m services.notifier.operations.ops`): look at webhook deliveries that did not get through, and send them again.

Reads `MTP_DATABASE_URL`. Prints ids, organisation, event type, state, attempts and the last answer;
never a webhook body (bodies name children).
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from services.notifier.store import tables
from services.notifier.webhooks import queue
from services.notifier.webhooks import store as delivery_store
from shared.contracts.operations import WebhookTest
from shared.contracts.webhooks import sent_to
from shared.db import CONNECTION_ERRORS, create_pool
from shared.directory_file import DirectoryError, open_directory
from shared.operator_guard import require_audited

T = TypeVar("T")

app = typer.Typer(
    help=(
        "Webhook deliveries that did not get through, and replaying them.\n\n"
        "States: failed (every retry used up), gone (the receiver answered 410 Gone: its URL is now "
        "disabled), disabled (not sent because its URL is disabled), refused (the URL is not allowed: "
        "not https, or a private address). Replaying puts a delivery back to pending with its attempt "
        "count reset; it keeps its webhook-id, so a receiver that already has it can recognise it. "
        "Uses MTP_DATABASE_URL."
    ),
    epilog=(
        "Examples:  list  |  list --state failed --org nyas-cymru  |  replay 12 15  |  "
        "replay --state failed  |  enable-endpoint https://nyas.example/hooks/mtp  |  test nyas-cymru"
    ),
    no_args_is_help=True,
    add_completion=False,
)
DatabaseUrl = Annotated[
    str,
    typer.Option(envvar="MTP_DATABASE_URL", help="PostgreSQL DSN of the notifier's database."),
]
States = Annotated[
    list[str] | None,
    typer.Option("--state", "-s", help="Only this state (repeatable): failed, gone, disabled, refused."),
]
Org = Annotated[str | None, typer.Option("--org", help="Only deliveries to this organisation id.")]


def _states(given: list[str] | None) -> list[str]:
    states = given or list(delivery_store.PARKED_STATES)
    unknown = sorted(set(states) - set(delivery_store.PARKED_STATES))
    if unknown:
        raise typer.BadParameter(f"not a parked state: {', '.join(unknown)}", param_hint="--state")
    return states


def _with_pool(dsn: str, work: Callable[[tables.Pool], Awaitable[T]]) -> T:
    async def go() -> T:
        pool = await create_pool(dsn, service="notifier-ops", max_size=2)
        try:
            return await work(pool)
        finally:
            await pool.close()

    try:
        return asyncio.run(go())
    except CONNECTION_ERRORS as exc:
        typer.echo(
            f"cannot reach the notifier's database ({type(exc).__name__}): check MTP_DATABASE_URL", err=True
        )
        raise typer.Exit(1) from None


@app.command("list")
def list_(
    database_url: DatabaseUrl,
    state: States = None,
    org: Org = None,
    limit: Annotated[int, typer.Option(help="Show at most this many deliveries.")] = 200,
) -> None:
    """List deliveries that are failed, gone, disabled or refused, and the disabled endpoints."""
    require_audited("deliveries")
    states = _states(state)

    rows, endpoints = _with_pool(
        database_url, lambda pool: delivery_store.list_parked(pool, states, org, limit)
    )
    typer.echo(
        f"{'id':>8}  {'state':<9} {'attempts':>8}  {'last':>4}  {'org':<24} {'type':<28} webhook-id / error"
    )
    for row in rows:
        last = "" if row["last_status"] is None else str(row["last_status"])
        typer.echo(
            f"{row['id']:>8}  {row['state']:<9} {row['attempts']:>8}  {last:>4}  {row['org_id']:<24} "
            f"{row['event_type']:<28} {row['webhook_id']} {row['last_error'] or ''}".rstrip()
        )
    more = " (the oldest; there may be more: raise --limit)" if len(rows) >= limit else ""
    typer.echo(f"{len(rows)} deliveries{more}")
    if endpoints:
        typer.echo("\nDisabled endpoints (re-enable with `enable-endpoint URL`):")
        for endpoint in endpoints:
            typer.echo(
                f"  {endpoint['org_id']:<24} {endpoint['url']}  since {endpoint['disabled_at'].isoformat()}"
                f"  (410 to {endpoint['webhook_id']})"
            )


@app.command(
    help=(
        "Put deliveries back to pending with their attempts reset: the ids given, or every delivery in "
        "the --state(s) given (optionally for one --org). A delivery to a disabled endpoint is parked "
        "again until the endpoint is re-enabled."
    )
)
def replay(
    database_url: DatabaseUrl,
    ids: Annotated[list[int] | None, typer.Argument(help="Delivery ids from `list`.")] = None,
    state: States = None,
    org: Org = None,
) -> None:
    require_audited("deliveries")
    if not ids and not state:
        raise typer.BadParameter("give delivery ids, or --state to replay every delivery in that state")
    if ids and org:
        raise typer.BadParameter(
            "--org narrows a --state replay; with ids, give only the ids", param_hint="--org"
        )
    states = _states(state)
    now = datetime.now(UTC)

    replayed = _with_pool(
        database_url, lambda pool: delivery_store.replay(pool, ids=ids, states=states, org=org, now=now)
    )
    typer.echo(f"replayed {len(replayed)} deliveries: {', '.join(str(i) for i in replayed)}")


@app.command("enable-endpoint")
def enable_endpoint(
    url: Annotated[str, typer.Argument(help="The disabled URL, as `list` shows it.")],
    database_url: DatabaseUrl,
    replay_parked: Annotated[
        bool,
        typer.Option("--replay/--no-replay", help="Also replay the deliveries held back for this URL."),
    ] = True,
) -> None:
    """Let deliveries go to a URL again after it answered 410 Gone (once its owner says it is back)."""
    require_audited("deliveries")
    now = datetime.now(UTC)

    org_id, count = _with_pool(
        database_url,
        lambda pool: delivery_store.enable_endpoint(pool, url, replay_parked=replay_parked, now=now),
    )
    if org_id is None:
        typer.echo("that URL was not disabled")
    else:
        typer.echo(f"enabled {url} ({org_id})")
    typer.echo(f"replayed {count} deliveries")


@app.command("test")
def send_test(
    org_id: Annotated[str, typer.Argument(help="The organisation's id in the directory, e.g. nyas-cymru.")],
    database_url: DatabaseUrl,
    directory: Annotated[
        Path | None, typer.Option(envvar="MTP_DIRECTORY", help="The directory file (its URLs and secrets).")
    ] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the first answer.")] = 30.0,
) -> None:
    """Send the organisation a signed `webhook.test` (nothing about any child) through the notifier,
    as any webhook is sent, and say how its receiver answered."""
    try:
        found = open_directory(directory, allow_examples=True)
    except DirectoryError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    org = found.get(org_id)
    if org is None:
        known = ", ".join(o.id for o in found.organisations if o.delivery_url)
        typer.echo(f"{org_id} is not in the directory (with a webhook URL: {known})", err=True)
        raise typer.Exit(2)
    url = org.delivery_url
    if url is None or not sent_to(org.kind, WebhookTest(org_id=org.id, sent_at=datetime.now(UTC))):
        typer.echo(
            f"{org_id} receives no webhooks (no webhook URL in the directory, or a {org.kind})", err=True
        )
        raise typer.Exit(2)
    now = datetime.now(UTC)
    message_id = queue.webhook_id("test", org.id, now.isoformat())
    data = WebhookTest(org_id=org.id, sent_at=now)

    async def send_and_watch(pool: tables.Pool) -> Any:
        async with pool.acquire() as conn:
            await delivery_store.add_delivery(
                conn,
                webhook_id=message_id,
                org_id=org.id,
                url=url,
                event_type=data.type_name,
                body=queue.body(message_id, data, now),
                now=now,
            )
        deadline = time.monotonic() + wait
        while True:
            row = await delivery_store.delivery_state(pool, message_id)
            if (row["attempts"] > 0 and row["state"] != "pending") or time.monotonic() > deadline:
                return row
            if (row["attempts"] > 0 and row["last_status"] is not None) or row["last_error"]:
                return row
            await asyncio.sleep(0.2)

    typer.echo(f"sending {data.type_name} {message_id} to {url}")
    row = _with_pool(database_url, send_and_watch)
    answer = (
        f"status {row['last_status']}" if row["last_status"] is not None else row["last_error"] or "no answer"
    )
    took = f" in {row['latency_ms']:.0f} ms" if row["latency_ms"] is not None else ""
    if row["state"] == "delivered":
        typer.echo(f"delivered: {answer}{took}")
        return
    if row["attempts"] == 0:
        typer.echo(f"not sent within {wait:g} s: is the notifier running? (it stays queued)", err=True)
    else:
        typer.echo(
            f"not delivered ({row['state']}): {answer}{took}; the notifier retries it (mtp deliveries list)",
            err=True,
        )
    raise typer.Exit(1)


if __name__ == "__main__":
    app(prog_name="mtp deliveries")
