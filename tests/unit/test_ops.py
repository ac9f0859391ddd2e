"""The operations command explains itself and never reads webhook bodies (they name children)."""

import pytest
from typer.testing import CliRunner

from services.notifier.operations.ops import app
from services.notifier.webhooks import store as delivery_store
from shared.operator_guard import AUDITED_ENV


@pytest.fixture(autouse=True)
def started_by_mtp(monkeypatch: pytest.MonkeyPatch) -> None:
    """As `mtp deliveries` starts the command, once the audit trail has it."""
    monkeypatch.setenv(AUDITED_ENV, "cli:deliveries")


def test_help_names_every_command_and_state() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for word in ("list", "replay", "enable-endpoint", "failed", "gone", "disabled", "refused"):
        assert word in result.output


def test_listing_queries_never_select_a_body() -> None:
    for query in (delivery_store.LIST_DELIVERIES, delivery_store.LIST_DISABLED_ENDPOINTS):
        assert "body" not in query


def test_replay_needs_ids_or_a_state() -> None:
    result = CliRunner().invoke(app, ["replay", "--database-url", "postgresql://unused"])
    assert result.exit_code != 0


def test_an_unreachable_database_is_one_line_not_a_traceback() -> None:
    result = CliRunner().invoke(app, ["list", "--database-url", "postgresql://ops@127.0.0.1:1/none"])
    assert result.exit_code == 1
    assert "cannot reach the notifier's database" in result.output
    assert "Traceback" not in result.output


def test_replay_refuses_an_org_beside_ids_rather_than_ignoring_it() -> None:
    result = CliRunner().invoke(
        app,
        ["replay", "12", "15", "--org", "nyas-cymru", "--database-url", "postgresql://ops@127.0.0.1:1/none"],
    )
    assert result.exit_code == 2
    assert "--org" in result.output
