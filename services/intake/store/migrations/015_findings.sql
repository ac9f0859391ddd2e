-- What children said in their return interviews (docs/domain.md rule 30), as the provider recorded it
-- with `interview.completed`: shown to the child's responsible authority and nobody else; exported and
-- erased with the child. `findings` holds the codes and the child's own words.
CREATE TABLE intake.findings (
    findings_id text PRIMARY KEY,
    child_key text NOT NULL,
    assignment_id text NOT NULL,
    provider_id text NOT NULL,
    completed_at timestamptz NOT NULL,
    respond_by timestamptz NOT NULL,         -- the responsible authority's answer is due (rule 31)
    findings jsonb NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX findings_of_child ON intake.findings (child_key, completed_at);

-- The responsible authority's answers (rule 31): what it did, whether the child was told. One first
-- answer per findings; later ones say they correct it, and all are kept.
CREATE TABLE intake.responses (
    org_id text NOT NULL,
    event_id text NOT NULL,
    findings_id text NOT NULL,
    child_key text NOT NULL,
    responded_at timestamptz NOT NULL,
    corrects boolean NOT NULL,
    child_told boolean NOT NULL,
    actions jsonb NOT NULL,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, event_id)
);
CREATE UNIQUE INDEX responses_first ON intake.responses (findings_id) WHERE NOT corrects;
CREATE INDEX responses_of_child ON intake.responses (child_key);
