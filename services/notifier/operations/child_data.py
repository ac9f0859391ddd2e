"""`python -m services.notifier.operations.child_data export|erase AUTHORITY/CHILD_REF`: the child's rows in the
notifier's tables (`mtp child` runs this for every service)."""

from services.notifier.store.tables import CHILD_ROWS
from shared.child_data import command

app = command("notifier", CHILD_ROWS)

if __name__ == "__main__":
    app()
