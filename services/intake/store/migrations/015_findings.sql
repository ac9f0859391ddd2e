-- What children said in their return interviews (docs/domain.md rule 30), as the provider recorded it
-- with `interview.completed`: shown to the child's responsible authority and to the provider that held
-- the interview, nobody else; exported and erased with the child. `findings` holds the codes and the
-- child's own words.
CREATE TABLE intake.findings (
    findings_id text PRIMARY KEY,
    child_key text NOT NULL,
    assignment_id text NOT NULL,
    provider_id text NOT NULL,
    completed_at timestamptz NOT NULL,
    findings jsonb NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX findings_of_child ON intake.findings (child_key, completed_at);
