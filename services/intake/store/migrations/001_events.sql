-- Every event accepted, by the sending organisation's own id: the idempotency record.
CREATE TABLE intake.events (
    org_id       text        NOT NULL,
    event_id     text        NOT NULL,
    event_type   text        NOT NULL,
    fingerprint  text        NOT NULL,
    child_key    text,
    api_key_id   text        NOT NULL,
    received_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, event_id)
);

-- Who holds which assignment, learnt from mtp.assignments.v1: providers may report only on these.
CREATE TABLE intake.assignments (
    assignment_id  text PRIMARY KEY,
    provider_id    text NOT NULL,
    child_key      text NOT NULL,
    task_id        text NOT NULL,
    status         text NOT NULL,
    updated_at     timestamptz NOT NULL
);
