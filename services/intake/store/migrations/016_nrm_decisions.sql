-- The responsible authority's NRM decisions (docs/domain.md rule 34), as sent with `nrm.decided`: shown
-- on its child page beside the episode they are for; exported and erased with the child. Codes only.
CREATE TABLE intake.nrm_decisions (
    org_id text NOT NULL,
    event_id text NOT NULL,
    child_key text NOT NULL,
    episode_id text NOT NULL,
    decision text NOT NULL,
    reason text,
    decided_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, event_id)
);
CREATE INDEX nrm_decisions_of_child ON intake.nrm_decisions (child_key);
