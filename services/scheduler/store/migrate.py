"""`python -m services.scheduler.store.migrate [--grant ROLE]`: apply the scheduler schema's migrations as the schema's
owner (MTP_DATABASE_URL) and give scheduler's own database role its rows (`mtp migrate` runs this for
every service)."""

from pathlib import Path

from services.scheduler.store.tables import SCHEMA
from shared.migrations import migrate_command
from shared.outbox import outbox_migrations

MIGRATIONS = Path(__file__).parent / "migrations"

app = migrate_command(SCHEMA, MIGRATIONS, builtin=outbox_migrations(SCHEMA))

if __name__ == "__main__":
    app()
