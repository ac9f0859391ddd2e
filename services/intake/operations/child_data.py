"""`python -m services.intake.operations.child_data export|erase AUTHORITY/CHILD_REF`: the child's rows in
intake's tables (`mtp child` runs this for every service), each run recorded in the audit trail."""

from services.intake.store.audit import record_operator_action
from services.intake.store.keeping import CHILD_ROWS
from shared.child_data import command

app = command("intake", CHILD_ROWS, audit=record_operator_action)

if __name__ == "__main__":
    app()
