-- The NRM decision each episode with signs of exploitation is owed (docs/domain.md rule 34): the
-- responsible authority records it; one not recorded in the response time is reminded once.
CREATE TABLE scheduler.nrm (
    episode_id text PRIMARY KEY,
    child_key text NOT NULL,
    responsible_authority text NOT NULL,
    placement_authority text NOT NULL,
    indicators text[] NOT NULL,
    due_at timestamptz NOT NULL,
    decided_at timestamptz,
    decision text,
    reminded_at timestamptz,
    next_at timestamptz
);
CREATE INDEX nrm_next ON scheduler.nrm (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX nrm_of_child ON scheduler.nrm (child_key);
