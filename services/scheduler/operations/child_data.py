"""`python -m services.scheduler.operations.child_data export|erase AUTHORITY/CHILD_REF`: the child's rows in the
scheduler's tables (`mtp child` runs this for every service)."""

from services.scheduler.store.tables import CHILD_ROWS
from shared.child_data import command

app = command("scheduler", CHILD_ROWS)

if __name__ == "__main__":
    app()
