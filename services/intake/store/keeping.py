"""What intake keeps and for how long: the rows retention removes, and a child's rows for export
and erasure."""

from shared.child_data import ChildTable
from shared.retention import Purge

# What intake removes once its retention period is over (shared/retention.py).
PURGES = (
    Purge(  # organisations' delivered webhooks as the API lists them (their attempts go with them)
        "intake.deliveries",
        "DELETE FROM intake.deliveries WHERE webhook_id IN (SELECT webhook_id FROM intake.deliveries "
        "WHERE state = 'delivered' AND last_attempt_at < $1 LIMIT $2) RETURNING webhook_id",
        lambda r: r.delivered_webhook_days,
    ),
    Purge(
        "intake.outbox",
        "DELETE FROM intake.outbox WHERE seq IN "
        "(SELECT seq FROM intake.outbox WHERE sent_at < $1 LIMIT $2) RETURNING seq",
        lambda r: r.published_outbox_days,
    ),
    Purge(
        "intake.applied",
        "DELETE FROM intake.applied WHERE event_key IN "
        "(SELECT event_key FROM intake.applied WHERE applied_at < $1 LIMIT $2) RETURNING event_key",
        lambda r: r.inbox_days,
    ),
    Purge(
        "intake.audit",
        # Append-only for intake's role: only the owner's function removes audit records (migration 005).
        "SELECT intake.purge_audit($1, $2)",
        lambda r: r.audit_days,
    ),
    # Web sessions end within 12 hours and sign-in failures count for 15 minutes: a day is plenty.
    Purge(
        "intake.web_sessions",
        "DELETE FROM intake.web_sessions WHERE id_sha256 IN "
        "(SELECT id_sha256 FROM intake.web_sessions WHERE seen_at < $1 LIMIT $2) RETURNING id_sha256",
        lambda r: 1.0,
    ),
    Purge(
        "intake.web_sign_in_failures",
        "DELETE FROM intake.web_sign_in_failures WHERE ctid IN "
        "(SELECT ctid FROM intake.web_sign_in_failures WHERE at < $1 LIMIT $2) RETURNING at",
        lambda r: 1.0,
    ),
)


# A child's rows in intake, for export and erasure (shared/child_data.py). The audit trail keeps its
# records of who read and wrote, with the child replaced by a pseudonym.
CHILD_ROWS = (
    ChildTable("intake.events", "t.child_key = $1"),
    ChildTable("intake.assignments", "t.child_key = $1"),
    ChildTable("intake.episodes", "t.child_key = $1"),
    ChildTable("intake.tasks", "t.child_key = $1"),
    ChildTable("intake.alerts", "t.child_key = $1"),
    ChildTable("intake.findings", "t.child_key = $1"),
    ChildTable("intake.responses", "t.child_key = $1"),
    ChildTable("intake.nrm_decisions", "t.child_key = $1"),
    ChildTable("intake.child_sequences", "t.child_key = $1"),
    ChildTable("intake.outbox", "t.key = $1"),
    ChildTable("intake.audit", "t.child_key = $1", erase="pseudonymise"),
)
