"""`python -m services.scheduler.migrate [--grant ROLE]`: apply the scheduler schema's migrations as the schema's
owner (MTP_DATABASE_URL) and give scheduler's own database role its rows (`mtp migrate` runs this for
every service)."""

from services.scheduler.app import MIGRATIONS
from services.scheduler.store import SCHEMA
from shared.migrations import migrate_command
from shared.outbox import outbox_migrations

app = migrate_command(SCHEMA, MIGRATIONS, builtin=outbox_migrations(SCHEMA))

if __name__ == "__main__":
    app()
