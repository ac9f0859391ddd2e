-- The figures are counted in SQL, month by month, and only for the months whose rows changed
-- (figures_loop.py): when a read-model row was last written, and when a moment it holds that was
-- still ahead of the clock when written (an offer or interview stamped a little in the future) comes.
ALTER TABLE scheduler.episodes
    ADD COLUMN updated_at timestamptz,
    ADD COLUMN recount_at timestamptz;
ALTER TABLE scheduler.interview_tasks ADD COLUMN updated_at timestamptz;
CREATE INDEX episodes_by_update ON scheduler.episodes (updated_at);
CREATE INDEX episodes_by_recount ON scheduler.episodes (recount_at) WHERE recount_at IS NOT NULL;
CREATE INDEX tasks_by_update ON scheduler.interview_tasks (updated_at);
-- A task's figures belong to the month its first episode began in.
CREATE INDEX tasks_by_first_episode ON scheduler.interview_tasks ((episode_ids[1]));
-- What was published about an episode or a task, found by its id (the second part of every key).
CREATE INDEX emitted_by_subject ON scheduler.emitted (split_part(key, ':', 2));
-- The counts last published for each period, so a quarter or a year is the sum of its months.
ALTER TABLE scheduler.figures_sent ADD COLUMN figures jsonb;
DROP INDEX scheduler.facts_by_time;
DROP INDEX scheduler.timers_by_fired;
DROP INDEX scheduler.facts_by_received;
