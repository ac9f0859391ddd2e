-- Reporting beside the offer duty (DOMAIN rules 5 and 6): each episode's own offer due time, whether its
-- offer came late, whether its window was breached (a late offer never clears it), and whether the
-- interview itself happened within the window.
ALTER TABLE scheduler.episodes
    ADD COLUMN offer_due_at timestamptz,
    ADD COLUMN offered_late boolean,
    ADD COLUMN breached     boolean NOT NULL DEFAULT false;
ALTER TABLE scheduler.interview_tasks
    ADD COLUMN completed_within_window boolean;
