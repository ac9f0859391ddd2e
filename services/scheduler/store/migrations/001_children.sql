-- One row per child: locked while the child's events are applied, so instances never interleave.
CREATE TABLE scheduler.children (
    child_key   text PRIMARY KEY,
    updated_at  timestamptz NOT NULL
);

-- Every event applied, by CloudEvents source and id: the history the state is folded from, and the inbox.
CREATE TABLE scheduler.facts (
    fact_key     text PRIMARY KEY,
    child_key    text NOT NULL,
    type         text NOT NULL,
    time         timestamptz NOT NULL,
    data         jsonb NOT NULL,
    received_at  timestamptz NOT NULL
);
CREATE INDEX facts_by_child ON scheduler.facts (child_key);

-- Every task, warning and alert published, once each by its deterministic key.
CREATE TABLE scheduler.emitted (
    key           text PRIMARY KEY,
    child_key     text NOT NULL,
    type          text NOT NULL,
    due_at        timestamptz NOT NULL,
    emitted_at    timestamptz NOT NULL,
    late_seconds  double precision NOT NULL
);
CREATE INDEX emitted_by_child ON scheduler.emitted (child_key);

-- Durable timers: a moment at which a child's obligations must be looked at again.
CREATE TABLE scheduler.timers (
    id        bigserial PRIMARY KEY,
    child_key text NOT NULL,
    due_at    timestamptz NOT NULL,
    state     text NOT NULL DEFAULT 'pending',
    fired_at  timestamptz,
    UNIQUE (child_key, due_at)
);
-- Partial: claiming stays as cheap with a million pending timers as with ten thousand.
CREATE INDEX timers_pending_due ON scheduler.timers (due_at) WHERE state = 'pending';

-- Read models for people and reports, rewritten from the fold whenever a child changes.
CREATE TABLE scheduler.episodes (
    episode_id             uuid PRIMARY KEY,
    child_key              text NOT NULL,
    responsible_authority  text NOT NULL,
    placement_authority    text NOT NULL,
    kind                   text NOT NULL,
    started_at             timestamptz NOT NULL,
    ended_at               timestamptz,
    end_reason             text,
    risk_level             text NOT NULL,
    high_risk              boolean NOT NULL,
    exploitation_indicators text[] NOT NULL,
    task_id                uuid,
    offered_at             timestamptz
);
CREATE INDEX episodes_by_child ON scheduler.episodes (child_key);
CREATE INDEX episodes_by_authority ON scheduler.episodes (responsible_authority, started_at);

CREATE TABLE scheduler.interview_tasks (
    task_id                uuid PRIMARY KEY,
    child_key              text NOT NULL,
    episode_ids            uuid[] NOT NULL,
    returned_at            timestamptz NOT NULL,
    offer_due_at           timestamptz NOT NULL,
    accepted_at            timestamptz,
    offered_at             timestamptz,
    completed_at           timestamptz,
    outcome                text
);
CREATE INDEX tasks_by_child ON scheduler.interview_tasks (child_key);
