-- Each organisation's webhook deliveries as the notifier published its attempts (mtp.deliveries.v1), for
-- GET /v1/deliveries: ids, types, times, states and answer codes; never a body (bodies name children).
CREATE TABLE intake.deliveries (
    webhook_id      text        PRIMARY KEY,
    org_id          text        NOT NULL,
    event_type      text        NOT NULL,
    queued_at       timestamptz NOT NULL,
    state           text        NOT NULL,
    round           integer     NOT NULL,   -- of the latest attempt known; one more per redelivery
    attempt         integer     NOT NULL,   -- the latest attempt's number within its round
    last_attempt_at timestamptz NOT NULL,
    last_status     integer,
    last_error      text,
    next_attempt_at timestamptz,
    redelivery_requested_at timestamptz,    -- the organisation's latest request to send it again ...
    redelivery_asked_in     integer         -- ... made while this round was the latest (one per round)
);
CREATE INDEX deliveries_by_org ON intake.deliveries (org_id, queued_at DESC, webhook_id DESC);

CREATE TABLE intake.delivery_attempts (
    webhook_id    text        NOT NULL REFERENCES intake.deliveries ON DELETE CASCADE,
    round         integer     NOT NULL,
    attempt       integer     NOT NULL,
    attempted_at  timestamptz NOT NULL,
    status        integer,
    latency_ms    double precision NOT NULL,
    error         text,
    state         text        NOT NULL,
    PRIMARY KEY (webhook_id, round, attempt)
);
