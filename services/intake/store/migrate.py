"""`python -m services.intake.store.migrate [--grant ROLE]`: apply the intake schema's migrations as the schema's
owner (MTP_DATABASE_URL) and give intake's own database role its rows (`mtp migrate` runs this for
every service). Intake's audit trail stays append-only for its role."""

from pathlib import Path

from services.intake.store.base import SCHEMA
from shared.migrations import migrate_command
from shared.outbox import outbox_migrations

MIGRATIONS = Path(__file__).parent / "migrations"

app = migrate_command(SCHEMA, MIGRATIONS, builtin=outbox_migrations(SCHEMA), append_only=("audit",))

if __name__ == "__main__":
    app()
