-- How many events about each child intake has accepted: each new one is numbered next (its `childseq`,
-- a CloudEvents extension attribute on the topics), so consumers know the order the system learnt of a
-- child's events and can tell when one has not reached them yet. The row is locked while a request
-- numbers its events, so two requests about one child are numbered, and published, one after the other.
CREATE TABLE intake.child_sequences (
    child_key  text   PRIMARY KEY,
    last_seq   bigint NOT NULL
);

-- Which episodes and tasks the read model has learnt of, with what the scheduler said since.
ALTER TABLE intake.episodes
    ADD COLUMN ended_at             timestamptz,
    ADD COLUMN end_reason           text,
    ADD COLUMN exploitation_indicators jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN preferred_language   text;
ALTER TABLE intake.tasks
    ADD COLUMN episode_ids  jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN closed_reason text;
