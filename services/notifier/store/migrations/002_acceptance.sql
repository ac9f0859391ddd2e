-- What providers reported about their assignments, and when.
ALTER TABLE notifier.assignments
    ADD COLUMN reason            text,          -- why it ended: declined code, acceptance_timeout
    ADD COLUMN child_offered_at  timestamptz,   -- interview.offered: the duty of the 72-hour window
    ADD COLUMN completed_at      timestamptz,
    ADD COLUMN outcome           text;

-- Offers waiting for an answer, found by their deadline (the acceptance timer).
CREATE INDEX assignments_awaiting ON notifier.assignments (accept_by) WHERE status = 'offered';

-- Every provider report, applied or not: an event about an assignment that is no longer current is
-- kept here with what was decided, so nothing a provider said disappears.
CREATE TABLE notifier.interview_reports (
    event_key     text PRIMARY KEY,
    assignment_id text NOT NULL,
    event_type    text NOT NULL,
    decision      text NOT NULL,           -- applied | not_current | unknown_assignment | not_holder
    received_at   timestamptz NOT NULL
);

-- Endpoints that answered 410 Gone: nothing more is sent there until operations re-enable them.
CREATE TABLE notifier.disabled_endpoints (
    url          text PRIMARY KEY,
    org_id       text NOT NULL,
    webhook_id   text NOT NULL,            -- the delivery that was told 410
    disabled_at  timestamptz NOT NULL
);

-- A replay starts the attempt count again; `round` keeps the earlier attempts on record.
ALTER TABLE notifier.deliveries ADD COLUMN round integer NOT NULL DEFAULT 0;
ALTER TABLE notifier.delivery_attempts ADD COLUMN round integer NOT NULL DEFAULT 0;
ALTER TABLE notifier.delivery_attempts DROP CONSTRAINT delivery_attempts_pkey;
ALTER TABLE notifier.delivery_attempts ADD PRIMARY KEY (delivery_id, round, attempt);
