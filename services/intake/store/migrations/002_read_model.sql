-- The read model intake builds from mtp.tasks.v1 and mtp.assignments.v1, and the audit trail.

-- Ids of the topic events already applied: redelivery changes nothing.
CREATE TABLE intake.applied (
    event_key   text        PRIMARY KEY,   -- "<source>|<id>"
    applied_at  timestamptz NOT NULL
);

ALTER TABLE intake.assignments
    ADD COLUMN accept_by   timestamptz,
    ADD COLUMN assigned_at timestamptz,
    ADD COLUMN reason      text;
CREATE INDEX assignments_child ON intake.assignments (child_key);

CREATE TABLE intake.episodes (
    episode_id            text        PRIMARY KEY,
    child_key             text        NOT NULL,
    placement_authority   text        NOT NULL,
    kind                  text        NOT NULL,
    started_at            timestamptz NOT NULL,
    risk_level            text        NOT NULL
);
CREATE INDEX episodes_child ON intake.episodes (child_key);

-- One row per return-interview task; window.* events fill in the warnings and the breach.
CREATE TABLE intake.tasks (
    task_id                  text        PRIMARY KEY,
    child_key                text        NOT NULL,
    episode_id               text        NOT NULL,
    placement_authority      text        NOT NULL,
    returned_at              timestamptz NOT NULL,
    offer_due_at             timestamptz NOT NULL,
    risk_level               text,
    exploitation_indicators  jsonb       NOT NULL DEFAULT '[]',
    preferred_language       text,
    warnings                 jsonb       NOT NULL DEFAULT '[]',
    breached_at              timestamptz
);
CREATE INDEX tasks_child ON intake.tasks (child_key);

CREATE TABLE intake.alerts (
    event_key    text        PRIMARY KEY,
    child_key    text        NOT NULL,
    episode_id   text        NOT NULL,
    alert_type   text        NOT NULL,
    raised_at    timestamptz NOT NULL,
    details      jsonb       NOT NULL
);
CREATE INDEX alerts_child ON intake.alerts (child_key);

-- Who read or wrote which child's record, when (DOMAIN rule 20). Codes and ids only, never free text.
CREATE TABLE intake.audit (
    seq          bigserial   PRIMARY KEY,
    at           timestamptz NOT NULL,
    org_id       text        NOT NULL,
    api_key_id   text        NOT NULL,
    action       text        NOT NULL,
    child_key    text,
    event_id     text
);
CREATE INDEX audit_child ON intake.audit (child_key, seq);
CREATE INDEX audit_org ON intake.audit (org_id, seq);

-- Which organisation sent events about which child: a police force may read what it reported.
CREATE INDEX events_child_org ON intake.events (child_key, org_id);
