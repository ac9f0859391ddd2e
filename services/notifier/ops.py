"""`mtp deliveries` (`python -m services.notifier.ops`): look at webhook deliveries that did not get through, and send them again.

Reads `MTP_DATABASE_URL`. Prints ids, organisation, event type, state, attempts and the last answer;
never a webhook body (bodies name children).
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import typer

from services.notifier import store
from shared.db import CONNECTION_ERRORS, create_pool

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
        "replay --state failed  |  enable-endpoint https://nyas.example/hooks/mtp"
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
    states = given or list(store.PARKED_STATES)
    unknown = sorted(set(states) - set(store.PARKED_STATES))
    if unknown:
        raise typer.BadParameter(f"not a parked state: {', '.join(unknown)}", param_hint="--state")
    return states


def _with_pool(dsn: str, work: Callable[[store.Pool], Awaitable[T]]) -> T:
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
    states = _states(state)

    rows, endpoints = _with_pool(database_url, lambda pool: store.list_parked(pool, states, org, limit))
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
    if not ids and not state:
        raise typer.BadParameter("give delivery ids, or --state to replay every delivery in that state")
    if ids and org:
        raise typer.BadParameter(
            "--org narrows a --state replay; with ids, give only the ids", param_hint="--org"
        )
    states = _states(state)
    now = datetime.now(UTC)

    replayed = _with_pool(
        database_url, lambda pool: store.replay(pool, ids=ids, states=states, org=org, now=now)
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
    now = datetime.now(UTC)

    org_id, count = _with_pool(
        database_url, lambda pool: store.enable_endpoint(pool, url, replay_parked=replay_parked, now=now)
    )
    if org_id is None:
        typer.echo("that URL was not disabled")
    else:
        typer.echo(f"enabled {url} ({org_id})")
    typer.echo(f"replayed {count} deliveries")


if __name__ == "__main__":
    app(prog_name="mtp deliveries")
