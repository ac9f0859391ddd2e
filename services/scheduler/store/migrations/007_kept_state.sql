-- The kept state (kept/rows.py): each child's fold as its last settle left it, so that a new event or
-- a timer folds one step from it rather than replaying the child's whole history.

-- How far each child's history is folded, and what waits. Children folded before this release have none
-- yet (`kept` false): each is folded once more from its start, by the upgrade loop or at its next event.
ALTER TABLE scheduler.children
    ADD COLUMN state jsonb,
    ADD COLUMN kept boolean NOT NULL DEFAULT false;
ALTER TABLE scheduler.children ALTER COLUMN kept SET DEFAULT true;
CREATE INDEX children_to_keep ON scheduler.children (child_key) WHERE NOT kept;

-- Each event says when what it reports happened (episode events only: a step's region is found by it),
-- what it is about (a withdrawal's report, a "not offered" record's episode, a provider report's
-- assignment, the notifier's task), and what a step made of it (the reports a withdrawal took back, or
-- the episode a risk change applied to).
ALTER TABLE scheduler.facts
    ADD COLUMN happened_at timestamptz,
    ADD COLUMN subject     text,
    ADD COLUMN applied_to  text[];
CREATE INDEX facts_by_happened ON scheduler.facts (child_key, happened_at) WHERE happened_at IS NOT NULL;
CREATE INDEX facts_by_subject ON scheduler.facts (subject) WHERE subject IS NOT NULL;
CREATE INDEX facts_by_child_seq ON scheduler.facts (child_key, seq);
DROP INDEX scheduler.facts_by_child;

-- An episode's and a task's kept state beside their read-model columns; `live`: time alone may still
-- bring something to publish about it (or, for a task, it is open), so every settle of the child loads it.
ALTER TABLE scheduler.episodes
    ADD COLUMN state jsonb,
    ADD COLUMN live  boolean NOT NULL DEFAULT false;
CREATE INDEX episodes_live ON scheduler.episodes (child_key) WHERE live;
CREATE INDEX episodes_by_child_start ON scheduler.episodes (child_key, started_at);
DROP INDEX scheduler.episodes_by_child;
ALTER TABLE scheduler.interview_tasks
    ADD COLUMN state jsonb,
    ADD COLUMN live  boolean NOT NULL DEFAULT false;
CREATE INDEX tasks_live ON scheduler.interview_tasks (child_key) WHERE live;

-- The reports of the absences each task's interview was held for: a return learnt later that splits one
-- of them finds the interview that covered it.
CREATE TABLE scheduler.held_reports (
    child_key  text NOT NULL,
    report_key text NOT NULL,
    task_id    uuid NOT NULL,
    PRIMARY KEY (report_key, task_id)
);
CREATE INDEX held_reports_by_child ON scheduler.held_reports (child_key);
