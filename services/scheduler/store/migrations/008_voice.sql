-- The child's voice (docs/domain.md rules 30-31): each set of findings a provider recorded, the time
-- the responsible authority has to answer it, and the answers it sent. Apart from the episodes and
-- tasks the fold keeps: nothing here opens, closes or moves a window (rule 36). Codes only: the
-- child's words are not kept by the scheduler.
CREATE TABLE scheduler.findings (
    findings_id text PRIMARY KEY,
    child_key text NOT NULL,
    responsible_authority text NOT NULL,
    placement_authority text NOT NULL,
    episode_id text NOT NULL,
    completed_at timestamptz NOT NULL,
    respond_by timestamptz NOT NULL,
    remind_at timestamptz NOT NULL,
    reasons jsonb NOT NULL DEFAULT '[]',
    placement_view text,
    responded_at timestamptz,          -- the first answer's time: the one the figures judge
    child_told boolean,
    reminded_at timestamptz,           -- findings.response_due published
    overdue_at timestamptz,            -- findings.response_overdue published
    next_at timestamptz                -- when the voice loop looks at it next; null once nothing is due
);
CREATE INDEX findings_next ON scheduler.findings (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX findings_of_child ON scheduler.findings (child_key, completed_at);

-- Every answer, corrections included, as sent.
CREATE TABLE scheduler.findings_responses (
    event_key text PRIMARY KEY,
    findings_id text NOT NULL,
    child_key text NOT NULL,
    responded_at timestamptz NOT NULL,
    corrects boolean NOT NULL,
    child_told boolean NOT NULL,
    actions jsonb NOT NULL
);
CREATE INDEX findings_responses_of_child ON scheduler.findings_responses (child_key);
