-- The figures are counted in SQL, month by month, and only for the months that may have changed
-- (figures_loop.py): those a settle wrote rows of (noted in `figures_changes`), those in which a window
-- closed, and those holding a moment that was still ahead of the clock when its row was written (an
-- offer or interview stamped a little in the future).
CREATE TABLE scheduler.figures_changes (
    id         bigserial PRIMARY KEY,
    authority  text NOT NULL,
    month      date NOT NULL
);
ALTER TABLE scheduler.episodes ADD COLUMN recount_at timestamptz;
CREATE INDEX episodes_by_recount ON scheduler.episodes (recount_at) WHERE recount_at IS NOT NULL;
-- A task's figures belong to the month its first episode began in.
CREATE INDEX tasks_by_first_episode ON scheduler.interview_tasks ((episode_ids[1]));
-- What was published about an episode or a task, found by its id (the second part of every key).
CREATE INDEX emitted_by_subject ON scheduler.emitted (split_part(key, ':', 2));
-- The counts last published for each period, so a quarter or a year is the sum of its months.
ALTER TABLE scheduler.figures_sent ADD COLUMN figures jsonb;
DROP INDEX scheduler.facts_by_time;
DROP INDEX scheduler.timers_by_fired;
DROP INDEX scheduler.facts_by_received;
