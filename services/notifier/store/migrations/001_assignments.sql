-- Every event applied, by CloudEvents source and id: repeats are ignored.
CREATE TABLE notifier.inbox (
    event_key    text PRIMARY KEY,
    received_at  timestamptz NOT NULL
);

-- Return-interview tasks to route, with the referral packet a provider may see (DOMAIN rule 13).
CREATE TABLE notifier.tasks (
    task_id       uuid PRIMARY KEY,
    child_key     text NOT NULL,
    episode_id    text NOT NULL,
    responsible_authority text NOT NULL,
    placement_authority   text NOT NULL,
    packet        jsonb NOT NULL,
    status        text NOT NULL,          -- assigned | exhausted | closed
    created_at    timestamptz NOT NULL
);

-- Who was asked, when, and why them: a provider is never asked twice for one task.
CREATE TABLE notifier.assignments (
    assignment_id uuid PRIMARY KEY,
    task_id       uuid NOT NULL REFERENCES notifier.tasks,
    provider_id   text NOT NULL,
    status        text NOT NULL,          -- offered | accepted | declined | expired | withdrawn | completed
    offered_at    timestamptz NOT NULL,
    accept_by     timestamptz NOT NULL,
    decided_at    timestamptz,
    routing       jsonb NOT NULL,
    UNIQUE (task_id, provider_id)
);
CREATE UNIQUE INDEX assignments_one_current ON notifier.assignments (task_id)
    WHERE status IN ('offered', 'accepted');
CREATE INDEX assignments_open_by_provider ON notifier.assignments (provider_id)
    WHERE status IN ('offered', 'accepted');

-- Webhook deliveries: rows with a due time, claimed with SKIP LOCKED under a lease.
CREATE TABLE notifier.deliveries (
    id              bigserial PRIMARY KEY,
    webhook_id      text NOT NULL UNIQUE,
    org_id          text NOT NULL,
    url             text NOT NULL,
    event_type      text NOT NULL,
    body            bytea NOT NULL,
    state           text NOT NULL DEFAULT 'pending',   -- pending | delivered | failed | gone | refused
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    created_at      timestamptz NOT NULL,
    delivered_at    timestamptz,
    last_status     integer,
    last_error      text
);
CREATE INDEX deliveries_due ON notifier.deliveries (next_attempt_at) WHERE state = 'pending';

CREATE TABLE notifier.delivery_attempts (
    delivery_id   bigint NOT NULL REFERENCES notifier.deliveries,
    attempt       integer NOT NULL,
    attempted_at  timestamptz NOT NULL,
    status        integer,
    latency_ms    double precision NOT NULL,
    error         text,
    PRIMARY KEY (delivery_id, attempt)
);
