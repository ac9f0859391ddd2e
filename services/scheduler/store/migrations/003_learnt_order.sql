-- Intake's number for each event among the child's (`childseq`): the order the system learnt of them.
-- Events published before numbering existed have none and are known in the order of their time.
ALTER TABLE scheduler.facts ADD COLUMN seq bigint;

-- What settles a window besides an offer (DOMAIN rule 27), kept apart in the read model and the figures:
-- the child declined (with a reason code), the provider could not reach the child (an attempt, not an
-- offer), or the council recorded it as not offered (with a reason code).
ALTER TABLE scheduler.episodes
    ADD COLUMN declined_at          timestamptz,
    ADD COLUMN decline_reason       text,
    ADD COLUMN attempted_at         timestamptz,
    ADD COLUMN not_offered_at       timestamptz,
    ADD COLUMN not_offered_reason   text,
    ADD COLUMN preferred_language   text;
ALTER TABLE scheduler.interview_tasks
    ADD COLUMN ended         text,
    ADD COLUMN ended_at      timestamptz;
