-- Returns at which the child was arrested (docs/domain.md rule 34), until the episode they ended shows
-- signs of exploitation: then the responsible authority is told once that a possible victim was
-- treated as an offender (`alerted_at`).
CREATE TABLE scheduler.arrests (
    event_key text PRIMARY KEY,
    child_key text NOT NULL,
    returned_at timestamptz NOT NULL,
    alerted_at timestamptz
);
CREATE INDEX arrests_of_child ON scheduler.arrests (child_key) WHERE alerted_at IS NULL;
